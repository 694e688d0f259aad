package dev.tether.gateway.replay;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The bounded history of one session: encoded history frames with consecutive seqs, kept until the
 * client acknowledges them or the bounds evict them.
 *
 * <p>Bounded by message count and by bytes; whichever is hit first evicts from the oldest end. A
 * frame larger than the byte bound on its own is not kept at all (a resume that needs it sees a
 * gap). Trimmed by {@link #ackUpTo(long)}.
 *
 * <p>Not thread-safe: owned by its session and touched only on the session's event loop. Only
 * {@link #size()} and {@link #bytes()} may be read from other threads (metrics): one writer, volatile.
 */
public final class ReplayBuffer {

    private final int maxMessages;
    private final long maxBytes;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private long newestSeq;
    /** Bytes of the kept frames, counted by the owning thread. */
    private long heldBytes;
    /** {@link #heldBytes}, published for readers on other threads. */
    private volatile long bytes;
    /** {@code entries.size()}, published for readers on other threads. */
    private volatile int count;

    public ReplayBuffer(int maxMessages, long maxBytes) {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("maxMessages must be >= 1");
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be >= 1");
        }
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
    }

    /**
     * One kept history frame. {@code frame} is kept as given and handed out as it is (no copy per
     * frame on the data path): nothing changes it. A class, not a record, whose equals would compare
     * the array by identity.
     */
    public static final class Entry {
        private final long seq;
        private final byte[] frame;

        public Entry(long seq, byte[] frame) {
            this.seq = seq;
            this.frame = frame;
        }

        public long seq() {
            return seq;
        }

        /** The encoded frame, not a copy: never to be changed. */
        public byte[] frame() {
            return frame;
        }
    }

    /**
     * What a resume after some seq gets: an optional gap ({@code gapFrom..gapTo}, inclusive, both 0
     * when nothing was lost) and the kept frames after it, in order.
     */
    public record Replay(long gapFrom, long gapTo, List<Entry> entries) {
        public boolean hasGap() {
            return gapFrom > 0;
        }
    }

    /**
     * Appends the frame of history message {@code seq}, which must be exactly one more than the
     * newest, then evicts what the bounds no longer allow.
     */
    public void append(long seq, byte[] frame) {
        if (seq != newestSeq + 1) {
            throw new IllegalStateException("seq " + seq + " does not follow " + newestSeq);
        }
        newestSeq = seq;
        entries.addLast(new Entry(seq, frame));
        heldBytes += frame.length;
        bytes = heldBytes;
        count = entries.size();
        while (!entries.isEmpty() && (entries.size() > maxMessages || heldBytes > maxBytes)) {
            evictOldest();
        }
    }

    /** Drops every frame up to and including {@code seq}; a seq beyond the newest is the caller's error. */
    public void ackUpTo(long seq) {
        if (seq > newestSeq) {
            throw new IllegalArgumentException("ack " + seq + " is beyond the newest seq " + newestSeq);
        }
        while (!entries.isEmpty() && entries.peekFirst().seq() <= seq) {
            evictOldest();
        }
    }

    /**
     * The frames after {@code lastSeq} and the gap before them, if evictions or acks removed any.
     *
     * @param lastSeq the highest seq the client has processed, between 0 and {@link #newestSeq()}
     */
    public Replay replayAfter(long lastSeq) {
        if (lastSeq < 0 || lastSeq > newestSeq) {
            throw new IllegalArgumentException("lastSeq " + lastSeq + " outside 0.." + newestSeq);
        }
        long firstWanted = lastSeq + 1;
        long firstKept = oldestSeq();
        long gapFrom = 0;
        long gapTo = 0;
        if (firstWanted < firstKept) {
            gapFrom = firstWanted;
            gapTo = firstKept - 1;
        }
        List<Entry> replay = new ArrayList<>();
        Iterator<Entry> it = entries.descendingIterator();
        while (it.hasNext()) {
            Entry entry = it.next();
            if (entry.seq() <= lastSeq) {
                break;
            }
            replay.add(entry);
        }
        Collections.reverse(replay);
        return new Replay(gapFrom, gapTo, replay);
    }

    /**
     * Makes this (empty) buffer continue a session's stored history: it keeps {@code stored}
     * (consecutive frames, oldest first, within the bounds) and its newest seq becomes
     * {@code newestSeq}. When {@code newestSeq} is beyond the last stored frame (seqs that were sent
     * and never stored), nothing is kept, so a resume sees one gap instead of a hole in the middle.
     */
    public void restore(List<Entry> stored, long newestSeq) {
        if (this.newestSeq != 0 || !entries.isEmpty()) {
            throw new IllegalStateException("restore into a buffer that has history");
        }
        long last = stored.isEmpty() ? newestSeq : stored.get(stored.size() - 1).seq();
        if (newestSeq < last) {
            throw new IllegalArgumentException("newest seq " + newestSeq + " is before the stored " + last);
        }
        if (last == newestSeq) {
            long expected = stored.isEmpty() ? 0 : stored.get(0).seq();
            for (Entry entry : stored) {
                if (entry.seq() != expected++) {
                    throw new IllegalArgumentException("stored history is not consecutive at seq " + entry.seq());
                }
            }
            for (Entry entry : stored) {
                this.newestSeq = entry.seq() - 1;
                append(entry.seq(), entry.frame());
            }
        }
        this.newestSeq = newestSeq;
    }

    /** The newest seq ever appended; 0 before the first. */
    public long newestSeq() {
        return newestSeq;
    }

    /** The seq of the oldest kept frame, or {@code newestSeq() + 1} when nothing is kept. */
    public long oldestSeq() {
        return entries.isEmpty() ? newestSeq + 1 : entries.peekFirst().seq();
    }

    /** Number of kept frames. */
    public int size() {
        return count;
    }

    /** Total bytes of the kept frames. */
    public long bytes() {
        return bytes;
    }

    private void evictOldest() {
        Entry evicted = entries.removeFirst();
        heldBytes -= evicted.frame().length;
        bytes = heldBytes;
        count = entries.size();
    }
}
