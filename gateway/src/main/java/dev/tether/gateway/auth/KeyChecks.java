package dev.tether.gateway.auth;

import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks that a key is strong enough for, and of the right kind for, a {@link JwsAlgorithm}.
 * Messages never include key material.
 */
final class KeyChecks {

    private static final ECParameterSpec P256 = curve("secp256r1");

    private KeyChecks() {}

    /** Returns {@code key} if it may verify {@code alg} signatures, else throws IllegalArgumentException. */
    static PublicKey checkPublicKey(PublicKey key, JwsAlgorithm alg) {
        switch (alg.family) {
            case RSA -> {
                if (!(key instanceof RSAPublicKey rsa)) {
                    throw new IllegalArgumentException(alg + " needs an RSA public key, got " + describe(key));
                }
                int bits = rsa.getModulus().bitLength();
                if (bits < alg.keyBits) {
                    throw new IllegalArgumentException(
                            "RSA key is " + bits + " bits (expected: >= " + alg.keyBits + " bits for " + alg + ")");
                }
            }
            case EC -> {
                if (!(key instanceof ECPublicKey ec)) {
                    throw new IllegalArgumentException(alg + " needs an EC P-256 public key, got " + describe(key));
                }
                if (!isP256(ec.getParams())) {
                    throw new IllegalArgumentException("EC key is on a "
                            + ec.getParams().getCurve().getField().getFieldSize()
                            + "-bit curve other than P-256 (expected: P-256 for " + alg + ")");
                }
            }
            case HMAC -> throw new IllegalArgumentException(alg + " uses a shared secret, not a public key");
        }
        return key;
    }

    /** An HMAC key for {@code alg}; the secret must be at least as long as the hash (RFC 7518 3.2). */
    static SecretKey hmacKey(byte[] secret, JwsAlgorithm alg) {
        if (alg.family != JwsAlgorithm.Family.HMAC) {
            throw new IllegalArgumentException(alg + " is not an HMAC algorithm");
        }
        if (secret == null || secret.length == 0) {
            throw new IllegalArgumentException(alg + " needs an HMAC secret, none given");
        }
        if (secret.length * 8 < alg.keyBits) {
            throw new IllegalArgumentException("HMAC secret is " + secret.length + " bytes (expected: >= "
                    + alg.keyBits / 8 + " bytes for " + alg + ")");
        }
        return new SecretKeySpec(secret, alg.jcaName);
    }

    static String describe(PublicKey key) {
        return key == null ? "none" : key.getAlgorithm() + " key";
    }

    private static boolean isP256(ECParameterSpec p) {
        return p.getCurve().equals(P256.getCurve())
                && p.getGenerator().equals(P256.getGenerator())
                && p.getOrder().equals(P256.getOrder())
                && p.getCofactor() == P256.getCofactor();
    }

    private static ECParameterSpec curve(String name) {
        try {
            AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
            params.init(new ECGenParameterSpec(name));
            return params.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
