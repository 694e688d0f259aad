package dev.tether.gateway.session;

import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.SessionState;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Where a session writes what must outlive this node ({@code sessions.store: redis}), in the order
 * it happened. With the in-memory store nothing is written ({@link #NONE}).
 *
 * <p>The session hands the journal each history frame. A frame the journal {@linkplain #holds holds}
 * is sent to the client only once the journal says it may be: once it is stored
 * ({@link Event.Stored}, {@code write_mode: before_send}: a frame a client saw is never missing
 * from the store) or once its seq is reserved in the store ({@link Event.Reserved},
 * {@code batched}: a node that takes the session over starts above it and reports what was never
 * stored as {@code replay_gap}). Either way no seq is ever reused. While the store does not answer
 * ({@link Event.Unavailable}) the session shows its output without waiting, until
 * {@link Event.Available}.
 *
 * <p><b>Threading:</b> called only on the session's event loop; its events are reported there too.
 */
public interface Journal {

    /** What the journal tells its session, on the session's loop. */
    sealed interface Event {

        /** Frames {@code firstSeq ...} are stored: they may be shown now, in this order. */
        record Stored(long firstSeq, List<byte[]> frames) implements Event {}

        /** Seqs up to {@code upTo} are reserved in the store: held frames up to it may be shown. */
        record Reserved(long upTo) implements Event {}

        /** A write has gone unanswered for {@code sessions.redis.unavailable_after}, or failed. */
        record Unavailable() implements Event {}

        /** The store took a write again after {@link Unavailable}. */
        record Available() implements Event {}

        /**
         * This node must let the session go: another node took it over or it ended elsewhere
         * ({@code replaced}), or the store lost it (Redis restarted empty) or could not take this
         * node's writes for too long.
         */
        record Lost(String why, boolean replaced) implements Event {}
    }

    /** The in-memory store's journal: writes nothing, holds nothing. */
    Journal NONE = new Silent();

    /** Whether history frame {@code seq} waits before it is shown (see the class comment). */
    boolean holds(long seq);

    /** Called once, when the session starts: from now on it reports its {@link Event}s to {@code events}. */
    void start(Consumer<Event> events);

    /** History frame {@code seq} (the very bytes clients get). */
    void append(long seq, byte[] frame);

    /** The client acknowledged everything up to {@code seq}. */
    void ack(long seq);

    /** The session's state; {@code turnId} is the running turn's message id while processing, else null. */
    void state(SessionState state, String turnId);

    /** A connection is attached, with a token that expires at {@code tokenExpiresAt} (epoch seconds). */
    void attached(long tokenExpiresAt);

    /** The connection went away; the session ends at {@code deadlineMillis} (epoch ms) unless one comes. */
    void detached(long deadlineMillis);

    /** The newest worker checkpoint, as JSON. */
    void checkpoint(byte[] state);

    /**
     * The newest worker checkpoint, as JSON, taken when the session's newest seq was {@code seq}
     * (what a fork of it reports as {@code fork_seq}, contract 1.2, 8.2).
     */
    default void checkpoint(byte[] state, long seq) {
        checkpoint(state);
    }

    /** The session was granted its {@code extensions}-th {@code extend}: its end is that much later on every node. */
    void extended(int extensions);

    /** A client message id was taken (its digest), so it is a duplicate on every node from now on. */
    void taken(byte[] idDigest);

    /** A client message waits in the session's queue, behind the others. */
    void queued(ClientMessage.Message message);

    /** The oldest queued message left the queue (its turn started). */
    void dequeued(ClientMessage.Message message);

    /** Every queued message left the queue (a drain or an end: they will never start). */
    void queueCleared();

    /** The session ended: a tombstone is left; completes once written (or given up on). */
    CompletionStage<Void> end(EndReason reason);

    /**
     * The session leaves this node alive (a drain, or a hand-off): what is pending is written and
     * no node owns it until one claims it. Completes once released (or given up on).
     */
    CompletionStage<Void> release(long reconnectDeadlineMillis);

    /**
     * A journal that writes nothing and holds nothing: {@link #NONE}. Open, so that a journal that
     * cares about a few calls only (a test's recording journal) overrides just those.
     */
    class Silent implements Journal {

        @Override
        public boolean holds(long seq) {
            return false;
        }

        @Override
        public void start(Consumer<Event> events) {}

        @Override
        public void append(long seq, byte[] frame) {}

        @Override
        public void ack(long seq) {}

        @Override
        public void state(SessionState state, String turnId) {}

        @Override
        public void attached(long tokenExpiresAt) {}

        @Override
        public void detached(long deadlineMillis) {}

        @Override
        public void checkpoint(byte[] state) {}

        @Override
        public void extended(int extensions) {}

        @Override
        public void taken(byte[] idDigest) {}

        @Override
        public void queued(ClientMessage.Message message) {}

        @Override
        public void dequeued(ClientMessage.Message message) {}

        @Override
        public void queueCleared() {}

        @Override
        public CompletionStage<Void> end(EndReason reason) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> release(long reconnectDeadlineMillis) {
            return CompletableFuture.completedFuture(null);
        }
    }
}
