package dev.tether.gateway.worker.pool;

import static java.util.Objects.requireNonNull;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.Durations;
import dev.tether.gateway.config.PoolConfig;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.gateway.worker.WorkerUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 *       not ready within {@code pool.init_timeout} (it is then killed) is a spawn failure. Failures
 *       back off and open a circuit breaker ({@link SpawnGovernor}); {@link #status()} reports it.
 *   <li><b>Reconfiguration.</b> {@link #reconfigure} swaps the launcher; idle workers of the old
 *       configuration are stopped and replaced, and starting ones are stopped when they get ready,
 *       so a warm worker never runs stale configuration.
 *   <li><b>Capacity.</b> A worker counts against {@code pool.max_workers} from the moment its launch
 *       is scheduled until its {@link Worker#exited()} stage completes, wherever it is.
 * </ul>
 *
 * <p>Thread-safe. {@link #acquire()} is called on Netty event loops and never blocks on I/O: all
 * state is guarded by one lock held only for bookkeeping, {@link WorkerLauncher#launch()} is called
 * on the scheduler (best a dedicated single thread) and its stage may complete on any thread, and
 * the effects of a state change (stopping workers, completing stages, logging) run after the lock
 * is released, so no callback ever runs under it. Time comes from the injected ticker and
 * scheduler.
 */
public final class WorkerPool implements WorkerSource {

    private static final Logger log = LoggerFactory.getLogger(WorkerPool.class);

    private final PoolConfig config;
    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;
    private final SpawnGovernor governor;
    private final ReentrantLock lock = new ReentrantLock();
    private final Slots slots = new Slots();
    private final CompletableFuture<Void> firstReady = new CompletableFuture<>();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private final RefillSchedule refill;
    private WorkerLauncher launcher;
    private int generation;
    private long spawned;
    private boolean started;
    private boolean closed;

    /**
     * @param config the {@code pool} section
     * @param launcher starts workers of the current worker configuration
     * @param scheduler runs launches, the refill task and init timeouts; best a dedicated thread
     * @param ticker monotonic nanoseconds, the time the scheduler's delays are measured in
     */
    public WorkerPool(PoolConfig config, WorkerLauncher launcher, ScheduledExecutorService scheduler, Ticker ticker) {
        this.config = requireNonNull(config, "config");
        this.launcher = requireNonNull(launcher, "launcher");
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.ticker = requireNonNull(ticker, "ticker");
        this.governor = new SpawnGovernor(config);
        this.refill = new RefillSchedule(scheduler, ticker, this::refill);
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
        return acquire(null);
    }

    /**
     * {@inheritDoc}
     *
     * <p>When the launcher {@linkplain WorkerLauncher#startsFrom starts workers from} {@code resume},
     * no warm worker will do: a cold one is launched for it, and it never joins the warm pool.
     */
    @Override
    public boolean startsFrom(JsonNode resume) {
        return startsFrom(resume, false);
    }

    @Override
    public boolean startsFrom(JsonNode resume, boolean fork) {
        lock.lock();
        try {
            return resume != null && launcher.startsFrom(resume, fork);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CompletionStage<Worker> acquire(JsonNode resume) throws WorkerUnavailableException {
        return acquire(resume, false);
    }

    /** {@inheritDoc} A worker started for a fork's checkpoint is started for the fork ({@link WorkerLauncher#launch(JsonNode, boolean)}). */
    @Override
    public CompletionStage<Worker> acquire(JsonNode resume, boolean fork) throws WorkerUnavailableException {
        Slot cold;
        lock.lock();
        try {
            if (closed) {
                throw new WorkerUnavailableException("worker pool is shutting down");
            }
            long now = ticker.read();
            requestRefill(now);
            boolean startedFor = resume != null && launcher.startsFrom(resume, fork);
            Slot warm = startedFor ? null : slots.takeIdle();
            if (warm != null) {
                return CompletableFuture.completedFuture(warm.worker);
            }
            if (slots.live() >= config.maxWorkers()) {
                throw new WorkerUnavailableException("no worker available: " + slots.live()
                        + " live workers, at pool.max_workers (" + config.maxWorkers() + ")");
            }
            String refusal = governor.refuseCold(now);
            if (refusal != null) {
                throw new WorkerUnavailableException(refusal);
            }
            cold = reserve(new CompletableFuture<>(), now);
            cold.resume = startedFor ? resume : null;
            cold.fork = startedFor && fork;
        } finally {
            lock.unlock();
        }
        try {
            scheduler.execute(() -> launch(cold));
        } catch (RejectedExecutionException e) {
            lock.lock();
            try {
                drop(cold);
            } finally {
                lock.unlock();
            }
            throw new WorkerUnavailableException("worker pool is shutting down");
        }
        return cold.claim;
    }

    /**
     * The worker configuration changed: from now on workers come from {@code newLauncher}. Idle
     * workers of the old configuration are stopped at once and replaced (staggered as usual);
     * starting ones are stopped when they get ready, except cold starts a session already waits
     * for, which are handed over like workers already in sessions. Resets the backoff and closes the
     * breaker, since failures of the old command say nothing about the new one.
     */
    public void reconfigure(WorkerLauncher newLauncher) {
        requireNonNull(newLauncher, "newLauncher");
        List<Worker> stale;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            launcher = newLauncher;
            generation++;
            governor.reset();
            slots.forgetPending();
            stale = slots.retireIdle();
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
        Unwatched.whenComplete(result, (warm, error) -> timer.cancel(false));
        return result;
    }

    /**
     * For {@code pool.require_warm_on_start}: blocks the calling (start-up) thread until a worker is
     * warm or {@code timeout} passes; true at once when {@code pool.min_idle} is 0. Never call it on
     * the scheduler's thread. On false, fail start-up with {@link #notWarmMessage(Duration)}.
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
            return new PoolStatus(
                    slots.warm(),
                    slots.starting(),
                    slots.live(),
                    config.minIdle(),
                    config.maxWorkers(),
                    spawned,
                    governor.spawnFailures(),
                    governor.consecutiveFailures(),
                    governor.breaker(now),
                    Duration.ofNanos(governor.failureDelay(now)),
                    governor.lastFailure(),
                    closed);
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
            refill.cancel();
            for (Slot slot : List.copyOf(slots.view())) {
                if (slot.claim != null && slot.state.starting()) {
                    claims.add(slot.claim);
                }
                if (slot.state == Slot.State.IDLE || slot.state == Slot.State.STARTING) {
                    slot.cancelInitTimer();
                    slots.move(slot, Slot.State.RETIRING);
                    toStop.add(slot.worker);
                }
            }
            done = slots.onlyInSessions();
        } finally {
            lock.unlock();
        }
        log.info("worker pool closing: stopping {} idle and starting workers", toStop.size());
        toStop.forEach(Worker::stop);
        claims.forEach(
                claim -> claim.completeExceptionally(new WorkerUnavailableException("worker pool is shutting down")));
        completeTerminatedIf(done);
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
            refill.running();
            if (closed || !started) {
                return;
            }
            long now = ticker.read();
            int deficit = config.minIdle() - slots.warm() - slots.pendingWarm();
            if (deficit <= 0 || slots.live() >= config.maxWorkers()) {
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
        boolean go = false;
        lock.lock();
        try {
            if (closed) {
                drop(slot);
                done = slots.onlyInSessions();
            } else if (slot.generation != generation && slot.claim == null) {
                drop(slot); // not started yet, and nobody waits for it: no point in a stale worker
            } else {
                if (slot.generation != generation) {
                    slot.launcher = launcher; // a session waits for it: start it with the new configuration
                    slot.generation = generation;
                }
                spawned++;
                go = true;
            }
        } finally {
            lock.unlock();
        }
        if (!go) {
            completeTerminatedIf(done);
            return;
        }
        CompletionStage<? extends Worker> launching;
        try {
            launching = requireNonNull(
                    slot.resume == null ? slot.launcher.launch() : slot.launcher.launch(slot.resume, slot.fork),
                    "launcher returned null");
        } catch (Exception e) {
            fail(slot, "launch failed: " + reason(e), null);
            return;
        }
        launching.whenComplete((worker, error) -> launched(slot, worker, error));
    }

    /** A launch ended (any thread): the worker exists and starts, or the spawn failed. */
    private void launched(Slot slot, Worker worker, Throwable failure) {
        if (failure != null || worker == null) {
            fail(slot, "launch failed: " + (failure != null ? reason(failure) : "launcher gave no worker"), null);
            return;
        }
        boolean stop = false;
        lock.lock();
        try {
            slot.worker = worker;
            if (closed) {
                slots.move(slot, Slot.State.RETIRING);
                stop = true;
            } else {
                slots.move(slot, Slot.State.STARTING);
                slot.initTimer = RefillSchedule.schedule(
                        scheduler,
                        () -> fail(
                                slot,
                                "not ready within pool.init_timeout (" + Durations.format(config.initTimeout()) + ")",
                                worker),
                        config.initTimeout().toNanos());
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
        boolean closedBreaker;
        boolean handOver = false;
        Runnable settled = null;
        lock.lock();
        try {
            if (slot.state != Slot.State.STARTING) {
                return; // timed out, exited or closed meanwhile
            }
            slot.cancelInitTimer();
            closedBreaker = slot.generation == generation && governor.onSuccess();
            if (slot.claim != null && !slot.claim.isDone()) {
                slots.move(slot, Slot.State.IN_SESSION);
                handOver = true;
            } else {
                settled = settle(slot);
            }
            requestRefill(ticker.read());
        } finally {
            lock.unlock();
        }
        if (closedBreaker) {
            log.warn("worker spawn circuit breaker closed: worker {} became ready", slot.worker.describe());
        }
        firstReady.complete(null);
        if (handOver && !slot.claim.complete(slot.worker)) {
            settled = settleUnclaimed(slot); // the session gave up meanwhile
        }
        if (settled != null) {
            settled.run();
        }
    }

    private Runnable settleUnclaimed(Slot slot) {
        lock.lock();
        try {
            return slot.state == Slot.State.IN_SESSION ? settle(slot) : null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A ready worker nobody waits for joins the warm pool, unless its configuration was replaced or
     * the pool closed: then it is stopped. Under the lock; returns what to do after it.
     */
    private Runnable settle(Slot slot) {
        Worker worker = slot.worker;
        if (slot.resume != null) {
            slots.move(slot, Slot.State.RETIRING);
            return () -> {
                log.info("worker {} started to resume a session that gave up on it: stopping it", worker.describe());
                worker.stop();
            };
        }
        if (closed || slot.generation != generation) {
            slots.move(slot, Slot.State.RETIRING);
            return () -> {
                log.info("worker {} ready but its configuration was replaced: stopping it", worker.describe());
                worker.stop();
            };
        }
        slots.move(slot, Slot.State.IDLE);
        int warm = slots.warm();
        return () -> log.info("worker {} warm ({}/{})", worker.describe(), warm, config.minIdle());
    }

    private void exited(Slot slot, WorkerExit exit, Throwable error) {
        String how = error != null ? reason(error) : exit != null ? exit.description() : "exited";
        fail(slot, "exited before ready: " + how, null); // a no-op unless it was still starting
        boolean wasIdle;
        boolean done;
        lock.lock();
        try {
            if (slot.state == Slot.State.GONE) {
                return;
            }
            wasIdle = slot.state == Slot.State.IDLE;
            slots.move(slot, Slot.State.GONE);
            requestRefill(ticker.read());
            done = closed && slots.onlyInSessions();
        } finally {
            lock.unlock();
        }
        if (wasIdle) {
            log.warn("idle worker {} exited ({}): replacing it", slot.worker.describe(), how);
        }
        completeTerminatedIf(done);
    }

    /**
     * A spawn failed: counts it (backoff, breaker), kills {@code kill} if given and fails the
     * waiting session if any. Without a worker left to wait for ({@code kill} null: never launched,
     * or exited), the slot is freed at once; otherwise it stays live until the worker's exit.
     */
    private void fail(Slot slot, String reason, Worker kill) {
        SpawnGovernor.Outcome outcome;
        long backoff;
        int inARow;
        boolean current;
        boolean done;
        lock.lock();
        try {
            if (!slot.state.starting()) {
                return;
            }
            slot.cancelInitTimer();
            long now = ticker.read();
            current = slot.generation == generation;
            outcome = current ? governor.onFailure(now, slot.trial, reason) : governor.onStaleFailure(reason);
            backoff = governor.backoffNanos();
            inARow = governor.consecutiveFailures();
            slots.move(slot, kill != null ? Slot.State.RETIRING : Slot.State.GONE);
            requestRefill(now);
            done = closed && slots.onlyInSessions();
        } finally {
            lock.unlock();
        }
        if (current) {
            log.warn(
                    "{} spawn failed ({} in a row, backing off {}): {}",
                    slot.who(),
                    inARow,
                    Durations.format(Duration.ofNanos(backoff)),
                    reason);
        } else {
            log.warn("{} of a replaced configuration failed to start: {}", slot.who(), reason);
        }
        if (outcome != SpawnGovernor.Outcome.COUNTED) {
            log.warn(
                    "worker spawn circuit breaker {} after {} consecutive failures: spawning paused for {}"
                            + " (pool.breaker_cooldown), cold starts refused",
                    outcome == SpawnGovernor.Outcome.OPENED ? "opened" : "reopened (trial spawn failed)",
                    inARow,
                    Durations.format(config.breakerCooldown()));
        }
        if (kill != null) {
            kill.kill();
        }
        if (slot.claim != null) {
            slot.claim.completeExceptionally(new WorkerUnavailableException("worker failed to start: " + reason));
        }
        completeTerminatedIf(done);
    }

    // ---- helpers ----

    /** Reserves capacity for a launch (under the lock). A {@code claim} marks a cold start. */
    private Slot reserve(CompletableFuture<Worker> claim, long now) {
        Slot slot = slots.reserve(launcher, generation, claim);
        slot.trial = governor.onSpawn(now, claim == null);
        return slot;
    }

    /** Frees a slot whose launch never happened (under the lock). */
    private void drop(Slot slot) {
        if (slot.trial) {
            governor.onTrialAbandoned(); // nothing was learnt; let the next spawn be the trial
        }
        slots.move(slot, Slot.State.GONE);
    }

    /** Makes sure the refill task runs at {@code at} (ticker time) or earlier. Under the lock. */
    private void requestRefill(long at) {
        if (started && !closed) {
            refill.requestBy(at);
        }
    }

    private void completeTerminatedIf(boolean done) {
        if (done) {
            terminated.complete(null);
        }
    }

    private static String reason(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }
}
