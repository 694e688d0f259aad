package dev.tether.gateway.session;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Session ids: 128 random bits from {@link SecureRandom}, as 22 base64url characters without
 * padding. Unguessable, so knowing the format tells an attacker nothing; ownership is still checked
 * on every resume.
 */
public final class SessionIds {

    private static final int RANDOM_BYTES = 16;
    private static final Pattern FORMAT = Pattern.compile("[A-Za-z0-9_-]{22}");
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private final SecureRandom random;

    public SessionIds(SecureRandom random) {
        this.random = random;
    }

    /** A new session id. Thread-safe. */
    public String next() {
        byte[] bytes = new byte[RANDOM_BYTES];
        random.nextBytes(bytes);
        return ENCODER.encodeToString(bytes);
    }

    /** Whether {@code id} has the shape of a session id (and is worth a lookup). */
    public static boolean wellFormed(String id) {
        return id != null && FORMAT.matcher(id).matches();
    }
}
