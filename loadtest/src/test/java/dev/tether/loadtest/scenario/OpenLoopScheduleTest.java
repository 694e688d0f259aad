package dev.tether.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {

    private static final long MS = 1_000_000;

    @Test
    void messagesAreDueAtEvenIntervalsFromTheStart() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(1_000 * MS, 100);
        assertEquals(1_000 * MS, schedule.scheduledAt(0));
        assertEquals(1_010 * MS, schedule.scheduledAt(1));
        assertEquals(2_000 * MS, schedule.scheduledAt(100));
    }

    @Test
    void nothingIsTakenBeforeItsTime() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 100);
        assertEquals(0, schedule.take(0));
        assertEquals(-1, schedule.take(9 * MS));
        assertEquals(10 * MS, schedule.nextDue());
        assertEquals(1, schedule.take(10 * MS));
    }

    @Test
    void aLateSenderTakesEverythingDueAtOnceAndKeepsTheScheduledTimes() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 1000);
        // The sender stalled for 50 ms: the 51 messages due by then all go now, none is skipped,
        // and each keeps its own scheduled time, so the stall shows in their latency.
        long now = 50 * MS;
        List<Long> taken = new ArrayList<>();
        long k;
        while ((k = schedule.take(now)) >= 0) {
            taken.add(k);
        }
        assertEquals(51, taken.size());
        assertEquals(0, schedule.scheduledAt(taken.get(0)));
        assertEquals(50 * MS, schedule.scheduledAt(taken.get(50)));
        assertEquals(51, schedule.taken());
        // The schedule does not drift: the next one is still due at 51 ms, not 1 ms after the stall.
        assertEquals(51 * MS, schedule.nextDue());
    }

    @Test
    void theScheduleDoesNotWaitForAnything() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 3);
        assertEquals(333_333_333L, schedule.scheduledAt(1));
        assertEquals(3_000_000_000L, schedule.scheduledAt(9));
    }

    @Test
    void aRateMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, -5));
        assertThrows(IllegalArgumentException.class, () -> new OpenLoopSchedule(0, Double.NaN));
    }
}
