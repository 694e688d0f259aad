package dev.tether.loadtest.token;

import static java.util.Objects.requireNonNull;

import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Keys;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.crypto.SecretKey;

/**
 * Mints HS256 tokens with {@code sub}, {@code iat} and {@code exp}: what the gateway's embedded
 * default configuration requires (contract section 6). Immutable and thread-safe.
 */
public final class HmacTokenMinter implements TokenSource {

    private final SecretKey key;
    private final Duration ttl;
    private final Clock clock;

    /**
     * @param secret the gateway's {@code auth.hmac_secret}, at least 32 bytes of UTF-8
     * @param ttl    how long each token is valid, > 0
     * @throws IllegalArgumentException when the secret is too short for HS256 or the ttl is not positive
     */
    public HmacTokenMinter(String secret, Duration ttl, Clock clock) {
        requireNonNull(secret, "secret");
        this.ttl = requireNonNull(ttl, "ttl");
        this.clock = requireNonNull(clock, "clock");
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < 32) {
            throw new IllegalArgumentException("secret: " + bytes.length + " bytes (expected: at least 32 for HS256)");
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("token ttl: " + ttl + " (expected: > 0)");
        }
        this.key = Keys.hmacShaKeyFor(bytes);
    }

    @Override
    public String token(int index, String subject) {
        requireNonNull(subject, "subject");
        Instant now = clock.instant();
        return Jwts.builder()
                .subject(subject)
                .issuedAt(Date.from(now))
                .expiration(Date.from(now.plus(ttl)))
                .signWith(key, Jwts.SIG.HS256)
                .compact();
    }

    @Override
    public boolean canMint() {
        return true;
    }
}
