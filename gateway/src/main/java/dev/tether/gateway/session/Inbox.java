package dev.tether.gateway.session;

import dev.tether.protocol.ClientMessage;
import java.util.ArrayDeque;
import java.util.List;

/**
 * A session's inbound side: the client messages waiting for the worker, bounded by
 * {@code sessions.max_queued_messages}, and the ids already taken, for idempotency.
 *
 * <p>Not thread-safe: used only on the session's event loop.
 */
final class Inbox {

    /** What became of an offered message. */
    enum Outcome {
        /** A remembered id: acknowledged as duplicate, not forwarded again. */
        DUPLICATE,
        /** Taken and queued at {@link #size()}. */
        QUEUED,
        /** Refused: the queue is at its bound. */
        FULL,
        /** Refused: this gateway does not queue (bound 0). */
        NO_QUEUEING
    }

    private final int bound;
    private final MessageIds taken;
    private final ArrayDeque<ClientMessage.Message> queue = new ArrayDeque<>();

    Inbox(int bound, int trackedIds) {
        this.bound = bound;
        this.taken = new MessageIds(trackedIds);
    }

    /** Whether {@code message}'s id was taken before. */
    boolean isDuplicate(ClientMessage.Message message) {
        return taken.contains(message.id());
    }

    /** Remembers {@code message} as taken without queueing it (it goes straight to the worker). */
    void takeDirectly(ClientMessage.Message message) {
        taken.add(message.id());
    }

    /** Queues {@code message} behind the running turn if the bound allows; a refused id is not remembered. */
    Outcome offer(ClientMessage.Message message) {
        if (taken.contains(message.id())) {
            return Outcome.DUPLICATE;
        }
        if (bound == 0) {
            return Outcome.NO_QUEUEING;
        }
        if (queue.size() >= bound) {
            return Outcome.FULL;
        }
        taken.add(message.id());
        queue.addLast(message);
        return Outcome.QUEUED;
    }

    /** The digest kept of {@code message}'s id (what the session store remembers of it). */
    byte[] digestOf(ClientMessage.Message message) {
        return taken.digestOf(message.id());
    }

    /**
     * Continues a stored session: its remembered id digests, oldest first, and the messages it had
     * queued, in order (their ids are among the digests).
     */
    void restore(List<byte[]> digests, List<ClientMessage.Message> queued) {
        digests.forEach(taken::addDigest);
        queue.addAll(queued);
    }

    /** The next queued message, or null. */
    ClientMessage.Message poll() {
        return queue.pollFirst();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }

    int bound() {
        return bound;
    }

    void clear() {
        queue.clear();
    }

    /**
     * Removes and returns every queued message, oldest first (a drain: they will never start). Their
     * ids stay taken, so a retransmission is still recognised.
     */
    List<ClientMessage.Message> takeQueued() {
        List<ClientMessage.Message> all = List.copyOf(queue);
        queue.clear();
        return all;
    }
}
