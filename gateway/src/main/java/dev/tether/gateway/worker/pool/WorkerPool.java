package dev.tether.gateway.worker.pool;

import static java.util.Objects.requireNonNull;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.config.Durations;
import dev.tether.gateway.config.PoolConfig;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.gateway.worker.WorkerUnavailableException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pre-warmed pool: keeps {@code pool.min_idle} workers started and ready so a new session gets
 * one at once, and hands each worker to exactly one session (workers are one-shot).
 *
 * <ul>
 *   <li><b>Refill.</b> After {@link #start()}, one refill task on the scheduler tops the pool up,
 *       one background spawn at most every {@code pool.spawn_interval}, never a burst.
 *   <li><b>Cold starts.</b> A session that finds no warm worker still gets one: {@link #acquire()}
 *       launches it on the scheduler and returns a stage that completes when it is ready. Refused
 *       with {@link WorkerUnavailableException} at {@code pool.max_workers} live workers, while the
 *       circuit breaker is open, and after {@link #close()}.
 *   <li><b>Failures.</b> A launch that throws, a worker that fails to get ready, exits first, or is
 *       not ready within {@code pool.init_timeout} (it is then killed) is a spawn failure. These
 *       back off and open a circuit breaker (see {@link SpawnGovernor}); {@link #status()} reports it.
 *   <li><b>Reconfiguration.</b> {@link #reconfigure} swaps the launcher; idle workers of the old
 *       configuration are stopped and replaced, and starting ones are stopped when they get ready,
 *       so a warm worker never runs stale configuration.
 *   <li><b>Capacity.</b> A worker counts against {@code pool.max_workers} from the moment its launch
 *       is scheduled until its {@link Worker#exited()} stage completes, wherever it is.
 * </ul>
 *
 * <p>Thread-safe. {@link #acquire()} is called on Netty event loops and never blocks on I/O: all
 * state is guarded by one lock held only for bookkeeping, {@link WorkerLauncher#launch()} runs on
 * the scheduler (which should be a dedicated single thread, since launches may take a while), and
 * the effects of a state change (stopping workers, completing stages, logging) run after the lock is
 * released, so no callback ever runs under it. Time comes from the injected ticker and scheduler.
 */
public final class WorkerPool implements WorkerSource {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    /** Where a launched worker is in its life. */
    private enum State {
        /** Capacity reserved, {@code launch()} scheduled or running. */
        LAUNCHING,
        /** Launched, waiting for ready. */
        STARTING,
        /** Ready and waiting for a session. */
        IDLE,
        /** Handed to a session (or promised to a cold-start acquire); the pool only watches its exit. */
        IN_SESSION,
        /** Being stopped or killed by the pool; waiting for its exit. */
        RETIRING,
        /** Exited, or never launched. */
        GONE
    }

    /** One launched (or about to be launched) worker. Guarded by {@link #lock}. */
    private static final class Slot {
        WorkerLauncher launcher;
        int generation;
        /** The session waiting for this cold start, or null for a background spawn. */
        final CompletableFuture<Worker> claim;
        State state = State.LAUNCHING;
        Worker worker;
        ScheduledFuture<?> initTimer;
        /** Counted in {@link #pendingWarm}: a current-generation background spawn not yet ready. */
        boolean pendingWarm;
        /** The half-open breaker's trial spawn. */
        boolean trial;

        Slot(WorkerLauncher launcher, int generation, CompletableFuture<Worker> claim) {
            this.launcher = launcher;
            this.generation = generation;
            this.claim = claim;
        }
    }

    private final PoolConfig config;
    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;
    private final SpawnGovernor governor;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<Slot> slots = new HashSet<>();
    private final ArrayDeque<Slot> idle = new ArrayDeque<>();
    private final int[] counts = new int[State.values().length];
    private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private WorkerLauncher launcher;
    private int generation;
    private int pendingWarm;
    private long spawned;
    private boolean started;
    private boolean closed;
    private ScheduledFuture<?> refill;
    private long refillAt;

    /**
     * @param config the {@code pool} section
     * @param launcher starts workers of the current worker configuration
     * @param scheduler runs launches, the refill task and init timeouts; best a dedicated thread
     * @param ticker monotonic time in nanoseconds, the same time the scheduler's delays are in
     */
    public WorkerPool(PoolConfig config, WorkerLauncher launcher, ScheduledExecutorService scheduler, Ticker ticker) {
        this.config = requireNonNull(config, "config");
        this.launcher = requireNonNull(launcher, "launcher");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.ticker = requireNonNull(ticker, "ticker");
        this.governor = new SpawnGovernor(config);
    }

    /** Starts the background refill toward {@code pool.min_idle}. Idempotent. */
    public void start() {
        lock.lock();
        try {
            if (started || closed) {
                return;
            }
            started = true;
            requestRefill(ticker.read());
        } finally {
            lock.unlock();
        }
        log.info("worker pool started (min_idle {}, max_workers {})", config.minIdle(), config.maxWorkers());
    }

    /**
     * {@inheritDoc}
     *
     * <p>Returns a completed stage with the oldest warm worker if there is one. Otherwise launches a
     * cold worker on the scheduler and returns a stage that completes when it is ready, or
     * exceptionally with {@link WorkerUnavailableException} when it fails to start. If the caller
     * cancels that stage, the worker joins the warm pool when ready. Every call also triggers a
     * refill check. Never blocks.
     */
    @Override
    public CompletionStage<Worker> acquire() throws WorkerUnavailableException {
        Slot cold;
        lock.lock();
        try {
            if (closed) {
                throw new WorkerUnavailableException("worker pool is shutting down");
            }
            long now = ticker.read();
            requestRefill(now);
            Worker warm = takeIdle();
            if (warm != null) {
                return CompletableFuture.completedFuture(warm);
            }
            if (slots.size() >= config.maxWorkers()) {
                throw new WorkerUnavailableException("no worker available: " + slots.size()
                        + " live workers, at pool.max_workers (" + config.maxWorkers() + ")");
            }
            String refusal = governor.refuseCold(now);
            if (refusal != null) {
                throw new WorkerUnavailableException(refusal);
            }
            cold = reserve(new CompletableFuture<>(), now);
        } finally {
            lock.unlock();
        }
        try {
            scheduler.execute(() -> launch(cold));
        } catch (RejectedExecutionException e) {
            abandon(cold);
            throw new WorkerUnavailableException("worker pool is shutting down");
        }
        return cold.claim;
    }

    /**
     * The worker configuration changed: from now on workers come from {@code newLauncher}. Idle
     * workers of the old configuration are stopped at once and replaced (staggered as usual);
     * starting ones are stopped when they get ready, except cold starts a session is already waiting
     * for, which are handed over like workers already in sessions. Resets the backoff and closes the
     * breaker, since failures of the old command say nothing about the new one.
     */
    public void reconfigure(WorkerLauncher newLauncher) {
        requireNonNull(newLauncher, "newLauncher");
        List<Worker> stale = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            launcher = newLauncher;
            generation++;
            governor.reset();
            for (Slot slot : slots) {
                slot.pendingWarm = false;
                slot.trial = false;
            }
            pendingWarm = 0;
            for (Slot slot : idle) {
                transition(slot, State.RETIRING);
                stale.add(slot.worker);
            }
            idle.clear();
            requestRefill(ticker.read());
        } finally {
            lock.unlock();
        }
        log.info("worker configuration changed: replacing {} idle workers", stale.size());
        stale.forEach(Worker::stop);
    }

    /**
     * Completes with {@code true} once a worker has become ready (at once if one already has, or if
     * {@code pool.min_idle} is 0), or with {@code false} when {@code timeout} passes first. The
     * timeout runs on the pool's scheduler, so tests drive it with their clock.
     */
    public CompletionStage<Boolean> whenWarm(Duration timeout) {
        requireNonNull(timeout, "timeout");
        if (config.minIdle() == 0 || firstReady.isDone()) {
            return CompletableFuture.completedFuture(true);
        }
        CompletableFuture<Boolean> result = firstReady.thenApply(v -> true);
        ScheduledFuture<?> timer = scheduler.schedule(() -> result.complete(false), timeout.toNanos(), NANOSECONDS);
        result.whenComplete((warm, error) -> timer.cancel(false));
        return result;
    }

    /**
     * For {@code pool.require_warm_on_start}: blocks the calling (start-up) thread until a worker is
     * warm or {@code timeout} passes. True at once when {@code pool.min_idle} is 0. Do not call on
     * the scheduler thread. On false, fail start-up with {@link #notWarmMessage(Duration)}.
     */
    public boolean awaitWarm(Duration timeout) throws InterruptedException {
        try {
            return whenWarm(timeout).toCompletableFuture().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("waiting for a warm worker failed", e.getCause());
        }
    }

    /** The start-up failure message for when {@link #awaitWarm} returned false after {@code waited}. */
    public String notWarmMessage(Duration waited) {
        PoolStatus status = status();
        return "no worker became ready within pool.warm_start_timeout (" + Durations.format(waited)
                + ") and pool.require_warm_on_start is true: " + status.spawned() + " spawned, "
                + status.spawnFailures() + " failed, " + status.starting() + " still starting, breaker "
                + status.breaker() + (status.lastFailure() == null ? "" : "; last failure: " + status.lastFailure())
                + ". Check worker.process.command, or raise pool.warm_start_timeout / pool.init_timeout";
    }

    /** A snapshot of the pool. Cheap; takes the lock briefly. */
    public PoolStatus status() {
        lock.lock();
        try {
            long now = ticker.read();
            return new PoolStatus(counts[State.IDLE.ordinal()],
                    counts[State.LAUNCHING.ordinal()] + counts[State.STARTING.ordinal()], slots.size(),
                    config.minIdle(), config.maxWorkers(), spawned, governor.spawnFailures(),
                    governor.consecutiveFailures(), governor.breaker(now),
                    Duration.ofNanos(governor.failureDelay(now)), governor.lastFailure(), closed);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops spawning, stops every idle and starting worker, fails pending cold starts and refuses
     * further acquires with "shutting down". Workers in sessions are left to their sessions. Does
     * not block; {@link #terminated()} says when the stopped workers are gone.
     */
    @Override
    public void close() {
        List<Worker> toStop = new ArrayList<>();
        List<CompletableFuture<Worker>> claims = new ArrayList<>();
        boolean done;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (refill != null) {
                refill.cancel(false);
                refill = null;
            }
            for (Slot slot : slots) {
                if (slot.claim != null && (slot.state == State.LAUNCHING || slot.state == State.STARTING)) {
                    claims.add(slot.claim);
                }
                if (slot.state == State.IDLE || slot.state == State.STARTING) {
                    cancelInitTimer(slot);
                    transition(slot, State.RETIRING);
                    toStop.add(slot.worker);
                }
            }
            idle.clear();
            done = isTerminated();
        } finally {
            lock.unlock();
        }
        log.info("worker pool closing: stopping {} idle and starting workers", toStop.size());
        toStop.forEach(Worker::stop);
        claims.forEach(claim -> claim.completeExceptionally(new WorkerUnavailableException("worker pool is shutting down")));
        if (done) {
            terminated.complete(null);
        }
    }

    /**
     * Completes once {@link #close()} was called and every worker the pool still held (idle,
     * starting, being stopped) has exited. Workers in sessions are not waited for.
     */
    public CompletionStage<Void> terminated() {
        return terminated.minimalCompletionStage();
    }

    // ---- the refill task and launches (scheduler thread) ----

    /** The refill task: starts at most one background spawn, then schedules itself if more are needed. */
    private void refill() {
        Slot slot;
        lock.lock();
        try {
            refill = null;
            if (closed || !started) {
                return;
            }
            long now = ticker.read();
            int deficit = config.minIdle() - idle.size() - pendingWarm;
            if (deficit <= 0 || slots.size() >= config.maxWorkers()) {
                return; // an acquire or an exit asks again
            }
            long delay = governor.backgroundDelay(now);
            if (delay == SpawnGovernor.UNTIL_EVENT) {
                return; // the half-open trial's outcome asks again
            }
            if (delay > 0) {
                requestRefill(now + delay);
                return;
            }
            slot = reserve(null, now);
            if (deficit > 1) {
                requestRefill(now + config.spawnInterval().toNanos());
            }
        } finally {
            lock.unlock();
        }
        launch(slot);
    }

    private void launch(Slot slot) {
        boolean done = false;
        lock.lock();
        try {
            if (closed) {
                drop(slot);
                done = isTerminated();
            } else if (slot.generation != generation && slot.claim == null) {
                drop(slot); // not started yet, and nobody waits for it: no point in a stale worker
            } else if (slot.generation != generation) {
                slot.launcher = launcher; // a session waits for it: start it with the new configuration
                slot.generation = generation;
            }
        } finally {
            lock.unlock();
        }
        if (slot.state == State.GONE) {
            if (done) {
                terminated.complete(null);
            }
            return;
        }
        Worker worker;
        try {
            worker = requireNonNull(slot.launcher.launch(), "launcher returned null");
        } catch (Exception e) {
            fail(slot, "launch failed: " + reason(e), null);
            return;
        }
        boolean stop = false;
        lock.lock();
        try {
            slot.worker = worker;
            if (closed) {
                transition(slot, State.RETIRING);
                stop = true;
            } else {
                transition(slot, State.STARTING);
                slot.initTimer = schedule(() -> initTimedOut(slot), config.initTimeout().toNanos());
            }
        } finally {
            lock.unlock();
        }
        if (stop) {
            worker.stop();
        }
        // Ready first: a worker that is already ready and already gone was ready, not a failure.
        worker.ready().whenComplete((v, error) -> readied(slot, error));
        worker.exited().whenComplete((exit, error) -> exited(slot, exit, error));
    }

    // ---- worker events (any thread) ----

    private void readied(Slot slot, Throwable error) {
        if (error != null) {
            fail(slot, "failed to start: " + reason(error), slot.worker);
            return;
        }
        Worker worker = slot.worker;
        List<Runnable> after = new ArrayList<>();
        boolean closedBreaker;
        lock.lock();
        try {
            if (slot.state != State.STARTING) {
                return; // timed out, exited or closed meanwhile
            }
            cancelInitTimer(slot);
            boolean current = slot.generation == generation;
            closedBreaker = current && governor.onSuccess();
            if (slot.claim != null && !slot.claim.isDone()) {
                transition(slot, State.IN_SESSION);
                after.add(() -> handOver(slot));
            } else {
                settle(slot, after);
            }
            requestRefill(ticker.read());
        } finally {
            lock.unlock();
        }
        if (closedBreaker) {
            log.warn("worker spawn circuit breaker closed: worker {} became ready", worker.describe());
        }
        firstReady.complete(null);
        after.forEach(Runnable::run);
    }

    /** Completes a cold start's stage; if the session gave up meanwhile, the worker joins the pool. */
    private void handOver(Slot slot) {
        if (slot.claim.complete(slot.worker)) {
            return;
        }
        List<Runnable> after = new ArrayList<>();
        lock.lock();
        try {
            if (slot.state == State.IN_SESSION) {
                settle(slot, after);
            }
        } finally {
            lock.unlock();
        }
        after.forEach(Runnable::run);
    }

    /** A ready worker nobody waits for: warm if it is current, else stopped. Under the lock. */
    private void settle(Slot slot, List<Runnable> after) {
        Worker worker = slot.worker;
        if (closed || slot.generation != generation) {
            transition(slot, State.RETIRING);
            after.add(() -> {
                log.info("worker {} ready but its configuration was replaced: stopping it", worker.describe());
                worker.stop();
            });
            return;
        }
        transition(slot, State.IDLE);
        idle.addLast(slot);
        int warm = idle.size();
        after.add(() -> log.info("worker {} warm ({}/{})", worker.describe(), warm, config.minIdle()));
    }

    private void initTimedOut(Slot slot) {
        fail(slot, "not ready within pool.init_timeout (" + Durations.format(config.initTimeout()) + ")", slot.worker);
    }

    private void exited(Slot slot, WorkerExit exit, Throwable error) {
        String how = error != null ? reason(error) : exit.description();
        fail(slot, "exited before ready: " + how, null); // a no-op unless it was still starting
        boolean wasIdle;
        boolean done;
        lock.lock();
        try {
            if (slot.state == State.GONE) {
                return;
            }
            wasIdle = slot.state == State.IDLE;
            if (wasIdle) {
                idle.remove(slot);
            }
            remove(slot);
            requestRefill(ticker.read());
            done = closed && isTerminated();
        } finally {
            lock.unlock();
        }
        if (wasIdle) {
            log.warn("idle worker {} exited ({}): replacing it", slot.worker.describe(), how);
        }
        if (done) {
            terminated.complete(null);
        }
    }

    /**
     * A spawn failed: counts it (backoff, breaker), kills {@code kill} if given, fails the waiting
     * session if any. Without a worker to wait for ({@code kill} null and not launched, or exited),
     * the slot is freed at once; otherwise it stays live until the worker's exit.
     */
    private void fail(Slot slot, String reason, Worker kill) {
        SpawnGovernor.Outcome outcome;
        long backoff;
        int inARow;
        boolean current;
        boolean done;
        String who;
        lock.lock();
        try {
            if (slot.state != State.LAUNCHING && slot.state != State.STARTING) {
                return;
            }
            cancelInitTimer(slot);
            long now = ticker.read();
            current = slot.generation == generation;
            if (current) {
                outcome = governor.onFailure(now, slot.trial, reason);
            } else {
                governor.onStaleFailure(reason);
                outcome = SpawnGovernor.Outcome.COUNTED;
            }
            backoff = governor.backoffNanos();
            inARow = governor.consecutiveFailures();
            who = slot.worker == null ? "worker" : "worker " + slot.worker.describe();
            if (kill != null) {
                transition(slot, State.RETIRING);
            } else {
                remove(slot);
            }
            requestRefill(now);
            done = closed && isTerminated();
        } finally {
            lock.unlock();
        }
        if (current) {
            log.warn("{} spawn failed ({} in a row, backing off {}): {}", who, inARow,
                    Durations.format(Duration.ofNanos(backoff)), reason);
        } else {
            log.warn("{} of a replaced configuration failed to start: {}", who, reason);
        }
        if (outcome != SpawnGovernor.Outcome.COUNTED) {
            log.warn("worker spawn circuit breaker {} after {} consecutive failures: spawning paused for {}"
                    + " (pool.breaker_cooldown), cold starts refused", outcome == SpawnGovernor.Outcome.OPENED
                            ? "opened" : "reopened (trial spawn failed)",
                    inARow, Durations.format(config.breakerCooldown()));
        }
        if (kill != null) {
            kill.kill();
        }
        if (slot.claim != null) {
            slot.claim.completeExceptionally(new WorkerUnavailableException("worker failed to start: " + reason));
        }
        if (done) {
            terminated.complete(null);
        }
    }

    // ---- bookkeeping (under the lock) ----

    private Slot reserve(CompletableFuture<Worker> claim, long now) {
        Slot slot = new Slot(launcher, generation, claim);
        slots.add(slot);
        counts[State.LAUNCHING.ordinal()]++;
        spawned++;
        slot.trial = governor.onSpawn(now, claim == null);
        if (claim == null) {
            slot.pendingWarm = true;
            pendingWarm++;
        }
        return slot;
    }

    /** The oldest warm worker that has not exited, now in a session; or null. */
    private Worker takeIdle() {
        Slot slot;
        while ((slot = idle.pollFirst()) != null) {
            if (hasExited(slot.worker)) {
                // Its exit callback is waiting for the lock; it will free the slot.
                transition(slot, State.RETIRING);
                continue;
            }
            transition(slot, State.IN_SESSION);
            return slot.worker;
        }
        return null;
    }

    private void abandon(Slot slot) {
        lock.lock();
        try {
            drop(slot);
        } finally {
            lock.unlock();
        }
    }

    /** Frees a slot whose launch never happened. */
    private void drop(Slot slot) {
        if (slot.trial) {
            governor.onTrialAbandoned(); // nothing was learnt; let the next spawn be the trial
        }
        remove(slot);
    }

    private void remove(Slot slot) {
        transition(slot, State.GONE);
        slots.remove(slot);
    }

    private void transition(Slot slot, State to) {
        if (slot.pendingWarm && to != State.STARTING) {
            slot.pendingWarm = false;
            pendingWarm--;
        }
        counts[slot.state.ordinal()]--;
        counts[to.ordinal()]++;
        slot.state = to;
    }

    private boolean isTerminated() {
        return slots.size() == counts[State.IN_SESSION.ordinal()];
    }

    /** Makes sure the refill task runs at {@code at} (ticker time) or earlier. One task at most. */
    private void requestRefill(long at) {
        if (closed || !started) {
            return;
        }
        if (refill != null) {
            if (refillAt - at <= 0) {
                return;
            }
            refill.cancel(false);
        }
        refillAt = at;
        refill = schedule(this::refill, at - ticker.read());
    }

    private ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
        try {
            return scheduler.schedule(task, Math.max(0, delayNanos), NANOSECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("worker pool scheduler refused a task (shutting down)", e);
            return null;
        }
    }

    private static void cancelInitTimer(Slot slot) {
        if (slot.initTimer != null) {
            slot.initTimer.cancel(false);
            slot.initTimer = null;
        }
    }

    private static boolean hasExited(Worker worker) {
        try {
            return worker.exited().toCompletableFuture().isDone();
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    private static String reason(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }
}
