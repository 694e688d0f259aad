package dev.tether.gateway.session;

import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.SessionState;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where a session writes what must outlive this node ({@code sessions.store: redis}), in the order
 * it happened. With the in-memory store nothing is written ({@link #NONE}).
 *
 * <p>A journal that {@linkplain #holdsHistory() holds history} shows nothing to clients before it is
 * stored: the session hands it each history frame, and sends frames to its connection only when
 * {@link Listener#stored} says they are stored, so a frame a client saw is never missing from the
 * store, and a node that takes the session over never reuses its seq.
 *
 * <p><b>Threading:</b> called only on the session's event loop; the listener is called there too.
 */
public interface Journal {

    /** What the journal tells its session, on the session's loop. */
    interface Listener {
        /** Frames {@code firstSeq ...} are stored: they may be shown now, in this order. */
        void stored(long firstSeq, List<byte[]> frames);

        /** Another node took the session over (or it ended elsewhere): this node must let it go. */
        void lost(String why);
    }

    /** The in-memory store's journal: writes nothing, holds nothing. */
    Journal NONE = new Journal() {
        @Override
        public boolean holdsHistory() {
            return false;
        }

        @Override
        public void start(Listener listener) {
        }

        @Override
        public void append(long seq, byte[] frame) {
        }

        @Override
        public void ack(long seq) {
        }

        @Override
        public void state(SessionState state, String turnId) {
        }

        @Override
        public void attached(long tokenExpiresAt) {
        }

        @Override
        public void detached(long deadlineMillis) {
        }

        @Override
        public void checkpoint(byte[] state) {
        }

        @Override
        public void taken(byte[] idDigest) {
        }

        @Override
        public void queued(ClientMessage.Message message) {
        }

        @Override
        public void dequeued(ClientMessage.Message message) {
        }

        @Override
        public void queueCleared() {
        }

        @Override
        public CompletionStage<Void> end(EndReason reason) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> release(long reconnectDeadlineMillis) {
            return CompletableFuture.completedFuture(null);
        }
    };

    /** Whether history frames are shown only once stored (see the class comment). */
    boolean holdsHistory();

    /** Called once, when the session starts: from now on it reports to {@code listener}. */
    void start(Listener listener);

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
}
