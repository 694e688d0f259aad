package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import java.security.PublicKey;

/**
 * One public key that {@link TokenVerifier} may verify signatures with, as configured by the
 * operator (typically read with {@link PemKeys}). Immutable.
 *
 * <p>The key's type must fit the algorithm: an RSA key of at least 2048 bits for {@code RS256},
 * an EC P-256 key for {@code ES256}; {@link TokenVerifier}'s constructor checks this.
 *
 * @param kid       the key id that tokens name in their {@code kid} header to pick this key, or
 *                  {@code null} for a key without one (tried for tokens that name no known kid)
 * @param algorithm {@code "RS256"} or {@code "ES256"}
 * @param key       the public key
 */
public record PublicKeyEntry(String kid, String algorithm, PublicKey key) {

    public PublicKeyEntry {
        requireNonNull(algorithm, "algorithm");
        requireNonNull(key, "key");
        if (kid != null && kid.isBlank()) {
            throw new IllegalArgumentException("kid: blank (expected: null or a non-blank key id)");
        }
    }

    /** Leaves the key itself out: it is public, but a modulus in a log line helps nobody. */
    @Override
    public String toString() {
        return "PublicKeyEntry[kid=" + kid + ", algorithm=" + algorithm + ", key=" + KeyChecks.describe(key) + "]";
    }
}
