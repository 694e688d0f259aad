package dev.tether.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jsonwebtoken.security.Jwks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** JWK Set parsing (through jjwt), inline and file PEM, and what messages may show. */
class KeySourceTest {

    private static final KeyPair RSA = TestKeys.rsa(2048);
    private static final KeyPair RSA_2 = TestKeys.rsa(2048);
    private static final KeyPair RSA_3 = TestKeys.rsa(2048);
    private static final KeyPair EC = TestKeys.ec("secp256r1");
    private static final KeyPair EC_384 = TestKeys.ec("secp384r1");
    private static final Set<String> BOTH = Set.of("RS256", "ES256");

    @TempDir
    Path dir;

    private final List<String> skipped = new ArrayList<>();

    // ---- JWK Sets ----------------------------------------------------------------------------

    @Test
    void jwkSetGivesEveryKeyWithItsKidAndAlgorithmInOrder() {
        String json = TestKeys.jwkSet(
                TestKeys.jwk(RSA.getPublic(), "r1", "RS256", "sig"),
                TestKeys.jwk(EC.getPublic(), "e1", "ES256", null),
                TestKeys.jwk(RSA_2.getPublic(), null, null, null));
        List<PublicKeyEntry> keys = jwks(json, BOTH);
        assertEquals(
                List.of(
                        new PublicKeyEntry("r1", "RS256", RSA.getPublic()),
                        new PublicKeyEntry("e1", "ES256", EC.getPublic()),
                        new PublicKeyEntry(null, "RS256", RSA_2.getPublic())),
                keys);
        assertEquals(List.of(), skipped);
    }

    @Test
    void algorithmIsInferredFromTheKeyTypeWhenAbsent() {
        String json = TestKeys.jwkSet(
                TestKeys.jwk(RSA.getPublic(), "r", null, null), TestKeys.jwk(EC.getPublic(), "e", null, "sig"));
        List<PublicKeyEntry> keys = jwks(json, BOTH);
        assertEquals("RS256", keys.get(0).algorithm());
        assertEquals("ES256", keys.get(1).algorithm());
    }

    @Test
    void jwksThatCannotBeUsedAreSkippedAndReported() {
        String json = TestKeys.jwkSet(
                TestKeys.jwk(RSA.getPublic(), "enc", "RSA-OAEP", "enc"),
                // A different key each: jjwt's JwkSet holds equal keys once.
                TestKeys.jwk(RSA_3.getPublic(), "ps", "PS256", "sig"),
                TestKeys.jwk(EC.getPublic(), "ec-off", null, null),
                TestKeys.jwk(EC_384.getPublic(), "p384", null, null),
                TestKeys.jwk(RSA_2.getPublic(), "keep", null, null));
        List<PublicKeyEntry> keys = jwks(json, Set.of("RS256"));
        assertEquals(List.of(new PublicKeyEntry("keep", "RS256", RSA_2.getPublic())), keys);
        assertEquals(
                List.of(
                        "JWK keys[0] (kid enc) skipped: use is enc (expected: sig)",
                        "JWK keys[1] (kid ps) skipped: alg PS256 is not supported (expected: RS256 or ES256)",
                        "JWK keys[2] (kid ec-off) skipped: ES256 is not enabled in auth.algorithms",
                        "JWK keys[3] (kid p384) skipped: no alg, and a EC key is neither RSA nor EC P-256"),
                skipped);
    }

    @Test
    void aSetWithOnlySkippedKeysGivesNone() {
        assertEquals(List.of(), jwks(TestKeys.jwkSet(TestKeys.jwk(EC.getPublic(), "e", null, null)), Set.of("RS256")));
        assertEquals(1, skipped.size());
    }

