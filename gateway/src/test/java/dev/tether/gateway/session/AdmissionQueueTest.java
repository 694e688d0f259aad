package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The {@code estimated_wait} estimator of the admission line, on made-up admission times. */
class AdmissionQueueTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private static ArrayDeque<Long> admissions(Long... times) {
        return new ArrayDeque<>(List.of(times));
    }

    @Test
    void unknownUntilTwoAdmissionsWereSeen() {
        assertNull(AdmissionQueue.estimate(admissions(), 1, 0));
        assertNull(AdmissionQueue.estimate(admissions(5 * SECOND), 1, 6 * SECOND));
    }

    @Test
    void positionTimesTheMeanSpacingRoundedUp() {
        // Admissions 0 s, 4 s, 10 s apart: a mean spacing of 5 s.
        ArrayDeque<Long> seen = admissions(0L, 4 * SECOND, 10 * SECOND);
        assertEquals(5L, AdmissionQueue.estimate(seen, 1, 11 * SECOND));
        assertEquals(15L, AdmissionQueue.estimate(seen, 3, 11 * SECOND));
        assertEquals(1L, AdmissionQueue.estimate(admissions(0L, SECOND / 3), 1, SECOND));
    }

    @Test
    void unknownAgainWhenTheNewestAdmissionIsOlderThanTheHorizon() {
        long newest = 10 * SECOND;
        ArrayDeque<Long> seen = admissions(0L, newest);
        long horizon = AdmissionQueue.TURNOVER_HORIZON_SECONDS * SECOND;
        assertEquals(10L, AdmissionQueue.estimate(seen, 1, newest + horizon));
        assertNull(AdmissionQueue.estimate(seen, 1, newest + horizon + 1));
    }
}
