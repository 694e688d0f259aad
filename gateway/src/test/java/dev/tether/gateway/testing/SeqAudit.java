package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tether.protocol.ServerMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Bookkeeping of the history seqs a client processed across its connections, for checking the
 * resume guarantees: on each connection seqs follow each other by exactly one, and across all
 * connections every seq from the first to the last is processed exactly once. Thread-safe.
 */
public final class SeqAudit {

    private final Map<String, List<Long>> perConnection = new LinkedHashMap<>();

    /** Records the seqs of the history messages among {@code messages}, as processed on {@code connection}. */
    public synchronized SeqAudit record(String connection, List<? extends ServerMessage> messages) {
        perConnection.computeIfAbsent(connection, c -> new ArrayList<>()).addAll(seqs(messages));
        return this;
    }

    /** The seqs recorded for {@code connection}, in arrival order. */
    public synchronized List<Long> seqs(String connection) {
        return List.copyOf(perConnection.getOrDefault(connection, List.of()));
    }

    /** The highest seq recorded on any connection; 0 when none. */
    public synchronized long newest() {
        return perConnection.values().stream()
                .flatMap(List::stream)
                .mapToLong(Long::longValue)
                .max()
                .orElse(0);
    }

    /**
     * Every seq from {@code first} to {@code last} was processed exactly once over all connections,
     * nothing else was, and on each connection they came in order without holes.
     */
    public synchronized void assertExactlyOnce(long first, long last) {
        perConnection.forEach((connection, seqs) -> assertConsecutive(connection, seqs));
        TreeMap<Long, List<String>> where = new TreeMap<>();
        perConnection.forEach((connection, seqs) -> seqs.forEach(
                seq -> where.computeIfAbsent(seq, s -> new ArrayList<>()).add(connection)));
        where.forEach((seq, connections) -> {
            if (connections.size() > 1) {
                fail("seq " + seq + " processed more than once: on " + connections + "; " + this);
            }
        });
        for (long seq = first; seq <= last; seq++) {
            if (!where.containsKey(seq)) {
                fail("seq " + seq + " was never processed; " + this);
            }
        }
        assertEquals(last - first + 1, where.size(), "seqs outside " + first + ".." + last + "; " + this);
    }

    @Override
    public synchronized String toString() {
        return "SeqAudit" + perConnection;
    }

    /** The seqs of the history messages among {@code messages}, in order. */
    public static List<Long> seqs(List<? extends ServerMessage> messages) {
        List<Long> seqs = new ArrayList<>();
        for (ServerMessage message : messages) {
            if (message instanceof ServerMessage.Sequenced sequenced) {
                seqs.add(sequenced.seq());
            }
        }
        return seqs;
    }

    /** {@code seqs} go up by exactly one from each to the next (no repeat, no hole, no reordering). */
    public static void assertConsecutive(String what, List<Long> seqs) {
        for (int i = 1; i < seqs.size(); i++) {
            if (seqs.get(i) != seqs.get(i - 1) + 1) {
                fail(what + ": seq " + seqs.get(i) + " follows " + seqs.get(i - 1) + " in " + seqs);
            }
        }
    }

    /** {@code seqs} are exactly {@code from..to}, in order. */
    public static void assertRange(String what, List<Long> seqs, long from, long to) {
        List<Long> expected = new ArrayList<>();
        for (long seq = from; seq <= to; seq++) {
            expected.add(seq);
        }
        assertEquals(expected, seqs, what);
    }
}
