package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a session may sleep (contract 1.2, 8.9), on frozen time: every input of the decision. */
class HibernationTest {

    private static final long AFTER = Duration.ofMinutes(10).toMillis();
    private static final long T0 = 1_000_000L;

    private final Hibernation hibernation = new Hibernation(Duration.ofMinutes(10));

    /** A turn ran, the worker checkpointed, and the session went idle at {@link #T0}. */
    private void quietAtT0() {
        hibernation.turnStarted();
        hibernation.checkpointed();
        hibernation.wentIdle(T0);
    }

    @Test
    void dueExactlyHibernateAfterTheLastTurnEnded() {
        quietAtT0();
        assertFalse(hibernation.dueBy(T0 + AFTER - 1));
        assertFalse(hibernation.sleepNow(T0 + AFTER - 1, true));
        assertTrue(hibernation.dueBy(T0 + AFTER));
        assertTrue(hibernation.sleepNow(T0 + AFTER, true));
    }

    @Test
    void aCheckpointAfterTheTurnEndedCountsAndTheQuietTimeStillRunsFromTheTurnsEnd() {
        hibernation.turnStarted();
        hibernation.wentIdle(T0);
        assertFalse(hibernation.dueBy(Long.MAX_VALUE - 1), "no checkpoint yet");
        hibernation.checkpointed();
        assertTrue(hibernation.sleepNow(T0 + AFTER, true));
    }

    @Test
    void aWorkerThatNeverCheckpointsNeverSleeps() {
        hibernation.turnStarted();
        hibernation.wentIdle(T0);
        assertFalse(hibernation.dueBy(Long.MAX_VALUE - 1));
        assertFalse(hibernation.sleepNow(T0 + 365 * AFTER, true));
    }

    @Test
    void aCheckpointOfAnEarlierTurnDoesNotCountForTheNextOne() {
        quietAtT0();
        hibernation.turnStarted(); // this turn sends no checkpoint
        hibernation.wentIdle(T0 + 1);
        assertFalse(hibernation.sleepNow(T0 + 10 * AFTER, true));
    }

    @Test
    void aRunningTurnOrAnythingElseHoldingTheWorkerKeepsItAwake() {
        quietAtT0();
        assertFalse(hibernation.sleepNow(T0 + AFTER, false), "a queued message, a pending request, a drain ...");
        hibernation.turnStarted();
        assertFalse(hibernation.dueBy(T0 + 10 * AFTER));
        assertFalse(hibernation.sleepNow(T0 + 10 * AFTER, true));
    }

    @Test
    void aNewTurnRestartsTheQuietTime() {
        quietAtT0();
        hibernation.turnStarted();
        hibernation.checkpointed();
        hibernation.wentIdle(T0 + AFTER);
        assertFalse(hibernation.sleepNow(T0 + AFTER + AFTER - 1, true));
        assertTrue(hibernation.sleepNow(T0 + 2 * AFTER, true));
    }

    @Test
    void asleepOrJustAwakeNothingCountsUntilTheWorkerIsIdleAgain() {
        quietAtT0();
        hibernation.reset();
        assertFalse(hibernation.dueBy(T0 + 10 * AFTER));
        assertFalse(hibernation.sleepNow(T0 + 10 * AFTER, true));
    }

    @Test
    void aSessionMovedHereWithACheckpointAndNoLostTurnMaySleepOnceIdle() {
        hibernation.resumedFromCheckpoint();
        hibernation.wentIdle(T0);
        assertTrue(hibernation.sleepNow(T0 + AFTER, true));
    }

    @Test
    void zeroMeansNever() {
        Hibernation never = new Hibernation(Duration.ZERO);
        never.checkpointed();
        never.wentIdle(T0);
        assertFalse(never.dueBy(Long.MAX_VALUE));
        assertFalse(never.sleepNow(Long.MAX_VALUE, true));
    }
}
