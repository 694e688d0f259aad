package dev.tether.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The polling loop on a fake clock that moves only when the loop pauses: no real time passes. */
class PollTest {

    private static final Duration STEP = Duration.ofMillis(10);

    /** A clock in nanoseconds and the pauses the loop took on it. */
    private final long[] now = {1_000L};

    private final AtomicInteger pauses = new AtomicInteger();
    private final Poll poll = new Poll(() -> now[0], () -> {
        pauses.incrementAndGet();
        now[0] += STEP.toNanos();
    });

    @Test
    void returnsTheFirstAcceptedValueWithoutPausingWhenItHoldsAtOnce() {
        assertEquals("ready", poll.observe("a value", Duration.ofSeconds(1), () -> "ready", "ready"::equals));
        assertEquals(0, pauses.get());
    }

    @Test
    void looksAgainUntilTheConditionHolds() {
        AtomicInteger looks = new AtomicInteger();
        int seen = poll.observe("the third look", Duration.ofSeconds(1), looks::incrementAndGet, n -> n == 3);
        assertEquals(3, seen);
        assertEquals(2, pauses.get(), "a pause between looks, none after the last");
    }

    @Test
    void aTimeoutNamesWhatWasAwaitedAndTheLastValueObserved() {
        AtomicInteger looks = new AtomicInteger();
        AssertionError failure = assertThrows(
                AssertionError.class,
                () -> poll.observe(
                        "the count reaching 100", Duration.ofMillis(50), looks::incrementAndGet, n -> n >= 100));
        assertEquals("not within PT0.05S: the count reaching 100 (last observed: 6)", failure.getMessage());
        assertEquals(5, pauses.get(), "looks at 0, 10, ..., 50 ms: the one at the deadline still counts");
    }

    @Test
    void anAbsentAttemptTimesOutNamingWhatWasAwaited() {
        AssertionError failure = assertThrows(
                AssertionError.class, () -> poll.await("a session id", Duration.ofMillis(20), Optional::empty, null));
        assertEquals("not within PT0.02S: a session id", failure.getMessage());
    }

    @Test
    void aPresentAttemptIsReturned() {
        Object value = new Object();
        AtomicInteger looks = new AtomicInteger();
        Object got = poll.await(
                "the object",
                Duration.ofSeconds(1),
                () -> looks.incrementAndGet() < 4 ? Optional.empty() : Optional.of(value),
                null);
        assertSame(value, got);
    }

    @Test
    void aZeroDeadlineLooksOnce() {
        AtomicInteger looks = new AtomicInteger();
        assertThrows(
                AssertionError.class, () -> poll.observe("never", Duration.ZERO, looks::incrementAndGet, n -> false));
        assertEquals(1, looks.get());
        assertEquals(0, pauses.get());
    }

    @Test
    void anExceptionFromTheConditionEndsTheWaitAtOnce() {
        IllegalStateException broken = new IllegalStateException("broken");
        assertSame(
                broken,
                assertThrows(
                        IllegalStateException.class,
                        () -> poll.observe(
                                "a broken probe",
                                Duration.ofSeconds(1),
                                () -> {
                                    throw broken;
                                },
                                v -> true)));
        assertEquals(0, pauses.get());
    }

    @Test
    void aNegativeDeadlineIsRefused() {
        IllegalArgumentException refused = assertThrows(
                IllegalArgumentException.class, () -> poll.await("x", Duration.ofSeconds(-1), Optional::empty, null));
        assertEquals("deadline: PT-1S (expected: >= 0)", refused.getMessage());
    }

    @Test
    void theStaticFormsPollTheRealClock() {
        AtomicInteger looks = new AtomicInteger();
        Poll.until("the second look", () -> looks.incrementAndGet() >= 2);
        assertEquals(2, looks.get());
        assertEquals(7, Poll.present("seven", () -> Optional.of(7)));
        AssertionError failure =
                assertThrows(AssertionError.class, () -> Poll.until("never", Duration.ZERO, () -> false));
        assertEquals("not within PT0S: never", failure.getMessage());
    }
}
