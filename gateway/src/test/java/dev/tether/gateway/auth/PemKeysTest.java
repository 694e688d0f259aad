package dev.tether.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemKeysTest {

    private static final KeyPair RSA = TestKeys.rsa(2048);
    private static final KeyPair EC = TestKeys.ec("secp256r1");

    @Test
    void rsaPublicKeyRoundTrips() {
        String pem = TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded());
        PublicKey key = PemKeys.readPublicKey(pem, "RS256");
        assertEquals(RSA.getPublic(), key);
    }

    @Test
    void ecPublicKeyRoundTrips() {
        String pem = TestKeys.pem("PUBLIC KEY", EC.getPublic().getEncoded());
        PublicKey key = PemKeys.readPublicKey(pem, "ES256");
        assertArrayEquals(EC.getPublic().getEncoded(), key.getEncoded());
    }

    @Test
    void toleratesSurroundingTextAndCrLf() {
        String pem = "# gateway verification key\r\n"
                + TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded()).replace("\n", "\r\n");
        assertEquals(RSA.getPublic(), PemKeys.readPublicKey(pem, "RS256"));
    }

    @Test
    void readsFromFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ec.pem");
        Files.writeString(file, TestKeys.pem("PUBLIC KEY", EC.getPublic().getEncoded()));
        assertArrayEquals(
                EC.getPublic().getEncoded(),
                PemKeys.readPublicKey(file, "ES256").getEncoded());
    }

    @Test
    void fileErrorsNameTheFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("private.pem");
        Files.writeString(file, TestKeys.pem("PRIVATE KEY", RSA.getPrivate().getEncoded()));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(file, "RS256"));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertThrows(UncheckedIOException.class, () -> PemKeys.readPublicKey(dir.resolve("missing.pem"), "RS256"));
    }

    @Test
    void privateKeyPemIsRejected() {
        for (String type : new String[] {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}) {
            String pem = TestKeys.pem(type, RSA.getPrivate().getEncoded());
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(pem, "RS256"));
            assertTrue(e.getMessage().contains("private key"), e.getMessage());
            assertNoKeyMaterial(e, pem);
        }
    }

    @Test
    void privateKeyPemIsRejectedEvenWithAPublicKeyBeside() {
        String pem = TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded())
                + TestKeys.pem("PRIVATE KEY", RSA.getPrivate().getEncoded());
        assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(pem, "RS256"));
    }

    @Test
    void rsaUnder2048BitsIsRejected() {
        String pem = TestKeys.pem("PUBLIC KEY", TestKeys.rsa(1024).getPublic().getEncoded());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(pem, "RS256"));
        assertTrue(e.getMessage().contains("1024"), e.getMessage());
        assertTrue(e.getMessage().contains("2048"), e.getMessage());
    }

    @Test
    void wrongKeyTypeForAlgorithmIsRejected() {
        String rsaPem = TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded());
        String ecPem = TestKeys.pem("PUBLIC KEY", EC.getPublic().getEncoded());
        IllegalArgumentException rsaAsEc =
                assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(rsaPem, "ES256"));
        assertTrue(rsaAsEc.getMessage().contains("RSA"), rsaAsEc.getMessage());
        IllegalArgumentException ecAsRsa =
                assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(ecPem, "RS256"));
        assertTrue(ecAsRsa.getMessage().contains("EC"), ecAsRsa.getMessage());
    }

    @Test
    void ecKeyOnAnotherCurveIsRejected() {
        String pem =
                TestKeys.pem("PUBLIC KEY", TestKeys.ec("secp384r1").getPublic().getEncoded());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(pem, "ES256"));
        assertTrue(e.getMessage().contains("P-256"), e.getMessage());
    }

    @Test
    void unsupportedAlgorithmIsRejected() {
        String pem = TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded());
        for (String alg : new String[] {"HS256", "RS512", "PS256", "none", "rs256"}) {
            assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(pem, alg), alg);
        }
    }

    @Test
    void otherPemContentIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey("", "RS256"));
        assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey("not a pem", "RS256"));
        assertThrows(
                IllegalArgumentException.class,
                () -> PemKeys.readPublicKey(TestKeys.pem("CERTIFICATE", new byte[] {1, 2, 3}), "RS256"));
        assertThrows(
                IllegalArgumentException.class,
                () -> PemKeys.readPublicKey(TestKeys.pem("RSA PUBLIC KEY", new byte[] {1, 2, 3}), "RS256"));
        assertThrows(
                IllegalArgumentException.class,
                () -> PemKeys.readPublicKey(TestKeys.pem("PUBLIC KEY", new byte[] {1, 2, 3}), "RS256"));
        assertThrows(
                IllegalArgumentException.class,
                () -> PemKeys.readPublicKey("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----", "RS256"));
        String ed = TestKeys.pem("PUBLIC KEY", edKey());
        assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(ed, "ES256"));
        String two = TestKeys.pem("PUBLIC KEY", RSA.getPublic().getEncoded())
                + TestKeys.pem("PUBLIC KEY", TestKeys.rsa(2048).getPublic().getEncoded());
        assertThrows(IllegalArgumentException.class, () -> PemKeys.readPublicKey(two, "RS256"));
    }

    private static byte[] edKey() {
        try {
            return KeyPairGenerator.getInstance("Ed25519")
                    .generateKeyPair()
                    .getPublic()
                    .getEncoded();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertNoKeyMaterial(Exception e, String pem) {
        for (String line : pem.lines().toList()) {
            if (!line.startsWith("-----") && line.length() > 8) {
                assertFalse(e.getMessage().contains(line), "message repeats key material: " + e.getMessage());
            }
        }
    }
}
