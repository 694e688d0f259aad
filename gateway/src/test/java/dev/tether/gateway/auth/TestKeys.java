package dev.tether.gateway.auth;

import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwkBuilder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;

/** Real key pairs and PEM text for the auth tests and integration tests, generated with the JDK alone. */
public final class TestKeys {

    private TestKeys() {}

    public static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    public static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** PEM armour around DER, 64 characters a line, as openssl writes it. */
    public static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** The PEM {@code PUBLIC KEY} block of a key pair's public half. */
    public static String publicPem(KeyPair pair) {
        return pem("PUBLIC KEY", pair.getPublic().getEncoded());
    }

    /**
     * The JSON of a public JWK, built with jjwt.
     *
     * @param kid the {@code kid}, or null for none
     * @param alg the {@code alg}, or null for none
     * @param use the {@code use}, or null for none
     */
    public static String jwk(PublicKey key, String kid, String alg, String use) {
        PublicJwkBuilder<?, ?, ?, ?, ?, ?> builder = Jwks.builder().key(key);
        if (kid != null) {
            builder.id(kid);
        }
        if (alg != null) {
            builder.algorithm(alg);
        }
        if (use != null) {
            builder.publicKeyUse(use);
        }
        return Jwks.json(builder.build());
    }

    /** A JWK Set of the given JWK JSON texts. */
    public static String jwkSet(String... jwks) {
        return "{\"keys\": [" + String.join(", ", List.of(jwks)) + "]}";
    }
}
