package dev.tether.loadtest.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.testkit.ManualClock;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Keys;
import io.jsonwebtoken.security.SignatureException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokensTest {

    private static final String SECRET = "tether-dev-secret-do-not-use-in-production-0123456789";

    @Test
    void mintedTokensAreHs256WithSubjectIssuedAtAndExpiry() {
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        HmacTokenMinter minter = new HmacTokenMinter(SECRET, Duration.ofSeconds(20), Clock.fixed(now, ZoneOffset.UTC));
        String token = minter.token(3, "lt-user-3");
        var jws = Jwts.parser()
                .verifyWith(Keys.hmacShaKeyFor(SECRET.getBytes(StandardCharsets.UTF_8)))
                .clock(() -> Date.from(now))
                .build()
                .parseSignedClaims(token);
        Claims claims = jws.getPayload();
        assertEquals("HS256", jws.getHeader().getAlgorithm());
        assertEquals("lt-user-3", claims.getSubject());
        assertEquals(now, claims.getIssuedAt().toInstant());
        assertEquals(now.plusSeconds(20), claims.getExpiration().toInstant());
        assertTrue(minter.canMint());
    }

    @Test
    void aTokenSignedWithAnotherSecretDoesNotVerify() {
        String token = new HmacTokenMinter(SECRET, Duration.ofMinutes(1), Clock.systemUTC()).token(0, "a");
        byte[] other = "another-secret-of-at-least-thirty-two-bytes!!".getBytes(StandardCharsets.UTF_8);
        assertThrows(
                SignatureException.class,
                () -> Jwts.parser()
                        .verifyWith(Keys.hmacShaKeyFor(other))
                        .build()
                        .parseSignedClaims(token));
    }

    @Test
    void aRefreshGivesANewTokenForTheSameSubject() {
        ManualClock clock = new ManualClock(Instant.parse("2030-01-01T00:00:00Z"));
        HmacTokenMinter minter = new HmacTokenMinter(SECRET, Duration.ofSeconds(20), clock);
        String first = minter.token(0, "u");
        clock.advance(Duration.ofSeconds(10));
        assertNotEquals(first, minter.token(0, "u"));
    }

    @Test
    void aShortSecretOrNoTtlIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new HmacTokenMinter("short", Duration.ofMinutes(1), Clock.systemUTC()));
        assertTrue(e.getMessage().contains("at least 32"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> new HmacTokenMinter(SECRET, Duration.ZERO, Clock.systemUTC()));
    }

    @Test
    void fileTokensAreUsedOnePerUserRoundRobin(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens.txt");
        Files.writeString(file, "# tokens\nt0\n\n  t1  \nt2\n");
        FileTokens tokens = FileTokens.read(file);
        assertEquals(3, tokens.size());
        assertEquals("t0", tokens.token(0, "ignored"));
        assertEquals("t1", tokens.token(1, "ignored"));
        assertEquals("t0", tokens.token(3, "ignored"));
        assertFalse(tokens.canMint());
    }

    @Test
    void anEmptyTokensFileIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens.txt");
        Files.writeString(file, "# nothing\n\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FileTokens.read(file));
        assertTrue(e.getMessage().contains("--tokens-file"), e.getMessage());
    }
}
