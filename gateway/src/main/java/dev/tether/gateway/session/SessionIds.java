package dev.tether.gateway.session;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Session ids: 128 random bits from {@link SecureRandom}, as 22 base64url characters without
 * padding, after {@code <node_id>.} when {@code server.node_id} is set (so that a proxy can route a
 * resume to the node that holds the session). Unguessable, so knowing the format tells an attacker
 * nothing; ownership is still checked on every resume.
 */
public final class SessionIds {

    private static final int RANDOM_BYTES = 16;
    /** An optional node prefix (as {@code server.node_id} allows), then the random part. */
    private static final Pattern FORMAT = Pattern.compile("(?:[a-z0-9-]{1,32}\\.)?[A-Za-z0-9_-]{22}");

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private final SecureRandom random;
    /** {@code "<node_id>."}, or empty without a node id. */
    private final String prefix;

    /** Ids without a node prefix. */
    public SessionIds(SecureRandom random) {
        this(random, null);
    }

    /**
     * @param nodeId {@code server.node_id} (already validated), or null for ids without a prefix
     */
    public SessionIds(SecureRandom random, String nodeId) {
        this.random = random;
        this.prefix = nodeId == null ? "" : nodeId + ".";
    }

    /** A new session id. Thread-safe. */
    public String next() {
        byte[] bytes = new byte[RANDOM_BYTES];
        random.nextBytes(bytes);
        return prefix + ENCODER.encodeToString(bytes);
    }

    /** Whether {@code id} has the shape of a session id (and is worth a lookup). */
    public static boolean wellFormed(String id) {
        return id != null && FORMAT.matcher(id).matches();
    }
}
