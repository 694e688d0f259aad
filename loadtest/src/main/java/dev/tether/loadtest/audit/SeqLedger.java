package dev.tether.loadtest.audit;

import java.util.Arrays;

/**
 * What each seq of one session carried when this client first saw it ({@link ContentHash}), or that
 * it was announced lost: the memory that lets every later delivery of a seq be compared, and that
 * tells which seqs the client has. Indexed by seq (seqs are dense), 8 bytes each. Not thread-safe:
 * owned by one {@link SessionAudit}.
 */
final class SeqLedger {

    /** Not seen. */
    static final long UNSEEN = 0;
    /** Announced lost by a {@code replay_gap} before it was seen. */
    static final long LOST = -1;

    private long[] hashes = new long[256];
    private long highest;

    /** What {@code seq} carried: its hash, {@link #UNSEEN} or {@link #LOST}. */
    long get(long seq) {
        return seq < 1 || seq >= hashes.length ? UNSEEN : hashes[(int) seq];
    }

    boolean seen(long seq) {
        long h = get(seq);
        return h != UNSEEN && h != LOST;
    }

    /** Records {@code seq}'s content (or {@link #LOST}). */
    void put(long seq, long hash) {
        if (seq < 1 || seq > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("seq " + seq + " out of the range this audit keeps");
        }
        if (seq >= hashes.length) {
            hashes =
                    Arrays.copyOf(hashes, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(seq + 1, hashes.length * 2L)));
        }
        hashes[(int) seq] = hash;
        if (hash != LOST) {
            highest = Math.max(highest, seq);
        }
    }

    /** The highest seq seen (not merely announced lost); 0 before the first. */
    long highest() {
        return highest;
    }
}
