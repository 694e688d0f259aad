package dev.tether.loadtest.token;

/**
 * Where a virtual user gets its bearer token: minted from the HMAC secret, or read from a file.
 * Implementations are thread-safe; virtual users call it when they connect and when the gateway
 * asks for a refresh.
 */
public interface TokenSource {

    /**
     * A token for virtual user {@code index} (0-based) whose subject is {@code subject}. A fresh
     * one on every call when the source can mint.
     */
    String token(int index, String subject);

    /** Whether {@link #token} gives a new token each time (so that {@code auth_refresh} makes sense). */
    boolean canMint();
}
