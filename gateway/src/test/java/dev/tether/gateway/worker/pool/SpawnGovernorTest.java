package dev.tether.gateway.worker.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.PoolConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SpawnGovernorTest {

    private static final long S = Duration.ofSeconds(1).toNanos();

    private static SpawnGovernor governor(int breakerFailures) {
        return new SpawnGovernor(new PoolConfig(
                1,
                10,
                Duration.ofMillis(250),
                Duration.ofSeconds(30),
                Duration.ofSeconds(1),
                Duration.ofSeconds(60),
                breakerFailures,
                Duration.ofSeconds(30),
                false,
                Duration.ofSeconds(60)));
    }

    @Test
    void backoffDoublesFromInitialAndCapsAtMax() {
        long[] expected = {0, 1, 2, 4, 8, 16, 32, 60, 60};
        for (int failures = 0; failures < expected.length; failures++) {
            assertEquals(
                    expected[failures] * S, SpawnGovernor.backoffNanos(S, 60 * S, failures), "failures " + failures);
        }
        assertEquals(60 * S, SpawnGovernor.backoffNanos(S, 60 * S, 1000), "no overflow");
        assertEquals(Long.MAX_VALUE, SpawnGovernor.backoffNanos(Long.MAX_VALUE, Long.MAX_VALUE, 5));
    }

    @Test
    void backgroundSpawnsAreStaggered() {
        SpawnGovernor governor = governor(5);
        assertEquals(0, governor.backgroundDelay(0));
        governor.onSpawn(0, true);
        assertEquals(Duration.ofMillis(250).toNanos(), governor.backgroundDelay(0));
        assertEquals(0, governor.backgroundDelay(Duration.ofMillis(250).toNanos()));
        governor.onSpawn(0, false);
        assertEquals(
                Duration.ofMillis(100).toNanos(),
                governor.backgroundDelay(Duration.ofMillis(150).toNanos()),
                "cold spawns do not move the stagger");
    }

    @Test
    void breakerCycle() {
        SpawnGovernor governor = governor(2);
        assertEquals(SpawnGovernor.Outcome.COUNTED, governor.onFailure(0, false, "one"));
        assertEquals(S, governor.backgroundDelay(0));
        assertNull(governor.refuseCold(0), "backoff alone does not refuse cold starts");
        assertEquals(SpawnGovernor.Outcome.OPENED, governor.onFailure(0, false, "two"));
        assertEquals(BreakerState.OPEN, governor.breaker(0));
        assertNotNull(governor.refuseCold(0));
        assertTrue(governor.refuseCold(0).contains("two"));
        assertEquals(30 * S, governor.backgroundDelay(0));

        assertEquals(BreakerState.HALF_OPEN, governor.breaker(30 * S));
        assertEquals(0, governor.backgroundDelay(30 * S), "the trial does not wait for the backoff");
        assertTrue(governor.onSpawn(30 * S, true), "the first spawn is the trial");
        assertEquals(SpawnGovernor.UNTIL_EVENT, governor.backgroundDelay(30 * S));
        assertNotNull(governor.refuseCold(30 * S));
        assertEquals(SpawnGovernor.Outcome.REOPENED, governor.onFailure(31 * S, true, "three"));
        assertEquals(BreakerState.OPEN, governor.breaker(60 * S));

        assertEquals(BreakerState.HALF_OPEN, governor.breaker(61 * S));
        assertNull(governor.refuseCold(61 * S), "a cold start may be the trial");
        assertTrue(governor.onSpawn(61 * S, false));
        assertFalse(governor.onSpawn(61 * S, false));
        assertTrue(governor.onSuccess());
        assertEquals(BreakerState.CLOSED, governor.breaker(61 * S));
        assertEquals(0, governor.consecutiveFailures());
        assertEquals(3, governor.spawnFailures());
        assertEquals(0, governor.failureDelay(61 * S));
    }
}
