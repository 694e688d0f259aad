package dev.tether.gateway.auth;

/**
 * Checks a bearer token; what the upgrade handler and sessions ({@code auth_refresh}) depend on.
 * {@link TokenVerifier} verifies against one fixed set of keys; {@link KeyRing} delegates to the
 * verifier built from the key files as they are now, so keys can be rotated without a restart.
 *
 * <p>Implementations are thread-safe and never block: {@link #verify} runs on Netty event loops.
 */
public interface TokenVerification {

    /**
     * Verifies a compact JWS.
     *
     * @param compactJwt the token as the client sent it (without "Bearer ")
     * @return the subject, expiry and claims of a valid token
     * @throws TokenRejectedException if the token is not acceptable; its message never contains
     *                                the token
     */
    VerifiedToken verify(String compactJwt) throws TokenRejectedException;
}
