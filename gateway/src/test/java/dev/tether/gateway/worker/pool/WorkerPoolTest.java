package dev.tether.gateway.worker.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.PoolConfig;
import dev.tether.gateway.worker.FakeWorker;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerUnavailableException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The pool on a {@link ManualScheduler}: time moves only when the test says, nothing sleeps. */
class WorkerPoolTest {

    private static final Duration INTERVAL = Duration.ofMillis(250);
    private static final Duration INIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration COOLDOWN = Duration.ofSeconds(30);

    private final ManualScheduler scheduler = new ManualScheduler();
    private final FakeLauncher launcher = new FakeLauncher("a", scheduler);

    /** A pool config with test-friendly defaults; the arguments are what the tests vary. */
    private static PoolConfig config(int minIdle, int maxWorkers) {
        return config(minIdle, maxWorkers, INTERVAL, Duration.ofSeconds(1), Duration.ofSeconds(8), 3);
    }

    private static PoolConfig config(
            int minIdle,
            int maxWorkers,
            Duration interval,
            Duration backoffInitial,
            Duration backoffMax,
            int breakerFailures) {
        return new PoolConfig(
                minIdle,
                maxWorkers,
                interval,
                INIT_TIMEOUT,
                backoffInitial,
                backoffMax,
                breakerFailures,
                COOLDOWN,
                true,
                Duration.ofSeconds(60));
    }

    private WorkerPool started(PoolConfig config) {
        WorkerPool pool = new WorkerPool(config, launcher, scheduler, scheduler.ticker());
        pool.start();
        scheduler.runDue();
        return pool;
    }

    private static Worker now(CompletionStage<Worker> stage) {
        CompletableFuture<Worker> future = stage.toCompletableFuture();
        assertTrue(future.isDone(), "stage should be complete");
        return future.join();
    }

    private static Throwable failure(CompletionStage<?> stage) {
        CompletableFuture<?> future = stage.toCompletableFuture();
        assertTrue(future.isCompletedExceptionally(), "stage should have failed");
        ExecutionException e = assertThrows(ExecutionException.class, future::get);
        return e.getCause();
    }

    // ---- refill ----

    @Test
    void fillsToMinIdleOneSpawnPerIntervalNeverABurst() {
        WorkerPool pool = started(config(5, 10));
        assertEquals(1, launcher.attempts);

        scheduler.advance(Duration.ofMillis(249));
        assertEquals(1, launcher.attempts, "no second spawn before spawn_interval");
        scheduler.advance(Duration.ofMillis(1));
        assertEquals(2, launcher.attempts);
        scheduler.advance(Duration.ofSeconds(2));
        assertEquals(5, launcher.attempts, "exactly min_idle spawns while they start");
        for (int i = 1; i < launcher.launchTimes.size(); i++) {
            assertEquals(INTERVAL.toNanos(), launcher.launchTimes.get(i) - launcher.launchTimes.get(i - 1));
        }
        assertEquals(5, pool.status().starting());

        launcher.launched.forEach(FakeWorker::becomeReady);
        scheduler.advance(Duration.ofSeconds(10));
        PoolStatus status = pool.status();
        assertEquals(5, status.warm());
        assertEquals(0, status.starting());
        assertEquals(5, status.live());
        assertEquals(5, status.spawned());
        assertEquals(5, launcher.attempts, "full: no more spawns");
        assertEquals(BreakerState.CLOSED, status.breaker());
    }

