package dev.tether.loadtest.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.RunStats.Metric;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** What a turn records into the run's HdrHistograms, from the time its message counts from. */
class TurnsTest {

    private static final long MS = 1_000_000;

    @Test
    void firstEventAndRoundTripCountFromTheScheduledTime() {
        RunStats stats = new RunStats();
        stats.begin(0, 0);
        Turns turns = new Turns(stats);
        // Due at 10 ms, sent late; first delta at 13 ms, result at 16 ms.
        turns.add("m1", 10 * MS, TextNode.valueOf("x"), true);
        assertTrue(turns.event("m1", false, 13 * MS));
        assertTrue(turns.event("m1", false, 14 * MS), "a later delta counts nothing more");
        assertTrue(turns.event("m1", true, 16 * MS));
        Histogram first = stats.histogram(Metric.FIRST_EVENT);
        Histogram roundTrip = stats.histogram(Metric.ROUND_TRIP);
        assertEquals(1, first.getTotalCount());
        assertEquals(3_000.0, (double) first.getMaxValue(), 3.0, "3 ms in microseconds");
        assertEquals(1, roundTrip.getTotalCount());
        assertEquals(
                6_000.0, (double) roundTrip.getMaxValue(), 6.0, "6 ms from the scheduled time, not from the late send");
        assertEquals(1, stats.resultCount());
        assertTrue(turns.isEmpty());
        assertFalse(turns.event("m1", true, 20 * MS), "a second result is not ours any more");
        assertEquals(1, stats.resultCount());
    }

    @Test
    void messagesScheduledInTheWarmUpStayOutOfTheTotals() {
        RunStats stats = new RunStats();
        stats.begin(0, 100 * MS);
        Turns turns = new Turns(stats);
        turns.add("warm", 50 * MS, TextNode.valueOf("x"), true);
        turns.add("measured", 100 * MS, TextNode.valueOf("x"), true);
        turns.event("warm", true, 120 * MS);
        turns.event("measured", true, 121 * MS);
        assertEquals(1, stats.histogram(Metric.ROUND_TRIP).getTotalCount());
        assertEquals(21_000.0, (double) stats.histogram(Metric.ROUND_TRIP).getMaxValue(), 21.0);
        assertEquals(2, stats.resultCount(), "both answered");
    }

    @Test
    void aMessageThatWakesASleepingSessionCountsItsFirstEventApartFromTheWarmOnes() {
        RunStats stats = new RunStats();
        stats.begin(0, 0);
        Turns turns = new Turns(stats);
        turns.add("warm", 10 * MS, TextNode.valueOf("x"), true);
        turns.add("wake", 10 * MS, TextNode.valueOf("x"), true);
        turns.wake("wake");
        turns.wake("unknown"); // not waiting here: nothing to mark
        turns.event("warm", false, 12 * MS);
        turns.event("wake", false, 510 * MS);
        turns.event("wake", true, 520 * MS);
        Histogram warm = stats.histogram(Metric.FIRST_EVENT);
        Histogram wake = stats.histogram(Metric.WAKE_FIRST_EVENT);
        assertEquals(1, warm.getTotalCount());
        assertEquals(2_000.0, (double) warm.getMaxValue(), 2.0);
        assertEquals(1, wake.getTotalCount());
        assertEquals(500_000.0, (double) wake.getMaxValue(), 500.0, "500 ms in microseconds");
        assertEquals(1, stats.histogram(Metric.ROUND_TRIP).getTotalCount(), "its round trip counts as any other");
    }

    @Test
    void onlyUnacceptedSentMessagesAreResentAndUnsentOnesGoOutOnce() {
        Turns turns = new Turns(new RunStats());
        turns.add("a", 0, TextNode.valueOf("a"), true);
        turns.add("b", 0, TextNode.valueOf("b"), true);
        turns.add("c", 0, TextNode.valueOf("c"), false);
        turns.accepted("a");
        assertEquals(1, turns.toResend().size());
        assertEquals("b", turns.toResend().get(0).id);
        assertEquals("c", turns.takeUnsent().get(0).id);
        assertEquals(0, turns.takeUnsent().size());
        assertTrue(turns.refused("b"));
        assertEquals(2, turns.size());
    }
}