    @Test
    void privateJwkIsRefusedWithoutShowingIt() {
        String privateJwk =
                Jwks.UNSAFE_JSON(Jwks.builder().rsaKeyPair(RSA).id("oops").build());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> jwks(TestKeys.jwkSet(privateJwk), BOTH));
        assertTrue(e.getMessage().startsWith("JWK keys[0] (kid oops) is a private key"), e.getMessage());
        assertNoKeyMaterial(e.getMessage(), privateJwk);
    }

    @Test
    void privateEcJwkIsRefused() {
        String privateJwk = Jwks.UNSAFE_JSON(Jwks.builder().ecKeyPair(EC).build());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> jwks(TestKeys.jwkSet(TestKeys.jwk(RSA.getPublic(), "fine", null, null), privateJwk), BOTH));
        assertTrue(e.getMessage().startsWith("JWK keys[1] is a private key"), e.getMessage());
    }

    @Test
    void secretJwkIsRefused() {
        String secret = "{\"kty\":\"oct\",\"kid\":\"s\",\"k\":\""
                + Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]) + "\"}";
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> jwks(TestKeys.jwkSet(secret), BOTH));
        assertTrue(e.getMessage().startsWith("JWK keys[0] (kid s) is a oct key"), e.getMessage());
    }

    @Test
    void keyThatDoesNotFitItsAlgIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> jwks(TestKeys.jwkSet(TestKeys.jwk(EC.getPublic(), "e", "RS256", null)), BOTH));
        assertEquals("JWK keys[0] (kid e): RS256 needs an RSA public key, got EC key", e.getMessage());
        KeyPair small = TestKeys.rsa(1024);
        e = assertThrows(
                IllegalArgumentException.class,
                () -> jwks(TestKeys.jwkSet(TestKeys.jwk(small.getPublic(), "s", null, null)), BOTH));
        assertEquals("JWK keys[0] (kid s): RSA key is 1024 bits (expected: >= 2048 bits for RS256)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "{",
                "[]",
                "{}",
                "{\"keys\": []}",
                "{\"keys\": [{\"kty\": \"RSA\", \"n\": \"AQAB\"}]}",
                "{\"keys\": [{\"kty\": \"XYZ\"}]}",
                "-----BEGIN PUBLIC KEY-----"
            })
    void whatIsNotAJwkSetIsRefused(String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> jwks(json, BOTH));
        assertTrue(e.getMessage().startsWith("not a valid JWK Set: "), e.getMessage());
    }

    @Test
    void jjwtMessagesLoseTheirRenderedKeyParameters() {
        // jjwt quotes a JWK's parameters when it cannot build the key.
        String json = "{\"keys\": [{\"kty\": \"RSA\", \"n\": \"c2VjcmV0LWxvb2tpbmctbW9kdWx1cw\", \"e\": \"AQAB\"}]}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> jwks(json, BOTH));
        assertFalse(e.getMessage().contains("c2VjcmV0LWxvb2tpbmctbW9kdWx1cw"), e.getMessage());
    }

    @Test
    void jsonErrorsDoNotQuoteTheFile() {
        // A PEM body where a JWK Set was expected: Jackson would quote it as the unrecognised token.
        String body = TestKeys.publicPem(RSA)
                .lines()
                .filter(l -> !l.startsWith("-----"))
                .findFirst()
                .orElseThrow();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> jwks(body, BOTH));
        assertNoKeyMaterial(e.getMessage(), body);
        assertTrue(e.getMessage().contains("Unrecognized token '...'"), e.getMessage());
        assertTrue(e.getMessage().endsWith("(line 1, column 1)"), e.getMessage());
    }

    // ---- PEM ---------------------------------------------------------------------------------

    @Test
    void inlinePemGivesOneKeyWithTheConfiguredKidAndAlgorithm() {
        KeySource source = KeySource.inlinePem("auth.public_keys[0]", "k1", "ES256", TestKeys.publicPem(EC));
        assertEquals(List.of(new PublicKeyEntry("k1", "ES256", EC.getPublic())), source.read(BOTH, skipped::add));
        assertFalse(source.isFile());
        assertFalse(source.toString().contains("BEGIN"), source.toString());
    }

    @Test
    void inlinePrivateKeyIsRefusedWithoutShowingIt() {
        String pem = TestKeys.pem("PRIVATE KEY", RSA.getPrivate().getEncoded());
        KeySource source = KeySource.inlinePem("auth.public_keys[0]", null, "RS256", pem);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> source.read(BOTH, skipped::add));
        assertTrue(e.getMessage().startsWith("PEM holds a private key"), e.getMessage());
        assertNoKeyMaterial(e.getMessage(), pem);
        assertFalse(source.toString().contains("PRIVATE"), source.toString());
    }

    @Test
    void filesAreReadEachTime() throws IOException {
        Path file = Files.writeString(dir.resolve("k.pem"), TestKeys.publicPem(RSA));
        KeySource source = KeySource.pemFile("auth.public_keys[0]", null, "RS256", file);
        assertEquals(RSA.getPublic(), source.read(BOTH, skipped::add).get(0).key());
        Files.writeString(file, TestKeys.publicPem(RSA_2));
        assertEquals(RSA_2.getPublic(), source.read(BOTH, skipped::add).get(0).key());
        Path jwks = Files.writeString(
                dir.resolve("k.json"), TestKeys.jwkSet(TestKeys.jwk(EC.getPublic(), "e", null, null)));
        assertEquals(
                List.of(new PublicKeyEntry("e", "ES256", EC.getPublic())),
                KeySource.jwksFile("auth.public_keys[1]", jwks).read(BOTH, skipped::add));
    }

    @Test
    void missingAndOversizedFilesAreUnreadable() throws IOException {
        KeySource missing = KeySource.jwksFile("auth.public_keys[0]", dir.resolve("nope.json"));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> missing.read(BOTH, skipped::add));
        assertEquals("no such file", e.getMessage());
        Path big = Files.write(dir.resolve("big.json"), new byte[KeySource.MAX_FILE_BYTES + 1]);
        e = assertThrows(
                UncheckedIOException.class,
                () -> KeySource.jwksFile("auth.public_keys[0]", big).read(BOTH, skipped::add));
        assertTrue(e.getMessage().contains("larger than 1024 KiB"), e.getMessage());
    }

    @Test
    void aJwkSetSourceTakesOnlyAFile() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new KeySource("x", KeySource.Format.JWKS, "kid", null, dir.resolve("a.json"), null));
        assertThrows(
                IllegalArgumentException.class,
                () -> new KeySource("x", KeySource.Format.PEM, null, "RS256", dir.resolve("a.pem"), "pem"));
        assertThrows(
                IllegalArgumentException.class,
                () -> new KeySource("x", KeySource.Format.PEM, null, "RS256", null, null));
    }

    private List<PublicKeyEntry> jwks(String json, Set<String> algorithms) {
        return JwkSets.parse(json, algorithms, skipped::add);
    }

    /** No base64 run of 16+ characters from the key text appears in the message. */
    private static void assertNoKeyMaterial(String message, String keyText) {
        for (String token : keyText.split("[^A-Za-z0-9+/_-]+", -1)) {
            if (token.length() >= 16) {
                assertFalse(message.contains(token), message);
            }
        }
    }
}
