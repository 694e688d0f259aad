package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

/**
 * Why {@link TokenVerifier#verify(String)} refused a token. The upgrade handler answers every
 * reason with 401 {@code unauthorized} (protocol section 1); the reason is for logs and metrics.
 *
 * <p>The message is short and fixed ("token expired", "algorithm not allowed: HS384") and never
 * holds the token, any part of it, or key material, so it may be logged as is. For the same
 * reason it has no cause: jjwt's exception messages can quote headers and claims. It has no stack
 * trace either: refusals are ordinary outcomes on the event loop, and a trace would only show
 * the verifier.
 */
public final class TokenRejectedException extends Exception {

    /** What was wrong with the token. */
    public enum Reason {
        /** Not a compact JWS: empty, over 8 KiB, wrong number of parts, bad base64 or JSON, bad claim types. */
        MALFORMED,
        /** {@code exp} is past, beyond the allowed clock skew. */
        EXPIRED,
        /** {@code nbf} is ahead, beyond the allowed clock skew. */
        NOT_YET_VALID,
        /** The signature does not verify with any configured key that the token may name. */
        BAD_SIGNATURE,
        /** The header's {@code alg} is not one the gateway is configured for ({@code none} never is), or the token is a JWE. */
        ALGORITHM_NOT_ALLOWED,
        /** An issuer is configured and {@code iss} is missing or different. */
        WRONG_ISSUER,
        /** An audience is configured and {@code aud} is missing or does not contain it. */
        WRONG_AUDIENCE,
        /** A required claim ({@code sub}, {@code exp}) is missing or blank. */
        MISSING_CLAIM
    }

    private final Reason reason;

    /**
     * @param reason  why the token was refused
     * @param message a short fixed text; must not contain the token or any part of it
     */
    public TokenRejectedException(Reason reason, String message) {
        super(requireNonNull(message, "message"), null, false, false);
        this.reason = requireNonNull(reason, "reason");
    }

    /** Why the token was refused. */
    public Reason reason() {
        return reason;
    }
}
