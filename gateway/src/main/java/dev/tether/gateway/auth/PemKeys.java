package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the operator's token verification keys: PEM {@code -----BEGIN PUBLIC KEY-----} blocks
 * (X.509 SubjectPublicKeyInfo, what {@code openssl pkey -pubout} writes) holding an RSA key of at
 * least 2048 bits for {@code RS256} or an EC P-256 key for {@code ES256}.
 *
 * <p>Anything else is refused with an {@link IllegalArgumentException} that says what was found
 * and what is expected, without repeating the PEM text: private keys (a sign that the wrong file
 * was configured), PKCS#1 {@code RSA PUBLIC KEY} blocks, certificates, keys of the wrong type or
 * size. Stateless and thread-safe; called while loading configuration, not on an event loop.
 */
public final class PemKeys {

    private static final Pattern PUBLIC_KEY =
            Pattern.compile("-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\\s]*)-----END PUBLIC KEY-----");

    private PemKeys() {}

    /**
     * Reads one public key from PEM text.
     *
     * @param pem       text holding one {@code PUBLIC KEY} block (text around it is ignored)
     * @param algorithm {@code "RS256"} or {@code "ES256"}
     * @throws IllegalArgumentException if there is no usable public key for that algorithm
     */
    public static PublicKey readPublicKey(String pem, String algorithm) {
        requireNonNull(pem, "pem");
        requireNonNull(algorithm, "algorithm");
        JwsAlgorithm alg = JwsAlgorithm.require(algorithm, JwsAlgorithm.Family.RSA, JwsAlgorithm.Family.EC);
        if (pem.contains("PRIVATE KEY-----")) {
            throw new IllegalArgumentException("PEM holds a private key (expected: -----BEGIN PUBLIC KEY-----; "
                    + "derive it with: openssl pkey -in private.pem -pubout)");
        }
        if (pem.contains("-----BEGIN RSA PUBLIC KEY-----")) {
            throw new IllegalArgumentException(
                    "PEM holds a PKCS#1 RSA PUBLIC KEY (expected: -----BEGIN PUBLIC KEY-----; "
                            + "convert with: openssl rsa -RSAPublicKey_in -in key.pem -pubout)");
        }
        if (pem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException("PEM holds a certificate (expected: -----BEGIN PUBLIC KEY-----; "
                    + "extract it with: openssl x509 -in cert.pem -pubkey -noout)");
        }
        Matcher m = PUBLIC_KEY.matcher(pem);
        if (!m.find()) {
            throw new IllegalArgumentException("no -----BEGIN PUBLIC KEY----- block found");
        }
        if (m.find()) {
            throw new IllegalArgumentException("more than one PUBLIC KEY block (expected: exactly one)");
        }
        m.reset();
        m.find();
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("PUBLIC KEY block is not valid base64");
        }
        PublicKey key = decode(der, alg);
        return KeyChecks.checkPublicKey(key, alg);
    }

    /**
     * Reads one public key from a PEM file.
     *
     * @throws IllegalArgumentException naming the file, if it holds no usable key for the algorithm
     * @throws UncheckedIOException     if the file cannot be read
     */
    public static PublicKey readPublicKey(Path file, String algorithm) {
        requireNonNull(file, "file");
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read public key file " + file, e);
        }
        try {
            return readPublicKey(pem, algorithm);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static PublicKey decode(byte[] der, JwsAlgorithm alg) {
        boolean rsa = alg.family == JwsAlgorithm.Family.RSA;
        PublicKey key = tryDecode(der, rsa ? "RSA" : "EC");
        if (key != null) {
            return key;
        }
        if (tryDecode(der, rsa ? "EC" : "RSA") != null) {
            throw new IllegalArgumentException("PEM holds " + (rsa ? "an EC key" : "an RSA key") + ", but " + alg
                    + " needs " + (rsa ? "an RSA key" : "an EC P-256 key"));
        }
        throw new IllegalArgumentException("PUBLIC KEY block is not an RSA or EC public key");
    }

    private static PublicKey tryDecode(byte[] der, String keyType) {
        try {
            return KeyFactory.getInstance(keyType).generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            return null;
        }
    }
}
