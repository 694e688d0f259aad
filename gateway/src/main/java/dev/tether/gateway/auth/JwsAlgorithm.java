package dev.tether.gateway.auth;

import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.SecureDigestAlgorithm;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The JWS algorithms the gateway supports, with what each needs of its key. Anything else,
 * {@code none} first of all, is never accepted.
 */
enum JwsAlgorithm {
    HS256(Family.HMAC, "HmacSHA256", 256),
    HS384(Family.HMAC, "HmacSHA384", 384),
    HS512(Family.HMAC, "HmacSHA512", 512),
    RS256(Family.RSA, "SHA256withRSA", 2048),
    ES256(Family.EC, "SHA256withECDSA", 256);

    enum Family {
        HMAC,
        RSA,
        EC
    }

    final Family family;
    final String jcaName;
    /** HMAC: minimum secret length (RFC 7518 3.2); RSA: minimum modulus; EC: curve size. */
    final int keyBits;

    JwsAlgorithm(Family family, String jcaName, int keyBits) {
        this.family = family;
        this.jcaName = jcaName;
        this.keyBits = keyBits;
    }

    /** jjwt's algorithm of this name (looked up, not held: an enum's fields stay immutable). */
    SecureDigestAlgorithm<?, ?> jjwt() {
        return switch (this) {
            case HS256 -> Jwts.SIG.HS256;
            case HS384 -> Jwts.SIG.HS384;
            case HS512 -> Jwts.SIG.HS512;
            case RS256 -> Jwts.SIG.RS256;
            case ES256 -> Jwts.SIG.ES256;
        };
    }

    /** The algorithm with exactly this JWA name (names are case-sensitive), if supported. */
    static Optional<JwsAlgorithm> byName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (JwsAlgorithm a : values()) {
            if (a.name().equals(name)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /**
     * Parses a configured algorithm name.
     *
     * @throws IllegalArgumentException naming the value and what was expected
     */
    static JwsAlgorithm require(String name, Family... families) {
        JwsAlgorithm a = byName(name)
                .orElseThrow(() ->
                        new IllegalArgumentException("algorithm: " + name + " (expected one of: " + names() + ")"));
        if (families.length > 0 && Arrays.stream(families).noneMatch(f -> f == a.family)) {
            String allowed = Arrays.stream(values())
                    .filter(v -> Arrays.asList(families).contains(v.family))
                    .map(Enum::name)
                    .collect(Collectors.joining(", "));
            throw new IllegalArgumentException("algorithm: " + name + " (expected one of: " + allowed + ")");
        }
        return a;
    }
}
