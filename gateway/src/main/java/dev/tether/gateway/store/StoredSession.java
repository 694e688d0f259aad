package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

/**
 * A session's directory entry as read from the store.
 *
 * @param id the session id
 * @param format the format it was written in ({@link RedisSessionStore#FORMAT} today)
 * @param subject its owner, the {@code sub} of the token that created it
 * @param node the node that owns it; empty while no node does (released, or its node was declared dead)
 * @param epoch the epoch of the owner's claim
 * @param state its wire state ({@code preparing}, {@code idle} ... {@code ended})
 * @param newestSeq the newest seq written to the log
 * @param reservedSeq the highest seq the owner may have sent without writing it (batched writes):
 *     a node that adopts the session continues above it, and reports what it cannot replay as a gap
 * @param tokenExpiresAt expiry of the attached connection's token, epoch seconds (0: none attached)
 * @param reconnectDeadlineMillis when a session with no connection ends, epoch milliseconds (0: attached)
 * @param endReason why it ended, or null while it runs
 * @param checkpoint the newest worker checkpoint ({@code state} as JSON text), or null
 * @param turn the client message id of the running turn while {@code processing}, else empty
 * @param createdAtMillis when the session was created, epoch milliseconds
 * @param seenAtMillis when its owner last wrote to it (or claimed or created it), epoch milliseconds
 *     by the store's clock; a live owner writes at least once a lease
 * @param extensions the {@code extend}s the session was granted (contract 1.2, 8.3)
 * @param checkpointSeq the newest seq when {@code checkpoint} was taken (contract 1.2, 8.2: a fork's
 *     {@code fork_seq}), or null when the entry has none (no checkpoint, or written before forks)
 */
public record StoredSession(
        String id,
        String format,
        String subject,
        String node,
        long epoch,
        String state,
        long newestSeq,
        long reservedSeq,
        long tokenExpiresAt,
        long reconnectDeadlineMillis,
        String endReason,
        String checkpoint,
        String turn,
        long createdAtMillis,
        long seenAtMillis,
        int extensions,
        Long checkpointSeq) {
    public StoredSession {
        requireNonNull(id, "id");
        requireNonNull(format, "format");
        requireNonNull(subject, "subject");
        requireNonNull(node, "node");
        requireNonNull(state, "state");
    }

    /** Whether the session has ended (this is its tombstone). */
    public boolean ended() {
        return "ended".equals(state);
    }
}
