package dev.tether.loadtest.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionScheduleTest {

    @Test
    void theSessionsTogetherSendExactlyTheRunsScheduleRoundRobin() {
        long start = 1_000_000_000L;
        double rate = 1_000;
        int sessions = 7;
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            SessionSchedule s = new SessionSchedule(start, rate, i, sessions);
            for (long j = 0; j < 100; j++) {
                all.add(s.dueAt(j));
            }
        }
        Collections.sort(all);
        for (int k = 0; k < all.size(); k++) {
            assertEquals(start + Math.round(k * 1e6), all.get(k), "message " + k + " is due at start + k / rate");
        }
    }

    @Test
    void sessionIsMessagesAreSessionsApart() {
        SessionSchedule s = new SessionSchedule(0, 10_000, 3, 100);
        assertEquals(300_000, s.dueAt(0), "message 3 of the run, 0.3 ms in");
        assertEquals(10_300_000, s.dueAt(1), "message 103 of the run");
    }

    @Test
    void refusesARateThatIsNotPositiveAndAnIndexOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> new SessionSchedule(0, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SessionSchedule(0, Double.POSITIVE_INFINITY, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SessionSchedule(0, 1, 1, 1));
    }
}
