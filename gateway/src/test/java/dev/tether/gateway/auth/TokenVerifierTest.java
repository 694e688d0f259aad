package dev.tether.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.TokenRejectedException.Reason;
import dev.tether.testkit.ManualClock;
import io.jsonwebtoken.JwtBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.SecureDigestAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokenVerifierTest {

    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final byte[] SECRET = bytes("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    private static final byte[] OTHER_SECRET =
            bytes("fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
    private static final Duration SKEW = Duration.ofSeconds(30);

    private static final KeyPair RSA_A = TestKeys.rsa(2048);
    private static final KeyPair RSA_B = TestKeys.rsa(2048);
    private static final KeyPair EC_A = TestKeys.ec("secp256r1");
    private static final KeyPair EC_B = TestKeys.ec("secp256r1");
    private static final KeyPair EC_384 = TestKeys.ec("secp384r1");

    private final ManualClock clock = new ManualClock(NOW);

    // ---- accepted ----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"HS256", "HS384", "HS512"})
    void acceptsHmacTokens(String alg) throws Exception {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256", "HS384", "HS512"));
        String token = new TokenMinter(SECRET, alg, clock).mint("alice", Duration.ofHours(1), Map.of("role", "admin"));

        VerifiedToken verified = verifier.verify(token);

        assertEquals("alice", verified.subject());
        assertEquals(NOW.plus(Duration.ofHours(1)), verified.expiresAt());
        assertEquals("admin", verified.claims().get("role"));
        assertEquals("alice", verified.claims().get("sub"));
        // claims hold the JSON values: NumericDates stay epoch seconds
        assertEquals(
                NOW.plus(Duration.ofHours(1)).getEpochSecond(),
                ((Number) verified.claims().get("exp")).longValue());
    }

    @Test
    void acceptsRs256() throws Exception {
        TokenVerifier verifier = verifier(Set.of("RS256"), null, List.of(rsaEntry(null, RSA_A)));
        VerifiedToken verified = verifier.verify(signed(RSA_A.getPrivate(), Jwts.SIG.RS256, claims("bob")));
        assertEquals("bob", verified.subject());
        assertEquals(NOW.plusSeconds(600), verified.expiresAt());
    }

    @Test
    void acceptsEs256() throws Exception {
        TokenVerifier verifier = verifier(Set.of("ES256"), null, List.of(ecEntry(null, EC_A)));
        VerifiedToken verified = verifier.verify(signed(EC_A.getPrivate(), Jwts.SIG.ES256, claims("carol")));
        assertEquals("carol", verified.subject());
        assertEquals(NOW.plusSeconds(600), verified.expiresAt());
    }

    @Test
    void acceptsEveryConfiguredFamilyAtOnce() throws Exception {
        TokenVerifier verifier = verifier(
                Set.of("HS256", "RS256", "ES256"), SECRET, List.of(rsaEntry(null, RSA_A), ecEntry(null, EC_A)));
        assertEquals(
                "a",
                verifier.verify(signed(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256, claims("a")))
                        .subject());
        assertEquals(
                "b",
                verifier.verify(signed(RSA_A.getPrivate(), Jwts.SIG.RS256, claims("b")))
                        .subject());
        assertEquals(
                "c",
                verifier.verify(signed(EC_A.getPrivate(), Jwts.SIG.ES256, claims("c")))
                        .subject());
    }

    @Test
    void verifiedTokenIsReadOnlyAndDoesNotPrintTheToken() throws Exception {
        String token = minter().mint("alice", Duration.ofMinutes(5), Map.of("secret_note", "xyzzy"));
        VerifiedToken verified = hmacVerifier(Set.of("HS256")).verify(token);
        assertThrows(
                UnsupportedOperationException.class, () -> verified.claims().put("sub", "mallory"));
        assertFalse(verified.toString().contains(token));
        assertFalse(verified.toString().contains(token.split("\\.", -1)[1]));
        assertFalse(verified.toString().contains("xyzzy"));
        assertTrue(verified.toString().contains("alice"));
    }

    // ---- algorithms --------------------------------------------------------------------------

    @Test
    void refusesAlgNone() {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        String payload =
                b64("{\"sub\":\"alice\",\"exp\":" + NOW.plusSeconds(600).getEpochSecond() + "}");
        for (String header : new String[] {
            "{\"alg\":\"none\"}", "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}"
        }) {
            assertRejected(verifier, b64(header) + "." + payload + ".", Reason.ALGORITHM_NOT_ALLOWED);
            // an unsecured token with a stray signature is no better
            assertRejected(verifier, b64(header) + "." + payload + ".c2ln", Reason.ALGORITHM_NOT_ALLOWED);
        }
        TokenRejectedException e =
                assertRejected(verifier, b64("{\"alg\":\"none\"}") + "." + payload + ".", Reason.ALGORITHM_NOT_ALLOWED);
        assertEquals("algorithm not allowed: none", e.getMessage());
    }

    @Test
    void refusesHmacTokenSignedWithAnotherSecret() {
        String token = signed(hmac(OTHER_SECRET, "HmacSHA256"), Jwts.SIG.HS256, claims("alice"));
        assertRejected(hmacVerifier(Set.of("HS256")), token, Reason.BAD_SIGNATURE);
    }

    @Test
    void refusesHs256SignedWithTheRsaPublicKeyWhenOnlyRs256IsConfigured() {
        TokenVerifier verifier = verifier(Set.of("RS256"), null, List.of(rsaEntry(null, RSA_A)));
        for (byte[] confusedKey : rsaPublicKeyRenderings(RSA_A)) {
            String token = signed(hmac(confusedKey, "HmacSHA256"), Jwts.SIG.HS256, claims("mallory"));
            assertRejected(verifier, token, Reason.ALGORITHM_NOT_ALLOWED);
        }
    }

    @Test
    void refusesHs256SignedWithTheRsaPublicKeyWhenHs256AndRs256AreConfigured() {
        TokenVerifier verifier = verifier(Set.of("HS256", "RS256"), SECRET, List.of(rsaEntry(null, RSA_A)));
        for (byte[] confusedKey : rsaPublicKeyRenderings(RSA_A)) {
            String token = signed(hmac(confusedKey, "HmacSHA256"), Jwts.SIG.HS256, claims("mallory"));
            assertRejected(verifier, token, Reason.BAD_SIGNATURE);
        }
    }

    @Test
    void refusesRs256WhenOnlyHs256IsConfigured() {
        String token = signed(RSA_A.getPrivate(), Jwts.SIG.RS256, claims("alice"));
        TokenRejectedException e = assertRejected(hmacVerifier(Set.of("HS256")), token, Reason.ALGORITHM_NOT_ALLOWED);
        assertEquals("algorithm not allowed: RS256", e.getMessage());
    }

    @Test
    void refusesHs384WhenOnlyHs256IsConfigured() {
        String token = signed(hmac(SECRET, "HmacSHA384"), Jwts.SIG.HS384, claims("alice"));
        TokenRejectedException e = assertRejected(hmacVerifier(Set.of("HS256")), token, Reason.ALGORITHM_NOT_ALLOWED);
        assertEquals("algorithm not allowed: HS384", e.getMessage());
    }

    @Test
    void refusesUnknownAlgorithmWithoutRepeatingIt() {
        String token = b64("{\"alg\":\"XX-evil-header-text\"}") + "." + b64("{\"sub\":\"a\"}") + ".c2ln";
        TokenRejectedException e = assertRejected(hmacVerifier(Set.of("HS256")), token, Reason.ALGORITHM_NOT_ALLOWED);
        assertEquals("algorithm not allowed", e.getMessage());
    }

    @Test
    void refusesRs256SignedByAnotherKey() {
        TokenVerifier verifier = verifier(Set.of("RS256"), null, List.of(rsaEntry(null, RSA_A)));
        assertRejected(verifier, signed(RSA_B.getPrivate(), Jwts.SIG.RS256, claims("alice")), Reason.BAD_SIGNATURE);
    }

    @Test
    void refusesEs256SignedByAnotherKeyOrCurve() throws GeneralSecurityException {
        TokenVerifier verifier = verifier(Set.of("ES256"), null, List.of(ecEntry(null, EC_A)));
        assertRejected(verifier, signed(EC_B.getPrivate(), Jwts.SIG.ES256, claims("alice")), Reason.BAD_SIGNATURE);

        // An "ES256" token whose signature was made on P-384 (jjwt would not build one: craft it).
        String signingInput = b64("{\"alg\":\"ES256\"}") + "." + b64(claimsJson("alice"));
        Signature p384 = Signature.getInstance("SHA256withECDSAinP1363Format");
        p384.initSign(EC_384.getPrivate());
        p384.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        String forged =
                signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(p384.sign());
        assertRejected(verifier, forged, Reason.BAD_SIGNATURE);

        // ... and an honest ES384 token is simply not an allowed algorithm.
        assertRejected(
                verifier, signed(EC_384.getPrivate(), Jwts.SIG.ES384, claims("alice")), Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void refusesEncryptedTokens() {
        var cek = Jwts.ENC.A256GCM.key().build();
        String jwe = Jwts.builder()
                .claims(claims("alice"))
                .encryptWith(cek, Jwts.ENC.A256GCM)
                .compact();
        assertEquals(4, jwe.chars().filter(c -> c == '.').count());
        assertRejected(hmacVerifier(Set.of("HS256")), jwe, Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void refusesCompressedPayloads() {
        String token = Jwts.builder()
                .claims(claims("alice"))
                .compressWith(Jwts.ZIP.DEF)
                .signWith(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256)
                .compact();
        assertRejected(hmacVerifier(Set.of("HS256")), token, Reason.MALFORMED);
    }

    // ---- time --------------------------------------------------------------------------------

    @Test
    void refusesExpiredTokensAndAcceptsThemWithinTheSkew() throws Exception {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        String token = minter().mint("alice", Duration.ofSeconds(60), null);

        clock.set(NOW.plusSeconds(60 + 29));
        assertEquals("alice", verifier.verify(token).subject());

        clock.set(NOW.plusSeconds(60 + 31));
        TokenRejectedException e = assertRejected(verifier, token, Reason.EXPIRED);
        assertEquals("token expired", e.getMessage());
    }

    @Test
    void withoutSkewExpiryIsExact() throws Exception {
        TokenVerifier verifier = verifier(Set.of("HS256"), SECRET, List.of(), null, null, Duration.ZERO);
        String token = minter().mint("alice", Duration.ofSeconds(60), null);
        clock.set(NOW.plusSeconds(59));
        verifier.verify(token);
        clock.set(NOW.plusSeconds(61));
        assertRejected(verifier, token, Reason.EXPIRED);
    }

    @Test
    void refusesTokensNotYetValidAndAcceptsThemWithinTheSkew() throws Exception {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        Map<String, Object> early = claims("alice", NOW.plusSeconds(20), NOW.plusSeconds(600));
        assertEquals(
                "alice",
                verifier.verify(signed(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256, early))
                        .subject());

        Map<String, Object> tooEarly = claims("alice", NOW.plusSeconds(40), NOW.plusSeconds(600));
        String token = signed(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256, tooEarly);
        TokenRejectedException e = assertRejected(verifier, token, Reason.NOT_YET_VALID);
        assertEquals("token not yet valid", e.getMessage());

        clock.set(NOW.plusSeconds(15));
        verifier.verify(token);
    }

    // ---- claims ------------------------------------------------------------------------------

    @Test
    void refusesTokensWithoutExp() {
        String token = signed(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256, Map.of("sub", "alice"));
        TokenRejectedException e = assertRejected(hmacVerifier(Set.of("HS256")), token, Reason.MISSING_CLAIM);
        assertEquals("token has no exp claim", e.getMessage());
    }

    @Test
    void refusesTokensWithoutSub() {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        long exp = NOW.plusSeconds(600).getEpochSecond();
        for (Map<String, Object> claims : List.<Map<String, Object>>of(
                Map.of("exp", exp), Map.of("exp", exp, "sub", ""), Map.of("exp", exp, "sub", "   "))) {
            String token = signed(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256, claims);
            TokenRejectedException e = assertRejected(verifier, token, Reason.MISSING_CLAIM);
            assertEquals("token has no sub claim", e.getMessage());
        }
    }

    @Test
    void refusesClaimsOfTheWrongType() {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        long exp = NOW.plusSeconds(600).getEpochSecond();
        // jjwt's builder refuses these, so sign them by hand; jjwt's parser error would quote them
        TokenRejectedException e = assertRejected(
                verifier, hs256ByHand("{\"sub\":\"alice\",\"exp\":\"tomorrow-secret-value\"}"), Reason.MALFORMED);
        assertFalse(e.getMessage().contains("tomorrow"));
        assertRejected(verifier, hs256ByHand("{\"sub\":42,\"exp\":" + exp + "}"), Reason.MALFORMED);
        assertRejected(verifier, hs256ByHand("{\"sub\":\"alice\",\"exp\":[1]}"), Reason.MALFORMED);
        // a payload that is not a JSON object is not a claims set
        assertRejected(verifier, hs256ByHand("just bytes"), Reason.MALFORMED);
        assertRejected(verifier, hs256ByHand("[\"alice\"]"), Reason.MALFORMED);
    }

    @Test
    void checksIssuerAndAudienceWhenConfigured() throws Exception {
        TokenVerifier verifier = verifier(Set.of("HS256"), SECRET, List.of(), "https://id.example", "tether", SKEW);
        SecretKeySpec key = hmac(SECRET, "HmacSHA256");
        Date exp = Date.from(NOW.plusSeconds(600));

        String good = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .issuer("https://id.example")
                .audience()
                .single("tether")
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        VerifiedToken fromString = verifier.verify(good);
        assertEquals("alice", fromString.subject());
        assertEquals(Set.of("tether"), fromString.claims().get("aud"));

        String goodArray = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .issuer("https://id.example")
                .audience()
                .add("other")
                .add("tether")
                .and()
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        VerifiedToken fromArray = verifier.verify(goodArray);
        assertEquals("alice", fromArray.subject());
        assertEquals(Set.of("other", "tether"), fromArray.claims().get("aud"));

        String wrongIss = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .issuer("https://evil.example")
                .audience()
                .single("tether")
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        assertRejected(verifier, wrongIss, Reason.WRONG_ISSUER);

        String noIss = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .audience()
                .single("tether")
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        assertRejected(verifier, noIss, Reason.WRONG_ISSUER);

        String wrongAud = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .issuer("https://id.example")
                .audience()
                .single("other")
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        assertRejected(verifier, wrongAud, Reason.WRONG_AUDIENCE);

        String wrongAudArray = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .issuer("https://id.example")
                .audience()
                .add("other")
                .add("tether-staging")
                .and()
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        assertRejected(verifier, wrongAudArray, Reason.WRONG_AUDIENCE);

        String noAud = Jwts.builder()
                .subject("alice")
                .expiration(exp)
                .issuer("https://id.example")
                .signWith(key, Jwts.SIG.HS256)
                .compact();
        assertRejected(verifier, noAud, Reason.WRONG_AUDIENCE);
    }

    @Test
    void ignoresIssuerAndAudienceWhenNotConfigured() throws Exception {
        String token = Jwts.builder()
                .subject("alice")
                .expiration(Date.from(NOW.plusSeconds(600)))
                .issuer("anyone")
                .audience()
                .single("anything")
                .signWith(hmac(SECRET, "HmacSHA256"), Jwts.SIG.HS256)
                .compact();
        assertEquals("alice", hmacVerifier(Set.of("HS256")).verify(token).subject());
    }

    // ---- key selection -----------------------------------------------------------------------

    @Test
    void picksTheKeyNamedByKid() throws Exception {
        TokenVerifier verifier =
                verifier(Set.of("RS256"), null, List.of(rsaEntry("2029", RSA_A), rsaEntry("2030", RSA_B)));

        assertEquals(
                "a",
                verifier.verify(signedWithKid(RSA_A.getPrivate(), "2029", claims("a")))
                        .subject());
        assertEquals(
                "b",
                verifier.verify(signedWithKid(RSA_B.getPrivate(), "2030", claims("b")))
                        .subject());
        // the kid points at the other key: no second chance with the matching one
        assertRejected(verifier, signedWithKid(RSA_B.getPrivate(), "2029", claims("c")), Reason.BAD_SIGNATURE);
        // an unknown kid, and no key configured without one
        assertRejected(verifier, signedWithKid(RSA_A.getPrivate(), "2031", claims("d")), Reason.BAD_SIGNATURE);
        // no kid: every key of the algorithm is tried
        assertEquals(
                "e",
                verifier.verify(signed(RSA_B.getPrivate(), Jwts.SIG.RS256, claims("e")))
                        .subject());
        assertRejected(
                verifier, signed(TestKeys.rsa(2048).getPrivate(), Jwts.SIG.RS256, claims("f")), Reason.BAD_SIGNATURE);
    }

    @Test
    void aKidNamingNoConfiguredKeyFallsBackToKeysWithoutKid() throws Exception {
        TokenVerifier verifier = verifier(
                Set.of("RS256", "ES256"),
                null,
                List.of(rsaEntry("named", RSA_A), rsaEntry(null, RSA_B), ecEntry(null, EC_A)));
        assertEquals(
                "a",
                verifier.verify(signedWithKid(RSA_B.getPrivate(), "issuer-key-7", claims("a")))
                        .subject());
        assertRejected(verifier, signedWithKid(RSA_A.getPrivate(), "issuer-key-7", claims("b")), Reason.BAD_SIGNATURE);
        assertEquals(
                "c",
                verifier.verify(Jwts.builder()
                                .header()
                                .keyId("k")
                                .and()
                                .claims(claims("c"))
                                .signWith(EC_A.getPrivate(), Jwts.SIG.ES256)
                                .compact())
                        .subject());
    }

    // ---- malformed ---------------------------------------------------------------------------

    @Test
    void refusesMalformedTokens() {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256", "RS256"));
        String valid = minter().mint("alice", Duration.ofMinutes(5), null);
        String[] parts = valid.split("\\.", -1);
        for (String token : new String[] {
            "",
            "garbage",
            "not a token at all",
            ".",
            "..",
            "...",
            "a.b.c.d",
            "a.b",
            valid + ".",
            "." + parts[1] + "." + parts[2],
            "!!!." + parts[1] + "." + parts[2],
            b64("[1,2]") + "." + parts[1] + "." + parts[2],
            b64("{\"typ\":\"JWT\"}") + "." + parts[1] + "." + parts[2],
            b64("{\"alg\":\"HS256\",\"kid\":7}") + "." + parts[1] + "." + parts[2],
            parts[0] + "." + parts[1] + ".",
            parts[0] + ".%%%." + parts[2],
            parts[0] + "." + parts[1] + ".***",
        }) {
            assertRejected(verifier, token, Reason.MALFORMED);
        }
        assertThrowsReason(verifier, null, Reason.MALFORMED);
    }

    @Test
    void refusesTokensOver8KiBBeforeParsing() throws Exception {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        String fits = minter().mint("alice", Duration.ofMinutes(5), Map.of("pad", "x".repeat(5_000)));
        assertTrue(fits.length() <= 8 * 1024);
        verifier.verify(fits);

        String huge = minter().mint("alice", Duration.ofMinutes(5), Map.of("pad", "x".repeat(7_000)));
        assertTrue(huge.length() > 8 * 1024);
        TokenRejectedException e = assertRejected(verifier, huge, Reason.MALFORMED);
        assertFalse(e.getMessage().contains("xxxx"));
        assertRejected(verifier, "a".repeat(1 << 20), Reason.MALFORMED);
    }

    @Test
    void refusesATamperedPayload() {
        TokenVerifier verifier = hmacVerifier(Set.of("HS256"));
        String[] parts = minter().mint("alice", Duration.ofMinutes(5), null).split("\\.", -1);
        String forged = parts[0] + "." + b64(claimsJson("mallory")) + "." + parts[2];
        assertRejected(verifier, forged, Reason.BAD_SIGNATURE);

        String[] rsa =
                signed(RSA_A.getPrivate(), Jwts.SIG.RS256, claims("alice")).split("\\.", -1);
        TokenVerifier rsaVerifier = verifier(Set.of("RS256"), null, List.of(rsaEntry(null, RSA_A)));
        assertRejected(rsaVerifier, rsa[0] + "." + b64(claimsJson("mallory")) + "." + rsa[2], Reason.BAD_SIGNATURE);
    }

    // ---- configuration -----------------------------------------------------------------------

    @Test
    void refusesInconsistentConfiguration() {
        List<PublicKeyEntry> none = List.of();
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of(), SECRET, none));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("none"), SECRET, none));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("HS256", "PS256"), SECRET, none));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("HS256"), null, none));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("HS256"), new byte[31], none));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("HS512"), new byte[32], none));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("RS256"), null, none));
        assertThrows(
                IllegalArgumentException.class,
                () -> verifier(Set.of("HS256"), SECRET, List.of(rsaEntry(null, RSA_A))));
        assertThrows(
                IllegalArgumentException.class,
                () -> verifier(Set.of("RS256"), null, List.of(new PublicKeyEntry(null, "RS256", EC_A.getPublic()))));
        assertThrows(
                IllegalArgumentException.class,
                () -> verifier(Set.of("ES256"), null, List.of(new PublicKeyEntry(null, "ES256", EC_384.getPublic()))));
        assertThrows(
                IllegalArgumentException.class,
                () -> verifier(
                        Set.of("RS256"),
                        null,
                        List.of(new PublicKeyEntry(
                                null, "RS256", TestKeys.rsa(1024).getPublic()))));
        assertThrows(
                IllegalArgumentException.class,
                () -> verifier(Set.of("RS256"), null, List.of(rsaEntry("k", RSA_A), rsaEntry("k", RSA_B))));
        assertThrows(IllegalArgumentException.class, () -> verifier(Set.of("HS256"), SECRET, none, "", null, SKEW));
        assertThrows(
                IllegalArgumentException.class,
                () -> verifier(Set.of("HS256"), SECRET, none, null, null, Duration.ofSeconds(-1)));
        // an HMAC secret with no HS algorithm configured is ignored, not an error
        verifier(Set.of("RS256"), new byte[3], List.of(rsaEntry(null, RSA_A)));
    }

    @Test
    void minterRefusesWhatTheVerifierWouldNot() {
        assertThrows(IllegalArgumentException.class, () -> new TokenMinter(new byte[16], "HS256", clock));
        assertThrows(IllegalArgumentException.class, () -> new TokenMinter(SECRET, "RS256", clock));
        TokenMinter minter = minter();
        assertThrows(IllegalArgumentException.class, () -> minter.mint(" ", Duration.ofMinutes(1), null));
        assertThrows(IllegalArgumentException.class, () -> minter.mint("alice", Duration.ZERO, null));
        assertThrows(
                IllegalArgumentException.class, () -> minter.mint("alice", Duration.ofMinutes(1), Map.of("exp", 1)));
    }

    // ---- helpers -----------------------------------------------------------------------------

    /** Asserts the reason, and that the message repeats neither the token nor any of its parts. */
    private static TokenRejectedException assertRejected(TokenVerifier verifier, String token, Reason reason) {
        TokenRejectedException e = assertThrowsReason(verifier, token, reason);
        String message = e.getMessage();
        if (token.length() >= 8) {
            assertFalse(message.contains(token), "message contains the token: " + message);
        }
        for (String part : token.split("\\.", -1)) {
            if (part.length() >= 8) {
                assertFalse(message.contains(part), "message contains a token segment: " + message);
                assertFalse(message.contains(part.substring(0, 8)), "message contains part of a segment: " + message);
            }
        }
        assertTrue(message.length() < 80, "message is not short: " + message);
        assertEquals(null, e.getCause());
        return e;
    }

    private static TokenRejectedException assertThrowsReason(TokenVerifier verifier, String token, Reason reason) {
        TokenRejectedException e =
                assertThrows(TokenRejectedException.class, () -> verifier.verify(token), () -> "expected " + reason);
        assertEquals(reason, e.reason(), e.getMessage());
        return e;
    }

    private TokenVerifier hmacVerifier(Set<String> algorithms) {
        return verifier(algorithms, SECRET, algorithms.contains("RS256") ? List.of(rsaEntry(null, RSA_A)) : List.of());
    }

    private TokenVerifier verifier(Set<String> algorithms, byte[] secret, List<PublicKeyEntry> keys) {
        return verifier(algorithms, secret, keys, null, null, SKEW);
    }

    private TokenVerifier verifier(
            Set<String> algorithms,
            byte[] secret,
            List<PublicKeyEntry> keys,
            String issuer,
            String audience,
            Duration skew) {
        return new TokenVerifier(algorithms, secret, keys, issuer, audience, skew, clock);
    }

    private TokenMinter minter() {
        return new TokenMinter(SECRET, "HS256", clock);
    }

    private static PublicKeyEntry rsaEntry(String kid, KeyPair pair) {
        return new PublicKeyEntry(kid, "RS256", pair.getPublic());
    }

    private static PublicKeyEntry ecEntry(String kid, KeyPair pair) {
        return new PublicKeyEntry(kid, "ES256", pair.getPublic());
    }

    /** The ways an attacker might feed an RSA public key to a naive HMAC verifier. */
    private static List<byte[]> rsaPublicKeyRenderings(KeyPair pair) {
        byte[] der = pair.getPublic().getEncoded();
        String pem = TestKeys.pem("PUBLIC KEY", der);
        return List.of(bytes(pem), bytes(pem.strip()), der);
    }

    private static SecretKeySpec hmac(byte[] secret, String jcaName) {
        return new SecretKeySpec(secret, jcaName);
    }

    @SuppressWarnings("unchecked")
    private static String signed(Key key, SecureDigestAlgorithm<?, ?> alg, Map<String, ?> claims) {
        JwtBuilder builder = Jwts.builder().claims(claims);
        return builder.signWith(key, (SecureDigestAlgorithm<Key, ?>) alg).compact();
    }

    private static String signedWithKid(PrivateKey key, String kid, Map<String, ?> claims) {
        return Jwts.builder()
                .header()
                .keyId(kid)
                .and()
                .claims(claims)
                .signWith(key, Jwts.SIG.RS256)
                .compact();
    }

    private static Map<String, Object> claims(String sub) {
        return Map.of("sub", sub, "exp", NOW.plusSeconds(600).getEpochSecond());
    }

    private static Map<String, Object> claims(String sub, Instant nbf, Instant exp) {
        return Map.of("sub", sub, "nbf", nbf.getEpochSecond(), "exp", exp.getEpochSecond());
    }

    private static String claimsJson(String sub) {
        return "{\"sub\":\"" + sub + "\",\"exp\":" + NOW.plusSeconds(600).getEpochSecond() + "}";
    }

    private static String hs256ByHand(String payload) {
        String signingInput = b64("{\"alg\":\"HS256\"}") + "." + b64(payload);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(hmac(SECRET, "HmacSHA256"));
            byte[] sig = mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(json));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
