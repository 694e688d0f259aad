package dev.tether.loadtest.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pacer on an embedded event loop whose time, like the pacer's clock, only moves when the test says. */
class PacerTest {

    private EmbeddedChannel channel;
    private final AtomicLong clock = new AtomicLong(5_000_000_000L);
    private final List<Long> sent = new ArrayList<>();

    @BeforeEach
    void freeze() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
    }

    @AfterEach
    void finish() {
        assertFalse(channel.finish());
    }

    private void advance(long nanos) {
        clock.addAndGet(nanos);
        channel.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    @Test
    void openLoopSendsEachMessageAtItsTimeAndCountsALateOneFromItsTime() {
        long start = clock.get();
        // 1,000 msg/s over 2 sessions: this one (index 1) is due at 1, 3, 5, ... ms.
        Pacer pacer = Pacer.open(
                channel.eventLoop(),
                clock::get,
                sent::add,
                new SessionSchedule(start, 1_000, 1, 2),
                start + 10_000_000);
        pacer.start();
        assertEquals(List.of(), sent, "nothing is due yet");
        advance(1_000_000);
        assertEquals(List.of(start + 1_000_000), sent);
        // The loop was busy for 4.5 ms: the two messages that came due meanwhile go out at once,
        // each counted from its own time (coordinated omission corrected), not from now.
        clock.addAndGet(4_500_000);
        channel.advanceTimeBy(4_500_000, TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        assertEquals(List.of(start + 1_000_000, start + 3_000_000, start + 5_000_000), sent);
        advance(10_000_000);
        assertEquals(5, sent.size(), "due at 1, 3, 5, 7, 9 ms; nothing at or after the end (10 ms)");
        assertEquals(start + 9_000_000, sent.get(4));
        assertTrue(pacer.done().isDone());
    }

    @Test
    void closedLoopKeepsItsMessagesInFlightAndStopsAtTheEnd() {
        long start = clock.get() + 1_000;
        Pacer pacer = Pacer.closed(channel.eventLoop(), clock::get, sent::add, 2, start, start + 1_000_000);
        pacer.start();
        advance(1_000);
        assertEquals(2, sent.size(), "two in flight from the start");
        advance(100_000);
        pacer.answered(clock.get());
        assertEquals(3, sent.size(), "an answer sends the next one");
        assertEquals(clock.get(), sent.get(2), "counted from its actual send");
        advance(1_000_000);
        assertTrue(pacer.done().isDone());
        pacer.answered(clock.get());
        assertEquals(3, sent.size(), "nothing after the end");
    }
}
