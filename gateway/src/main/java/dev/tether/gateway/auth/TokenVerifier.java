package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.TokenRejectedException.Reason;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.ExpiredJwtException;
import io.jsonwebtoken.InvalidClaimException;
import io.jsonwebtoken.JweHeader;
import io.jsonwebtoken.JwsHeader;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.JwtParserBuilder;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.LocatorAdapter;
import io.jsonwebtoken.PrematureJwtException;
import io.jsonwebtoken.security.SignatureException;
import java.security.Key;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Verifies the bearer tokens that clients present on the upgrade request and in
 * {@code auth_refresh}: compact JWS only, signed with one of the configured algorithms
 * ({@code HS256}/{@code HS384}/{@code HS512} with the shared secret, {@code RS256} with RSA and
 * {@code ES256} with EC P-256 public keys), with a non-blank {@code sub} and an {@code exp}, and
 * with {@code iss}/{@code aud} matching when those are configured. {@code exp} and {@code nbf} are
 * checked against the injected {@link Clock}, allowing the configured skew (whole seconds).
 *
 * <p>Keys are chosen by the token's {@code alg} header, never by the key's type, so an HMAC token
 * can never be checked against a public key's bytes (RS/HS confusion). For an asymmetric
 * algorithm: a token whose {@code kid} names a configured key is checked against that key only; a
 * {@code kid} that names none is checked against the keys configured without a kid; a token
 * without {@code kid} against every key of its algorithm, in configuration order (rotation).
 *
 * <p>Immutable and thread-safe; {@link #verify} does no I/O and does not block, so it runs on the
 * Netty event loop that handles the upgrade. The injected clock must be thread-safe too (every
 * {@code java.time.Clock} the JDK provides is). A new configuration means a new verifier; new key
 * files too: {@link KeyRing} builds one per set of keys and swaps it in whole.
 */
public final class TokenVerifier implements TokenVerification {

    /** Longer tokens are refused before any parsing: 8 KiB is far beyond any sane bearer token. */
    static final int MAX_TOKEN_CHARS = 8 * 1024;

    private final Set<JwsAlgorithm> algorithms;
    private final Map<JwsAlgorithm, Key> hmacKeys;
    /** Every public key per algorithm, in configuration order. */
    private final Map<JwsAlgorithm, List<Key>> allKeys;
    /** The public keys without a kid, per algorithm. */
    private final Map<JwsAlgorithm, List<Key>> unnamedKeys;
    /** Public keys by algorithm, then kid. */
    private final Map<JwsAlgorithm, Map<String, Key>> namedKeys;
    /** parsers.get(i) verifies with the i-th candidate key (see {@link #candidates}). */
    private final List<JwtParser> parsers;

    /**
     * @param algorithms the accepted JWA names, a non-empty subset of HS256, HS384, HS512, RS256
     *                   and ES256
     * @param hmacSecret the shared secret for the HS algorithms, at least as long as the longest
     *                   configured HS hash (32, 48, 64 bytes); ignored, and may be null, when no
     *                   HS algorithm is configured. Copied.
     * @param publicKeys the keys for RS256/ES256; at least one per configured asymmetric
     *                   algorithm, each for a configured algorithm, kids unique per algorithm
     * @param issuer     required {@code iss}, or null to accept any
     * @param audience   required member of {@code aud}, or null to accept any
     * @param clockSkew  leeway for {@code exp} and {@code nbf}, >= 0, truncated to whole seconds
     * @param clock      the time tokens are checked against
     * @throws IllegalArgumentException if the configuration is inconsistent; the message names
     *                                  what is wrong but never key material
     */
    public TokenVerifier(
            Set<String> algorithms,
            byte[] hmacSecret,
            List<PublicKeyEntry> publicKeys,
            String issuer,
            String audience,
            Duration clockSkew,
            Clock clock) {
        requireNonNull(algorithms, "algorithms");
        requireNonNull(publicKeys, "publicKeys");
        requireNonNull(clockSkew, "clockSkew");
        requireNonNull(clock, "clock");
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("algorithms: empty (expected some of: " + JwsAlgorithm.names() + ")");
        }
        if (clockSkew.isNegative()) {
            throw new IllegalArgumentException("clockSkew: " + clockSkew + " (expected: >= 0)");
        }
        if (issuer != null && issuer.isBlank()) {
            throw new IllegalArgumentException("issuer: blank (expected: null or a non-blank issuer)");
        }
        if (audience != null && audience.isBlank()) {
            throw new IllegalArgumentException("audience: blank (expected: null or a non-blank audience)");
        }

        EnumSet<JwsAlgorithm> algs = EnumSet.noneOf(JwsAlgorithm.class);
        for (String name : algorithms) {
            algs.add(JwsAlgorithm.require(name));
        }
        this.algorithms = Collections.unmodifiableSet(algs);

        Map<JwsAlgorithm, Key> hmac = new EnumMap<>(JwsAlgorithm.class);
        for (JwsAlgorithm alg : algs) {
            if (alg.family == JwsAlgorithm.Family.HMAC) {
                hmac.put(alg, KeyChecks.hmacKey(hmacSecret, alg));
            }
        }
        this.hmacKeys = Collections.unmodifiableMap(hmac);

        Map<JwsAlgorithm, List<Key>> all = new EnumMap<>(JwsAlgorithm.class);
        Map<JwsAlgorithm, List<Key>> unnamed = new EnumMap<>(JwsAlgorithm.class);
        Map<JwsAlgorithm, Map<String, Key>> named = new EnumMap<>(JwsAlgorithm.class);
        for (PublicKeyEntry entry : publicKeys) {
            requireNonNull(entry, "publicKeys entry");
            JwsAlgorithm alg = JwsAlgorithm.require(entry.algorithm(), JwsAlgorithm.Family.RSA, JwsAlgorithm.Family.EC);
            if (!algs.contains(alg)) {
                throw new IllegalArgumentException(
                        "publicKeys: a key is for " + alg + ", which is not among algorithms " + algorithms);
            }
            Key key = KeyChecks.checkPublicKey(entry.key(), alg);
            all.computeIfAbsent(alg, a -> new ArrayList<>()).add(key);
            if (entry.kid() == null) {
                unnamed.computeIfAbsent(alg, a -> new ArrayList<>()).add(key);
            } else if (named.computeIfAbsent(alg, a -> new HashMap<>()).putIfAbsent(entry.kid(), key) != null) {
                throw new IllegalArgumentException("publicKeys: kid " + entry.kid() + " is used twice for " + alg);
            }
        }
        for (JwsAlgorithm alg : algs) {
            if (alg.family != JwsAlgorithm.Family.HMAC && !all.containsKey(alg)) {
                throw new IllegalArgumentException(
                        "publicKeys: none for " + alg + " (expected: at least one, since algorithms include it)");
            }
        }
        this.allKeys = immutable(all);
        this.unnamedKeys = immutable(unnamed);
        Map<JwsAlgorithm, Map<String, Key>> namedCopy = new EnumMap<>(JwsAlgorithm.class);
        named.forEach((alg, byKid) -> namedCopy.put(alg, Map.copyOf(byKid)));
        this.namedKeys = Collections.unmodifiableMap(namedCopy);

        int maxCandidates =
                Math.max(1, all.values().stream().mapToInt(List::size).max().orElse(1));
        io.jsonwebtoken.Clock jwtClock = () -> Date.from(clock.instant());
        List<JwtParser> built = new ArrayList<>(maxCandidates);
        for (int i = 0; i < maxCandidates; i++) {
            JwtParserBuilder builder = Jwts.parser()
                    .keyLocator(new CandidateLocator(i))
                    .clock(jwtClock)
                    .clockSkewSeconds(clockSkew.toSeconds());
            // A signed token may still carry a compressed payload; we have no use for one and it
            // would let a 8 KiB token inflate to megabytes.
            builder.zip().clear();
            if (issuer != null) {
                builder.requireIssuer(issuer);
            }
            if (audience != null) {
                builder.requireAudience(audience);
            }
            built.add(builder.build());
        }
        this.parsers = List.copyOf(built);
    }

    /**
     * Verifies a compact JWS.
     *
     * @param compactJwt the token as the client sent it (without "Bearer ")
     * @return the subject, expiry and claims of a valid token
     * @throws TokenRejectedException if the token is not acceptable; its message never contains
     *                                the token
     */
    @Override
    public VerifiedToken verify(String compactJwt) throws TokenRejectedException {
        if (compactJwt == null || compactJwt.isEmpty()) {
            throw new TokenRejectedException(Reason.MALFORMED, "token is empty");
        }
        if (compactJwt.length() > MAX_TOKEN_CHARS) {
            throw new TokenRejectedException(Reason.MALFORMED, "token longer than " + MAX_TOKEN_CHARS + " characters");
        }
        CompactHeader header = CompactHeader.read(compactJwt);
        JwsAlgorithm alg = JwsAlgorithm.byName(header.alg())
                .filter(algorithms::contains)
                .orElseThrow(() -> CompactHeader.notAllowed(header.alg()));
        int candidates = candidates(alg, header.kid()).size();
        if (candidates == 0) {
            throw new TokenRejectedException(Reason.BAD_SIGNATURE, "no key for the token's kid");
        }
        for (int i = 0; ; i++) {
            try {
                return parse(parsers.get(i), compactJwt);
            } catch (TokenRejectedException e) {
                // Only a signature mismatch says anything about the key; try the next candidate.
                if (e.reason() != Reason.BAD_SIGNATURE || i + 1 >= candidates) {
                    throw e;
                }
            }
        }
    }

    private static VerifiedToken parse(JwtParser parser, String compactJwt) throws TokenRejectedException {
        Claims claims;
        try {
            claims = parser.parseSignedClaims(compactJwt).getPayload();
        } catch (Refusal r) {
            throw new TokenRejectedException(r.reason, r.getMessage());
        } catch (ExpiredJwtException e) {
            throw new TokenRejectedException(Reason.EXPIRED, "token expired");
        } catch (PrematureJwtException e) {
            throw new TokenRejectedException(Reason.NOT_YET_VALID, "token not yet valid");
        } catch (InvalidClaimException e) {
            if (Claims.ISSUER.equals(e.getClaimName())) {
                throw new TokenRejectedException(Reason.WRONG_ISSUER, "wrong or missing issuer");
            }
            if (Claims.AUDIENCE.equals(e.getClaimName())) {
                throw new TokenRejectedException(Reason.WRONG_AUDIENCE, "wrong or missing audience");
            }
            throw new TokenRejectedException(Reason.MALFORMED, "invalid claim");
        } catch (SignatureException e) {
            throw new TokenRejectedException(Reason.BAD_SIGNATURE, "bad signature");
        } catch (io.jsonwebtoken.security.SecurityException e) {
            // Key trouble that got past the constructor's checks (e.g. a key the provider rejects).
            throw new TokenRejectedException(Reason.BAD_SIGNATURE, "signature not verifiable");
        } catch (RuntimeException e) {
            // JwtException (malformed, unsupported, wrong claim types), and jjwt's
            // IllegalArgumentExceptions: this is the trust boundary, so anything else unexpected
            // is a refusal too rather than a failed upgrade with a stack trace.
            throw new TokenRejectedException(Reason.MALFORMED, "malformed token");
        }
        try {
            Date exp = claims.getExpiration();
            if (exp == null) {
                throw new TokenRejectedException(Reason.MISSING_CLAIM, "token has no exp claim");
            }
            String subject = claims.getSubject();
            if (subject == null || subject.isBlank()) {
                throw new TokenRejectedException(Reason.MISSING_CLAIM, "token has no sub claim");
            }
            return new VerifiedToken(subject, exp.toInstant(), claims);
        } catch (RuntimeException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "malformed claims");
        }
    }

    /** The keys a token with this algorithm and kid may be verified with, in the order tried. */
    private List<Key> candidates(JwsAlgorithm alg, String kid) {
        if (alg.family == JwsAlgorithm.Family.HMAC) {
            return List.of(hmacKeys.get(alg));
        }
        if (kid == null) {
            return allKeys.getOrDefault(alg, List.of());
        }
        Key named = namedKeys.getOrDefault(alg, Map.of()).get(kid);
        return named != null ? List.of(named) : unnamedKeys.getOrDefault(alg, List.of());
    }

    private static Map<JwsAlgorithm, List<Key>> immutable(Map<JwsAlgorithm, List<Key>> m) {
        Map<JwsAlgorithm, List<Key>> copy = new EnumMap<>(JwsAlgorithm.class);
        m.forEach((alg, keys) -> copy.put(alg, List.copyOf(keys)));
        return Collections.unmodifiableMap(copy);
    }

    /**
     * Gives jjwt the {@code index}-th candidate key for the header's algorithm, and refuses
     * algorithms outside the configured set and JWEs. This is where the algorithm allow-list is
     * enforced on jjwt's own reading of the header.
     */
    private final class CandidateLocator extends LocatorAdapter<Key> {
        private final int index;

        CandidateLocator(int index) {
            this.index = index;
        }

        @Override
        protected Key locate(JwsHeader header) {
            JwsAlgorithm alg = JwsAlgorithm.byName(header.getAlgorithm())
                    .filter(algorithms::contains)
                    .orElseThrow(() -> new Refusal(CompactHeader.notAllowed(header.getAlgorithm())));
            List<Key> keys = candidates(alg, header.getKeyId());
            if (index >= keys.size()) {
                throw new Refusal(new TokenRejectedException(Reason.BAD_SIGNATURE, "no key for the token's kid"));
            }
            return keys.get(index);
        }

        @Override
        protected Key locate(JweHeader header) {
            throw new Refusal(new TokenRejectedException(
                    Reason.ALGORITHM_NOT_ALLOWED, "encrypted tokens (JWE) are not accepted"));
        }
    }

    /** Carries a refusal out of the key locator, through jjwt, which does not wrap it. */
    private static final class Refusal extends RuntimeException {
        final Reason reason;

        Refusal(TokenRejectedException e) {
            super(e.getMessage(), null, false, false);
            this.reason = e.reason();
        }
    }
}