    @Test
    void acquireHandsOutEachWarmWorkerOnceAndRefills() throws Exception {
        WorkerPool pool = started(config(2, 10));
        scheduler.advance(INTERVAL);
        launcher.launched.forEach(FakeWorker::becomeReady);
        assertEquals(2, pool.status().warm());

        Worker first = now(pool.acquire());
        Worker second = now(pool.acquire());
        assertNotSame(first, second);
        assertTrue(launcher.launched.containsAll(List.of(first, second)));
        assertEquals(0, pool.status().warm());
        assertEquals(2, pool.status().live());

        scheduler.runDue();
        assertEquals(2, launcher.attempts, "the refill keeps spawn_interval after the last spawn");
        scheduler.advance(INTERVAL);
        assertEquals(3, launcher.attempts, "the acquire triggered a refill");
        scheduler.advance(INTERVAL.minusMillis(1));
        assertEquals(3, launcher.attempts);
        scheduler.advance(Duration.ofMillis(1));
        assertEquals(4, launcher.attempts);
        launcher.get(2).becomeReady();
        launcher.get(3).becomeReady();

        Set<Worker> handedOut = new HashSet<>(List.of(first, second));
        assertTrue(handedOut.add(now(pool.acquire())), "never the same worker twice");
        assertTrue(handedOut.add(now(pool.acquire())), "never the same worker twice");
        assertEquals(4, pool.status().live());
    }

    @Test
    void emptyPoolStartsAColdWorkerOnTheSchedulerAndCompletesWhenReady() throws Exception {
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> stage = pool.acquire();
        assertFalse(stage.toCompletableFuture().isDone());
        assertEquals(0, launcher.attempts, "launch() never runs on the caller's thread");
        assertEquals(1, pool.status().starting());
        assertEquals(1, pool.status().live());

        scheduler.runDue();
        assertEquals(1, launcher.attempts);
        assertFalse(stage.toCompletableFuture().isDone(), "completes on ready, not on launch");
        launcher.last().becomeReady();
        assertSame(launcher.last(), now(stage));
        assertEquals(0, pool.status().warm(), "a cold worker goes to its session, not the pool");
        assertEquals(1, pool.status().live());
    }

    @Test
    void coldStartsAreNotStaggered() throws Exception {
        WorkerPool pool = started(config(0, 10));
        pool.acquire();
        pool.acquire();
        pool.acquire();
        scheduler.runDue();
        assertEquals(3, launcher.attempts);
        assertEquals(3, pool.status().starting());
    }

    @Test
    void launchesOverlapWhileTheirProcessesAreCreated() throws Exception {
        launcher.holding = true;
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> first = pool.acquire();
        CompletionStage<Worker> second = pool.acquire();
        scheduler.runDue();
        assertEquals(2, launcher.attempts, "the second launch does not wait for the first process");
        assertEquals(2, pool.status().starting());

        FakeWorker two = launcher.release(1);
        FakeWorker one = launcher.release(0);
        two.becomeReady();
        assertSame(two, now(second));
        assertFalse(first.toCompletableFuture().isDone());
        one.becomeReady();
        assertSame(one, now(first));
        assertEquals(2, pool.status().live());
    }

    @Test
    void aLaunchThatFailsAfterReturningIsASpawnFailure() throws Exception {
        launcher.holding = true;
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> stage = pool.acquire();
        scheduler.runDue();
        launcher.failHeld(0);
        assertTrue(
                failure(stage).getMessage().contains("fork failed"),
                failure(stage).getMessage());
        assertEquals(1, pool.status().consecutiveFailures());
        assertEquals(0, pool.status().live(), "no process, so nothing left to wait for");
    }

    @Test
    void aProcessCreatedAfterCloseIsStoppedAndAwaited() throws Exception {
        launcher.holding = true;
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> stage = pool.acquire();
        scheduler.runDue();
        pool.close();
        assertTrue(failure(stage).getMessage().contains("shutting down"));
        assertFalse(pool.terminated().toCompletableFuture().isDone(), "a process may still come");

        FakeWorker late = launcher.release(0);
        assertTrue(late.stopped(), "nobody will use it");
        assertTrue(pool.terminated().toCompletableFuture().isDone());
        assertEquals(0, pool.status().live());
    }

    @Test
    void cancelledColdStartJoinsThePoolWhenReady() throws Exception {
        WorkerPool pool = started(config(0, 10));
        pool.acquire().toCompletableFuture().cancel(false);
        scheduler.runDue();
        launcher.last().becomeReady();
        assertEquals(1, pool.status().warm());
        assertSame(launcher.last(), now(pool.acquire()));
    }

