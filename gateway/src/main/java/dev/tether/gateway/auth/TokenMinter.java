package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.MacAlgorithm;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import javax.crypto.SecretKey;

/**
 * Issues HMAC-signed tokens that a {@link TokenVerifier} configured with the same secret accepts:
 * for the {@code token --sub NAME --ttl DURATION} command (protocol section 6), the load-test
 * client and tests. It is not an identity provider: production deployments usually verify tokens
 * someone else issued.
 *
 * <p>Immutable and thread-safe; {@link #mint} does no I/O.
 */
public final class TokenMinter {

    private static final Set<String> SET_BY_MINTER = Set.of(Claims.SUBJECT, Claims.ISSUED_AT, Claims.EXPIRATION);

    private final SecretKey key;
    private final MacAlgorithm algorithm;
    private final Clock clock;

    /**
     * @param hmacSecret the shared secret, at least 32/48/64 bytes for HS256/HS384/HS512. Copied.
     * @param algorithm  {@code "HS256"}, {@code "HS384"} or {@code "HS512"}
     * @param clock      gives {@code iat} and the start of the ttl
     * @throws IllegalArgumentException for another algorithm or a secret too short for it
     */
    public TokenMinter(byte[] hmacSecret, String algorithm, Clock clock) {
        requireNonNull(hmacSecret, "hmacSecret");
        requireNonNull(algorithm, "algorithm");
        this.clock = requireNonNull(clock, "clock");
        JwsAlgorithm alg = JwsAlgorithm.require(algorithm, JwsAlgorithm.Family.HMAC);
        this.key = KeyChecks.hmacKey(hmacSecret, alg);
        this.algorithm = (MacAlgorithm) alg.jjwt();
    }

    /**
     * Signs a token for {@code subject} valid from now for {@code ttl}.
     *
     * @param subject     the {@code sub} claim, not blank
     * @param ttl         how long the token is valid, > 0; {@code exp} is whole seconds, rounded down
     * @param extraClaims further claims ({@code iss}, {@code aud}, {@code nbf}, custom ones), or
     *                    null; {@code sub}, {@code iat} and {@code exp} are set here and may not
     *                    appear in it
     * @return the compact JWS
     */
    public String mint(String subject, Duration ttl, Map<String, Object> extraClaims) {
        requireNonNull(subject, "subject");
        requireNonNull(ttl, "ttl");
        if (subject.isBlank()) {
            throw new IllegalArgumentException("subject: blank (expected: a non-blank subject)");
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0)");
        }
        Map<String, Object> extra = extraClaims == null ? Map.of() : extraClaims;
        for (String name : extra.keySet()) {
            if (SET_BY_MINTER.contains(name)) {
                throw new IllegalArgumentException("extraClaims: " + name + " (expected: not sub, iat or exp; "
                        + "those come from the subject and ttl)");
            }
        }
        Instant now = clock.instant();
        return Jwts.builder()
                .claims(extra)
                .subject(subject)
                .issuedAt(Date.from(now))
                .expiration(Date.from(now.plus(ttl)))
                .signWith(key, algorithm)
                .compact();
    }
}
