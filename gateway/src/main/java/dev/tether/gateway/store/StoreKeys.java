package dev.tether.gateway.store;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Names of the store's Redis keys. Every key of one session carries the session id as its hash tag
 * ({@code {id}}), so all of them live in one Redis Cluster slot and one script can touch them
 * together; a user's key carries the subject, hex-encoded (a subject may contain braces).
 */
final class StoreKeys {

    private static final String PREFIX = "tether:";

    private StoreKeys() {}

    /** The session's directory entry: a hash (owner, node, epoch, state, seqs, checkpoint ...). */
    static String directory(String sessionId) {
        return ofSession(sessionId, "dir");
    }

    /** The session's replay log: a stream whose entry ids are {@code <seq>-0}. */
    static String log(String sessionId) {
        return ofSession(sessionId, "log");
    }

    /** Digests of the session's recent client message ids: a sorted set, by arrival. */
    static String messageIds(String sessionId) {
        return ofSession(sessionId, "ids");
    }

    /** Client messages waiting in the session's queue: a sorted set, in arrival order. */
    static String queue(String sessionId) {
        return ofSession(sessionId, "queue");
    }

    /** The channel a node listens on for requests to hand a session over. */
    /** Every key of one session: its directory, log, message ids and queue. */
    static String[] allOfSession(String sessionId) {
        return new String[] {directory(sessionId), log(sessionId), messageIds(sessionId), queue(sessionId)};
    }

    static String handoffChannel(String nodeId) {
        return PREFIX + "node:{" + nodeId + "}:handoff";
    }

    /** A node's lease: present while the node renews it. */
    static String node(String nodeId) {
        return PREFIX + "node:{" + nodeId + "}";
    }

    /** The sessions of one user, on every node: a sorted set by creation time. */
    static String userSessions(String subject) {
        return PREFIX + "user:{" + HexFormat.of().formatHex(subject.getBytes(StandardCharsets.UTF_8)) + "}:sessions";
    }

    /** A key of the session's, {@code tether:{<id>}:<kind>}: the id is its hash tag. */
    private static String ofSession(String sessionId, String kind) {
        return PREFIX + "{" + sessionId + "}:" + kind;
    }
}
