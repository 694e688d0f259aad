package dev.tether.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.tether.gateway.auth.TokenRejectedException.Reason;
import dev.tether.gateway.testing.LogCapture;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key files changing under a {@link KeyRing}: checks are triggered with {@link KeyRing#checkNow()},
 * so nothing waits for the interval, except the one test of the scheduled checks, which waits for
 * their log line.
 */
class KeyRingTest {

    private static final KeyPair A = TestKeys.rsa(2048);
    private static final KeyPair B = TestKeys.rsa(2048);
    private static final KeyPair C = TestKeys.rsa(2048);
    private static final Set<String> RS256 = Set.of("RS256");

    @TempDir
    Path dir;

    private final LogCapture logs = LogCapture.of(KeyRing.class.getName());

    @AfterEach
    void detach() {
        logs.close();
    }

    @Test
    void keyAddedToAFileIsAcceptedAfterTheNextCheck() throws Exception {
        Path jwks = write("keys.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "a", null, null)));
        KeyRing ring = ring(KeySource.jwksFile("auth.public_keys[0]", jwks));
        assertAccepted(ring, token(A, "a"));
        assertRefused(ring, token(B, "b"));

        write(
                "keys.json",
                TestKeys.jwkSet(
                        TestKeys.jwk(A.getPublic(), "a", null, null),
                        TestKeys.jwk(B.getPublic(), "b", "RS256", "sig")));
        assertRefused(ring, token(B, "b")); // not before the check
        ring.checkNow();

        assertAccepted(ring, token(B, "b"));
        assertAccepted(ring, token(A, "a"));
        assertEquals("reloaded 2 verification keys (kids: a, b)", lastMessage(Level.INFO));
    }

    @Test
    void rotatingAKeyUnderTheSameKidReplacesIt() throws Exception {
        Path pem = write("k.pem", TestKeys.publicPem(A));
        Path jwks = write("keys.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "k", null, null)));
        KeyRing pemRing = ring(KeySource.pemFile("auth.public_keys[0]", "k", "RS256", pem));
        KeyRing jwksRing = ring(KeySource.jwksFile("auth.public_keys[0]", jwks));
        TokenVerifier before = jwksRing.current();

        write("k.pem", TestKeys.publicPem(B));
        write("keys.json", TestKeys.jwkSet(TestKeys.jwk(B.getPublic(), "k", null, null)));
        pemRing.checkNow();
        jwksRing.checkNow();

        for (KeyRing ring : List.of(pemRing, jwksRing)) {
            assertRefused(ring, token(A, "k"));
            assertRefused(ring, token(A, null));
            assertAccepted(ring, token(B, "k"));
        }
        assertFalse(before == jwksRing.current(), "a new verifier is swapped in");
    }

    @Test
    void brokenFileKeepsThePreviousKeysAndIsRetriedWhenItChanges() throws Exception {
        Path jwks = write("keys.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "a", null, null)));
        KeyRing ring = ring(KeySource.jwksFile("auth.public_keys[0]", jwks));
        TokenVerifier before = ring.current();

        write("keys.json", "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"b\", \"n\": \""); // half written
        ring.checkNow();
        assertSame(before, ring.current());
        assertAccepted(ring, token(A, "a"));
        String warning = lastMessage(Level.WARN);
        assertTrue(warning.startsWith("key file " + jwks + " (auth.public_keys[0]): not a valid JWK Set: "), warning);
        assertTrue(warning.endsWith("; keeping the 1 verification keys in force"), warning);

        ring.checkNow(); // the same broken content: not warned about again
        assertEquals(1, logs.warnings().size(), logs.warnings().toString());

        write("keys.json", TestKeys.jwkSet(TestKeys.jwk(B.getPublic(), "b", null, null)));
        ring.checkNow();
        assertAccepted(ring, token(B, "b"));
        assertRefused(ring, token(A, "a"));
    }

    @Test
    void fileThatDisappearsKeepsThePreviousKeys() throws Exception {
        Path pem = write("k.pem", TestKeys.publicPem(A));
        KeyRing ring = ring(KeySource.pemFile("auth.public_keys[0]", "a", "RS256", pem));

        Files.delete(pem);
        ring.checkNow();
        assertAccepted(ring, token(A, "a"));
        assertEquals(
                "key file " + pem + " (auth.public_keys[0]): no such file; keeping the 1 verification keys"
                        + " in force",
                lastMessage(Level.WARN));

        write("k.pem", TestKeys.publicPem(B));
        ring.checkNow();
        assertAccepted(ring, token(B, "a"));
        assertRefused(ring, token(A, "a"));
    }

    @Test
    void keysThatDoNotFitTogetherKeepThePreviousOnes() throws Exception {
        Path first = write("1.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "a", null, null)));
        Path second = write("2.json", TestKeys.jwkSet(TestKeys.jwk(B.getPublic(), "b", null, null)));
        KeyRing ring = ring(
                KeySource.jwksFile("auth.public_keys[0]", first), KeySource.jwksFile("auth.public_keys[1]", second));

        write("2.json", TestKeys.jwkSet(TestKeys.jwk(C.getPublic(), "a", null, null)));
        ring.checkNow();
        assertEquals(
                "verification keys not reloaded: publicKeys: kid a is used twice for RS256;"
                        + " keeping the 2 keys in force",
                lastMessage(Level.WARN));
        assertAccepted(ring, token(B, "b"));
    }

    @Test
    void unchangedFilesAreNotReloaded() throws Exception {
        Path pem = write("k.pem", TestKeys.publicPem(A));
        KeyRing ring = ring(
                KeySource.pemFile("auth.public_keys[0]", null, "RS256", pem),
                KeySource.inlinePem("auth.public_keys[1]", "inline", "RS256", TestKeys.publicPem(B)));
        TokenVerifier before = ring.current();
        ring.checkNow();
        ring.checkNow();
        assertSame(before, ring.current());
        assertAccepted(ring, token(B, "inline"));
    }

    @Test
    void brokenSourceAtStartFailsNamingIt() throws IOException {
        Path pem = write("k.pem", "-----BEGIN PUBLIC KEY-----\n");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ring(KeySource.pemFile("auth.public_keys[3]", null, "RS256", pem)));
        assertEquals(
                "key file " + pem + " (auth.public_keys[3]): no -----BEGIN PUBLIC KEY----- block found",
                e.getMessage());
        Path none = write("none.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "enc", null, "enc")));
        e = assertThrows(IllegalArgumentException.class, () -> ring(KeySource.jwksFile("auth.public_keys[0]", none)));
        assertEquals(
                "verification keys: publicKeys: none for RS256 (expected: at least one, since algorithms"
                        + " include it)",
                e.getMessage());
    }

    @Test
    void scheduledChecksPickUpChanges() throws Exception {
        Path jwks = write("keys.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "a", null, null)));
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (KeyRing ring = ring(KeySource.jwksFile("auth.public_keys[0]", jwks))) {
            assertTrue(ring.watchesFiles());
            ring.start(scheduler, Duration.ofMillis(100));
            assertThrows(IllegalStateException.class, () -> ring.start(scheduler, Duration.ofMillis(100)));
            write("keys.json", TestKeys.jwkSet(TestKeys.jwk(B.getPublic(), "b", null, null)));
            ILoggingEvent reloaded = logs.await(e -> e.getFormattedMessage().startsWith("reloaded"));
            assertEquals("reloaded 1 verification keys (kids: b)", reloaded.getFormattedMessage());
            assertTrue(reloaded.getThreadName().startsWith("pool-"), reloaded.getThreadName());
            assertAccepted(ring, token(B, "b"));
        } finally {
            scheduler.shutdownNow();
        }
    }

    @Test
    void logsNeverShowKeyMaterial() throws Exception {
        Path jwks = write("keys.json", TestKeys.jwkSet(TestKeys.jwk(A.getPublic(), "a", null, null)));
        KeyRing ring = ring(KeySource.jwksFile("auth.public_keys[0]", jwks));
        String withB = TestKeys.jwkSet(
                TestKeys.jwk(B.getPublic(), "b", null, null), TestKeys.jwk(C.getPublic(), "c", "RSA-OAEP", "enc"));
        write("keys.json", withB);
        ring.checkNow();
        write("keys.json", withB.substring(0, withB.length() / 2));
        ring.checkNow();
        String n = (String) Jwks.parser()
                .build()
                .parse(TestKeys.jwk(B.getPublic(), null, null, null))
                .get("n");
        for (ILoggingEvent event : logs.events()) {
            assertFalse(event.getFormattedMessage().contains(n.substring(0, 20)), event.getFormattedMessage());
        }
    }

    private KeyRing ring(KeySource... sources) {
        return new KeyRing(
                List.of(sources),
                RS256,
                keys -> new TokenVerifier(RS256, null, keys, null, null, Duration.ZERO, Clock.systemUTC()));
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static String token(KeyPair pair, String kid) {
        var builder = Jwts.builder()
                .subject("alice")
                .expiration(Date.from(Instant.now().plusSeconds(600)));
        if (kid != null) {
            builder.header().keyId(kid);
        }
        return builder.signWith(pair.getPrivate(), Jwts.SIG.RS256).compact();
    }

    private static void assertAccepted(KeyRing ring, String token) throws TokenRejectedException {
        assertEquals("alice", ring.verify(token).subject());
    }

    private static void assertRefused(KeyRing ring, String token) {
        TokenRejectedException e = assertThrows(TokenRejectedException.class, () -> ring.verify(token));
        assertEquals(Reason.BAD_SIGNATURE, e.reason());
    }

    private String lastMessage(Level level) {
        ILoggingEvent last = null;
        for (ILoggingEvent event : logs.events()) {
            if (event.getLevel() == level) {
                last = event;
            }
        }
        assertTrue(last != null, "no " + level + " event");
        return last.getFormattedMessage();
    }
}
