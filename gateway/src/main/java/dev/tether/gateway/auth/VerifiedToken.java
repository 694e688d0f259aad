package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of a successful {@link TokenVerifier#verify(String)}: who the token speaks for and
 * until when. It holds the verified claims, never the token text, so it may be kept with a session
 * and logged.
 *
 * <p>Immutable and thread-safe as far as the claim values are: {@code claims} is an unmodifiable
 * copy of the verified claim set, keyed by claim name, with values as jjwt's claims map yields
 * them: the decoded JSON values (so {@code exp}, {@code iat} and {@code nbf} are epoch-second
 * numbers), except {@code aud}, which is always a {@code Set<String>}, even when the token had a
 * single string. Nested lists and maps are not copied; treat them as read-only.
 *
 * @param subject   the non-blank {@code sub} claim
 * @param expiresAt the {@code exp} claim
 * @param claims    every claim of the token, including {@code sub} and {@code exp}
 */
public record VerifiedToken(String subject, Instant expiresAt, Map<String, Object> claims) {

    public VerifiedToken {
        requireNonNull(subject, "subject");
        requireNonNull(expiresAt, "expiresAt");
        requireNonNull(claims, "claims");
        claims = Collections.unmodifiableMap(new LinkedHashMap<>(claims));
    }

    /** The claim that grants read-only access to other users' sessions (contract 7.4). */
    public static final String VIEW_CLAIM = "view";

    /**
     * Whether the token's {@code view} claim lists {@code sessionId}: a JSON array of session ids,
     * or a single id as a string. Anything else (absent, a number, an object) lists nothing.
     */
    public boolean listsView(String sessionId) {
        Object view = claims.get(VIEW_CLAIM);
        if (view instanceof String one) {
            return one.equals(sessionId);
        }
        if (view instanceof Collection<?> many) {
            for (Object listed : many) {
                if (sessionId.equals(listed)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether this token may watch session {@code sessionId} of {@code owner}: its owner, or listed in {@code view}. */
    public boolean mayView(String sessionId, String owner) {
        return subject.equals(owner) || listsView(sessionId);
    }

    /** Names the claims but not their values: values are the token issuer's data, not ours to log. */
    @Override
    public String toString() {
        return "VerifiedToken[subject=" + subject + ", expiresAt=" + expiresAt + ", claims=" + claims.keySet() + "]";
    }
}
