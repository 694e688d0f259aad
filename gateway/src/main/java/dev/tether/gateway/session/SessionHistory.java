package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import java.util.List;
import java.util.function.LongFunction;

/**
 * A session's history as its clients see it: every sequenced message, numbered, kept in the replay
 * buffer and handed to the {@link Journal}, and the newest seq clients may see
 * ({@link #visibleSeq}). With a journal that {@linkplain Journal#holds holds} a frame, the frame
 * reaches the attached connection only once the journal says it may ({@link #stored},
 * {@link #showUpTo}); while the store does not answer ({@link #storeAway}) frames are shown at once.
 * Each frame reaches the attached connection once, in seq order; a resume gets what it missed
 * ({@link #replayTo}). Every frame shown to the attached connection is shown to the session's
 * viewers too, at the same moment (contract 7.4).
 *
 * <p><b>Threading:</b> confined to the session's event loop, like {@link Session};
 * {@link #storeAway()} may be read from any thread (the metrics census).
 */
final class SessionHistory {

    private final ReplayBuffer buffer;
    private final Journal journal;
    private final WireCodec codec;
    /** The session's viewers' connections: they see what the attached connection sees. */
    private final Iterable<Connection> viewers;
    /**
     * The newest seq clients may see: every history frame up to it was sent to the attached
     * connection. The newest seq unless the journal holds frames.
     */
    private long visibleSeq;
    /** The store does not answer: frames are shown without waiting for the journal. */
    private volatile boolean storeAway;

    SessionHistory(ReplayBuffer buffer, Journal journal, WireCodec codec) {
        this(buffer, journal, codec, List.of());
    }

    SessionHistory(ReplayBuffer buffer, Journal journal, WireCodec codec, Iterable<Connection> viewers) {
        this.viewers = requireNonNull(viewers, "viewers");
        this.buffer = requireNonNull(buffer, "buffer");
        this.journal = requireNonNull(journal, "journal");
        this.codec = requireNonNull(codec, "codec");
    }

    /** Starts from what the shared store had: everything in it was shown by the node before. */
    void restore(Restored restored) {
        buffer.restore(restored.history(), restored.newestSeq());
        visibleSeq = buffer.newestSeq();
    }

    /**
     * Numbers {@code message}, keeps it for replay, hands it to the journal and sends it to
     * {@code attached} (may be null) unless the journal holds it.
     */
    void emit(LongFunction<ServerMessage.Sequenced> message, Connection attached) {
        long seq = buffer.newestSeq() + 1;
        byte[] frame = codec.encodeToBytes(message.apply(seq));
        buffer.append(seq, frame);
        journal.append(seq, frame);
        if (!storeAway && journal.holds(seq)) {
            return; // shown once stored or reserved
        }
        visibleSeq = seq;
        EncodedFrame encoded = new EncodedFrame(frame);
        if (attached != null) {
            attached.send(encoded);
        }
        for (Connection viewer : viewers) {
            viewer.send(encoded);
        }
    }

    /** The journal stored frames {@code firstSeq ...}: those not shown yet go to {@code attached} now, in order. */
    void stored(long firstSeq, List<byte[]> frames, Connection attached) {
        int from = (int) Math.max(0, Math.min(frames.size(), visibleSeq + 1 - firstSeq));
        if (from >= frames.size()) {
            return;
        }
        visibleSeq = firstSeq + frames.size() - 1;
        List<byte[]> shown = frames.subList(from, frames.size());
        if (attached != null) {
            writeAll(attached, shown);
        }
        for (Connection viewer : viewers) {
            writeAll(viewer, shown);
        }
    }

    private static void writeAll(Connection connection, List<byte[]> frames) {
        for (byte[] frame : frames) {
            connection.write(new EncodedFrame(frame));
        }
        connection.flush();
    }

    /**
     * Shows the held frames up to {@code upTo} (their seqs are reserved in the store, or the store is
     * away), from the replay buffer; frames it evicted meanwhile are a {@code replay_gap}.
     */
    void showUpTo(long upTo, Connection attached) {
        long until = Math.min(upTo, buffer.newestSeq());
        if (until <= visibleSeq) {
            return;
        }
        ReplayBuffer.Replay held = buffer.replayAfter(visibleSeq);
        long shown = visibleSeq;
        visibleSeq = until;
        if (attached != null) {
            showHeld(attached, held, shown, until);
        }
        for (Connection viewer : viewers) {
            showHeld(viewer, held, shown, until);
        }
    }

    private static void showHeld(Connection connection, ReplayBuffer.Replay held, long shown, long until) {
        if (held.hasGap()) {
            connection.send(new ServerMessage.ReplayGap(held.gapFrom(), Math.min(held.gapTo(), until)));
        }
        for (ReplayBuffer.Entry entry : held.entries()) {
            if (entry.seq() > until) {
                break;
            }
            if (entry.seq() > shown) {
                connection.write(new EncodedFrame(entry.frame()));
            }
        }
        connection.flush();
    }

    /**
     * Sends {@code connection} what it missed after {@code lastSeq}: a {@code replay_gap} for what
     * was evicted, then every kept frame it may see (held ones follow when shown).
     */
    ReplayBuffer.Replay replayTo(Connection connection, long lastSeq) {
        ReplayBuffer.Replay replay = buffer.replayAfter(lastSeq);
        if (replay.hasGap()) {
            connection.send(new ServerMessage.ReplayGap(replay.gapFrom(), replay.gapTo()));
        }
        for (ReplayBuffer.Entry entry : replay.entries()) {
            if (entry.seq() > visibleSeq) {
                break;
            }
            connection.write(new EncodedFrame(entry.frame()));
        }
        connection.flush();
        return replay;
    }

    /** The client acknowledged up to {@code seq} (at most {@link #visibleSeq}): dropped here and in the store. */
    void ack(long seq) {
        buffer.ackUpTo(seq);
        journal.ack(seq);
    }

    /**
     * The store stopped answering: frames are shown at once from now on, the held ones now.
     *
     * @return false when it was already away
     */
    boolean storeWentAway(Connection attached) {
        if (storeAway) {
            return false;
        }
        storeAway = true;
        showUpTo(buffer.newestSeq(), attached);
        return true;
    }

    /**
     * The store answers again: frames wait for the journal again.
     *
     * @return false when it was not away
     */
    boolean storeCameBack() {
        if (!storeAway) {
            return false;
        }
        storeAway = false;
        return true;
    }

    /** Whether frames are shown without waiting for the store, which does not answer. Any thread. */
    boolean storeAway() {
        return storeAway;
    }

    /** Whether every frame was shown (none is held for the journal). */
    boolean allShown() {
        return visibleSeq >= buffer.newestSeq();
    }

    long visibleSeq() {
        return visibleSeq;
    }

    long newestSeq() {
        return buffer.newestSeq();
    }

    int size() {
        return buffer.size();
    }

    long bytes() {
        return buffer.bytes();
    }
}