    // ---- capacity ----

    @Test
    void atMaxWorkersAcquireIsRefusedUntilAWorkerExits() throws Exception {
        WorkerPool pool = started(config(0, 2));
        pool.acquire();
        pool.acquire();
        WorkerUnavailableException refused = assertThrows(WorkerUnavailableException.class, pool::acquire);
        assertTrue(refused.getMessage().contains("pool.max_workers (2)"), refused.getMessage());

        scheduler.runDue();
        launcher.launched.forEach(FakeWorker::becomeReady);
        assertThrows(WorkerUnavailableException.class, pool::acquire, "workers in sessions still count");

        launcher.get(0).exit(0);
        assertEquals(1, pool.status().live());
        CompletionStage<Worker> stage = pool.acquire();
        scheduler.runDue();
        launcher.last().becomeReady();
        assertSame(launcher.get(2), now(stage));
    }

    @Test
    void refillStopsAtMaxWorkers() {
        WorkerPool pool = started(config(3, 3));
        scheduler.advance(Duration.ofSeconds(5));
        assertEquals(3, launcher.attempts);
        launcher.launched.forEach(FakeWorker::becomeReady);
        assertEquals(3, pool.status().warm());
        assertThrows(WorkerUnavailableException.class, () -> {
            for (int i = 0; i < 4; i++) {
                pool.acquire();
            }
        });
        scheduler.advance(Duration.ofSeconds(5));
        assertEquals(3, launcher.attempts, "no spawn beyond max_workers");
        launcher.get(0).exit(0);
        scheduler.runDue();
        assertEquals(4, launcher.attempts, "capacity returned: refill resumes");
    }

    // ---- failures ----

    @Test
    void workerNotReadyWithinInitTimeoutIsKilledCountedAndReplaced() {
        WorkerPool pool = started(config(1, 10));
        FakeWorker slow = launcher.last();
        scheduler.advance(INIT_TIMEOUT.minusMillis(1));
        assertFalse(slow.killed());
        scheduler.advance(Duration.ofMillis(1));
        assertTrue(slow.killed());
        PoolStatus status = pool.status();
        assertEquals(1, status.spawnFailures());
        assertEquals(1, status.consecutiveFailures());
        assertEquals(0, status.live());
        assertTrue(status.lastFailure().contains("pool.init_timeout (10s)"), status.lastFailure());

        scheduler.advance(Duration.ofSeconds(1)); // backoff_initial
        assertEquals(2, launcher.attempts);
        launcher.last().becomeReady();
        assertEquals(1, pool.status().warm());
        assertEquals(0, pool.status().consecutiveFailures());
    }

    @Test
    void coldStartThatTimesOutFailsItsStage() throws Exception {
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> stage = pool.acquire();
        scheduler.advance(INIT_TIMEOUT);
        assertTrue(launcher.last().killed());
        Throwable cause = failure(stage);
        assertInstanceOf(WorkerUnavailableException.class, cause);
        assertTrue(cause.getMessage().contains("pool.init_timeout"), cause.getMessage());
    }

    @Test
    void readyFailureAndExitBeforeReadyAreSpawnFailures() throws Exception {
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> crashed = pool.acquire();
        CompletionStage<Worker> refused = pool.acquire();
        scheduler.runDue();
        launcher.get(0).exit(3);
        launcher.get(1).ready().completeExceptionally(new IllegalStateException("worker said: bad config"));

        assertTrue(failure(crashed).getMessage().contains("exited before ready: exit code 3"));
        assertTrue(failure(refused).getMessage().contains("bad config"));
        assertTrue(launcher.get(1).killed(), "a worker that failed to start is killed");
        assertEquals(2, pool.status().spawnFailures());
        assertEquals(0, pool.status().live());
    }

    @Test
    void backoffDoublesAndCaps() {
        launcher.failing = true;
        WorkerPool pool = started(config(1, 10, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(4), 100));
        assertEquals(Duration.ofSeconds(1), pool.status().backoffRemaining());
        scheduler.advance(Duration.ofSeconds(30));
        List<Long> times = launcher.launchTimes;
        long[] expected = {1, 2, 4, 4, 4, 4};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Duration.ofSeconds(expected[i]).toNanos(), times.get(i + 1) - times.get(i), "gap " + i);
        }
        assertTrue(
                pool.status().lastFailure().contains("No such file"),
                pool.status().lastFailure());
        assertEquals(BreakerState.CLOSED, pool.status().breaker());
    }

    @Test
    void breakerOpensAfterConsecutiveFailuresAndBlocksSpawnsAndColdStarts() {
        launcher.failing = true;
        WorkerPool pool = started(config(1, 10, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 3));
        scheduler.advance(Duration.ofSeconds(2)); // failures at 0s, 1s, 2s
        assertEquals(3, launcher.attempts);
        PoolStatus status = pool.status();
        assertEquals(BreakerState.OPEN, status.breaker());
        assertEquals(COOLDOWN, status.backoffRemaining());
        assertFalse(status.spawning());

        WorkerUnavailableException refused = assertThrows(WorkerUnavailableException.class, pool::acquire);
        assertTrue(refused.getMessage().contains("circuit breaker"), refused.getMessage());
        scheduler.advance(COOLDOWN.minusMillis(1));
        assertEquals(3, launcher.attempts, "no spawns while open");
        assertEquals(BreakerState.OPEN, pool.status().breaker());
    }

    @Test
    void halfOpenTrialSuccessClosesTheBreaker() throws Exception {
        launcher.failing = true;
        WorkerPool pool = started(config(1, 10, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 3));
        scheduler.advance(Duration.ofSeconds(2));
        launcher.failing = false;
        scheduler.advance(COOLDOWN);
        assertEquals(4, launcher.attempts, "one trial spawn");
        assertEquals(BreakerState.HALF_OPEN, pool.status().breaker());
        WorkerUnavailableException refused = assertThrows(WorkerUnavailableException.class, pool::acquire);
        assertTrue(refused.getMessage().contains("trial"), refused.getMessage());

        launcher.last().becomeReady();
        PoolStatus status = pool.status();
        assertEquals(BreakerState.CLOSED, status.breaker());
        assertEquals(0, status.consecutiveFailures());
        assertEquals(Duration.ZERO, status.backoffRemaining());
        assertEquals(1, status.warm());
    }

    @Test
    void halfOpenTrialFailureReopensTheBreaker() {
        launcher.failing = true;
        WorkerPool pool = started(config(1, 10, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 3));
        scheduler.advance(Duration.ofSeconds(2));
        scheduler.advance(COOLDOWN);
        assertEquals(4, launcher.attempts);
        assertEquals(BreakerState.OPEN, pool.status().breaker());
        scheduler.advance(COOLDOWN.minusMillis(1));
        assertEquals(4, launcher.attempts);
        scheduler.advance(Duration.ofMillis(1));
        assertEquals(5, launcher.attempts, "the next trial after another cooldown");
    }

    @Test
    void coldStartIsTheTrialWhenNothingRefills() throws Exception {
        launcher.failing = true;
        WorkerPool pool = started(config(0, 10));
        for (int i = 0; i < 3; i++) {
            CompletionStage<Worker> stage = pool.acquire();
            scheduler.runDue();
            assertInstanceOf(WorkerUnavailableException.class, failure(stage));
        }
        assertThrows(WorkerUnavailableException.class, pool::acquire);
        scheduler.advance(COOLDOWN);
        assertEquals(BreakerState.HALF_OPEN, pool.status().breaker());

        launcher.failing = false;
        CompletionStage<Worker> trial = pool.acquire();
        assertThrows(WorkerUnavailableException.class, pool::acquire, "one trial at a time");
        scheduler.runDue();
        launcher.last().becomeReady();
        assertSame(launcher.last(), now(trial));
        assertEquals(BreakerState.CLOSED, pool.status().breaker());
    }

    @Test
    void warmWorkersAreStillHandedOutWhileTheBreakerIsOpen() throws Exception {
        WorkerPool pool = started(config(2, 10, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 3));
        assertEquals(2, launcher.attempts);
        launcher.get(0).becomeReady();
        launcher.failing = true;
        launcher.get(1).exit(1); // failure 1; the refill's next two launches throw
        scheduler.advance(Duration.ofSeconds(2));
        assertEquals(BreakerState.OPEN, pool.status().breaker());
        assertSame(launcher.get(0), now(pool.acquire()));
        assertThrows(WorkerUnavailableException.class, pool::acquire);
    }

    // ---- warm start ----

    @Test
    void awaitWarmIsTrueAtOnceWithoutMinIdle() throws Exception {
        WorkerPool pool = started(config(0, 10));
        assertTrue(pool.awaitWarm(Duration.ofSeconds(60)));
    }

    @Test
    void whenWarmCompletesWhenAWorkerIsReady() throws Exception {
        WorkerPool pool = started(config(2, 10));
        CompletionStage<Boolean> warm = pool.whenWarm(Duration.ofSeconds(60));
        scheduler.advance(Duration.ofSeconds(5));
        assertFalse(warm.toCompletableFuture().isDone());
        launcher.get(0).becomeReady();
        assertTrue(warm.toCompletableFuture().getNow(false));
        assertTrue(pool.awaitWarm(Duration.ofSeconds(60)), "already warm: no wait");
    }

    @Test
    void whenWarmIsFalseAfterTheTimeoutAndExplainsWhy() {
        launcher.failing = true;
        WorkerPool pool = started(config(2, 10));
        CompletionStage<Boolean> warm = pool.whenWarm(Duration.ofSeconds(60));
        scheduler.advance(Duration.ofSeconds(60).minusMillis(1));
        assertFalse(warm.toCompletableFuture().isDone());
        scheduler.advance(Duration.ofMillis(1));
        assertFalse(warm.toCompletableFuture().getNow(true));

        String message = pool.notWarmMessage(Duration.ofSeconds(60));
        assertTrue(message.contains("pool.require_warm_on_start"), message);
        assertTrue(message.contains("pool.warm_start_timeout (1m)"), message);
        assertTrue(message.contains("No such file or directory"), message);
    }

    // ---- reconfiguration ----

    @Test
    void reconfigureReplacesIdleWorkersAndDiscardsStartingOnesOfTheOldConfig() throws Exception {
        WorkerPool pool = started(config(2, 10));
        scheduler.advance(INTERVAL);
        launcher.launched.forEach(FakeWorker::becomeReady);
        FakeWorker inSession = (FakeWorker) now(pool.acquire());
        scheduler.advance(INTERVAL);
        FakeWorker oldStarting = launcher.last();
        FakeWorker oldIdle = launcher.launched.stream()
                .filter(w -> w != inSession && w != oldStarting)
                .findFirst()
                .orElseThrow();
        assertEquals(3, launcher.attempts);

        FakeLauncher next = new FakeLauncher("b", scheduler);
        pool.reconfigure(next);
        assertTrue(oldIdle.stopped(), "an idle worker of the old config is stopped");
        assertFalse(inSession.stopped(), "workers in sessions are left alone");
        assertFalse(oldStarting.stopped());
        assertEquals(0, pool.status().warm());

        scheduler.advance(Duration.ofSeconds(5));
        assertEquals(3, launcher.attempts, "nothing more from the old launcher");
        assertEquals(2, next.attempts, "replacements, staggered");
        assertEquals(INTERVAL.toNanos(), next.launchTimes.get(1) - next.launchTimes.get(0));

        oldStarting.becomeReady();
        assertTrue(oldStarting.stopped(), "an old-config worker that gets ready is discarded");
        next.launched.forEach(FakeWorker::becomeReady);
        assertEquals(2, pool.status().warm());
        Worker fresh = now(pool.acquire());
        assertTrue(next.launched.contains(fresh));
        assertFalse(inSession.stopped());
    }

    @Test
    void reconfigureClosesTheBreaker() {
        launcher.failing = true;
        WorkerPool pool = started(config(1, 10, Duration.ZERO, Duration.ofSeconds(1), Duration.ofSeconds(1), 3));
        scheduler.advance(Duration.ofSeconds(2));
        assertEquals(BreakerState.OPEN, pool.status().breaker());
        FakeLauncher fixed = new FakeLauncher("b", scheduler);
        pool.reconfigure(fixed);
        scheduler.runDue();
        assertEquals(BreakerState.CLOSED, pool.status().breaker());
        assertEquals(1, fixed.attempts);
    }

    // ---- exits and shutdown ----

    @Test
    void warmWorkerThatExitsWhileIdleIsDroppedAndReplaced() throws Exception {
        WorkerPool pool = started(config(1, 10));
        FakeWorker first = launcher.last();
        first.becomeReady();
        assertEquals(1, pool.status().warm());
        first.exit(1);
        assertEquals(0, pool.status().warm());
        assertEquals(0, pool.status().live());
        assertEquals(0, pool.status().spawnFailures(), "it was ready: not a spawn failure");

        scheduler.advance(INTERVAL);
        assertEquals(2, launcher.attempts, "replaced");
        launcher.last().becomeReady();
        assertSame(launcher.last(), now(pool.acquire()), "the exited worker is never handed out");
    }

    @Test
    void closeStopsIdleAndStartingWorkersAndRefusesAcquires() throws Exception {
        WorkerPool pool = started(config(3, 10));
        scheduler.advance(INTERVAL.multipliedBy(2));
        launcher.get(0).becomeReady();
        launcher.get(1).becomeReady();
        FakeWorker inSession = (FakeWorker) now(pool.acquire());
        FakeWorker idle = launcher.get(1);
        FakeWorker starting = launcher.get(2);

        pool.close();
        assertTrue(idle.stopped());
        assertTrue(starting.stopped());
        assertFalse(inSession.stopped(), "a session's worker is its session's to stop");
        WorkerUnavailableException refused = assertThrows(WorkerUnavailableException.class, pool::acquire);
        assertTrue(refused.getMessage().contains("shutting down"), refused.getMessage());
        assertTrue(pool.terminated().toCompletableFuture().isDone());
        assertTrue(pool.status().closed());

        int attempts = launcher.attempts;
        scheduler.advance(Duration.ofMinutes(5));
        assertEquals(attempts, launcher.attempts, "no spawns after close");
        assertEquals(1, pool.status().live(), "only the session's worker is left");
    }

    @Test
    void closeFailsPendingColdStarts() throws Exception {
        WorkerPool pool = started(config(0, 10));
        CompletionStage<Worker> launched = pool.acquire();
        scheduler.runDue();
        CompletionStage<Worker> notYetLaunched = pool.acquire();
        pool.close();
        assertTrue(failure(launched).getMessage().contains("shutting down"));
        assertTrue(failure(notYetLaunched).getMessage().contains("shutting down"));
        assertTrue(launcher.get(0).stopped());
        scheduler.runDue();
        assertEquals(1, launcher.attempts, "a launch scheduled before close does not happen");
        assertTrue(pool.terminated().toCompletableFuture().isDone());
    }

    @Test
    void terminatedWaitsForStoppedWorkersToExit() {
        WorkerPool pool = started(config(1, 10));
        FakeWorker slow = launcher.last();
        slow.holdExitOnStop();
        slow.becomeReady();
        assertFalse(pool.terminated().toCompletableFuture().isDone());

        pool.close();
        assertTrue(slow.stopped());
        assertFalse(pool.terminated().toCompletableFuture().isDone(), "still stopping");
        assertEquals(1, pool.status().live());
        slow.exit(0);
        assertTrue(pool.terminated().toCompletableFuture().isDone());
        assertEquals(0, pool.status().live());
    }
}
