package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.AdmissionConfig;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerUnavailableException;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The line of {@code wait=1} connections waiting for a session slot and a worker (contract 8.1),
 * first come, first served, on this node.
 *
 * <p><b>One owner.</b> The line itself (its order, deadlines, what each waiter was last told) lives
 * on one single-thread executor of its own ({@code tether-admission}, started with the first
 * waiter); every change is handed to it with {@code execute}. Only the bounds are checked
 * synchronously, at upgrade time ({@link #reserve}), with atomic counters, so that a connection over
 * them can still be refused with an HTTP 503. A waiter is told about its place on its own channel's
 * loop ({@link Waiter#executor()}).
 *
 * <p><b>When it moves.</b> A slot given back to the registry (a session ended or left, an admission
 * given back) wakes the line at once; a worker that becomes available (pool below
 * {@code pool.max_workers}, breaker closed) has no event, so the line also tries once a second
 * while anyone waits. The head is admitted when the registry grants a slot and the pool a worker;
 * a waiter whose user holds {@code sessions.max_sessions_per_user} sessions keeps its place and
 * the next one is tried.
 *
 * <p><b>Estimated wait</b>: the times of the last {@value #TURNOVER_SAMPLES} admissions from the
 * line; {@code estimated_wait} is the position times their mean spacing, rounded up to whole
 * seconds, and null until two admissions were seen or when the newest is older than
 * {@value #TURNOVER_HORIZON_SECONDS} s (turnover unknown).
 */
public final class AdmissionQueue {

    /** One connection that waits. Called on its {@link #executor()}. */
    public interface Waiter {
        String subject();

        EventExecutor executor();

        /** Its place changed: {@code position} 1 is next; {@code estimatedWait} seconds or null. */
        void queued(int position, Long estimatedWait);

        /** A slot was reserved and {@code worker} acquired for it: create the session, or give both back. */
        void admitted(CompletionStage<Worker> worker);

        /** It waited longer than {@code sessions.admission.max_wait}. */
        void timedOut();

        /** The gateway drains: {@code shutting_down} and close 1001. */
        void drained(long retryAfterSeconds);
    }

    static final int TURNOVER_SAMPLES = 16;
    static final long TURNOVER_HORIZON_SECONDS = 600;
    private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final SessionRegistry registry;
    private final Supplier<AdmissionConfig> config;
    private final AtomicInteger reserved = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> reservedPerUser = new ConcurrentHashMap<>();
    private volatile EventExecutor owner;
    /** Set by {@link #close}: no owner thread is started again, and nothing is handed to it. */
    private boolean closed;

    // Owner-confined state.
    private final ArrayDeque<Entry> line = new ArrayDeque<>();
    private final ArrayDeque<Long> admissions = new ArrayDeque<>();
    private ScheduledFuture<?> tick;
    private boolean draining;
    private long drainRetryAfter;

    private static final class Entry {
        final Waiter waiter;
        final long joined;
        int told;
        long toldAt;

        Entry(Waiter waiter, long joined) {
            this.waiter = waiter;
            this.joined = joined;
            this.toldAt = joined - TICK_NANOS;
        }
    }

    AdmissionQueue(SessionRegistry registry, Supplier<AdmissionConfig> config) {
        this.registry = requireNonNull(registry, "registry");
        this.config = requireNonNull(config, "config");
    }

    /**
     * Reserves a place for a connection of {@code subject} that will join once its handshake
     * completes; false when {@code max_waiting} or {@code max_waiting_per_user} is reached (503).
     * Any thread. A reservation is given back by {@link #leave} or {@link #cancel}.
     */
    public boolean reserve(String subject) {
        AdmissionConfig bounds = config.get();
        if (reserved.incrementAndGet() > bounds.maxWaiting()) {
            reserved.decrementAndGet();
            return false;
        }
        if (reservedPerUser.merge(subject, 1, Integer::sum) > bounds.maxWaitingPerUser()) {
            unreserve(subject);
            return false;
        }
        registry.metrics().admissionWaiting(1);
        return true;
    }

    /** Gives back a reservation that never joined (the handshake failed). Any thread. */
    public void cancel(String subject) {
        registry.metrics().admissionWaiting(-1);
        unreserve(subject);
    }

    private void unreserve(String subject) {
        reservedPerUser.computeIfPresent(subject, (s, n) -> n <= 1 ? null : n - 1);
        reserved.decrementAndGet();
    }

    /** Connections waiting or about to (reserved). Any thread. */
    public int waiting() {
        return reserved.get();
    }

    /** {@code waiter}, holding a reservation, joins the end of the line. Any thread. */
    public void join(Waiter waiter) {
        requireNonNull(waiter, "waiter");
        onOwner(() -> {
            if (draining) {
                cancel(waiter.subject());
                waiter.executor().execute(() -> waiter.drained(drainRetryAfter));
                return;
            }
            line.addLast(new Entry(waiter, System.nanoTime()));
            if (tick == null) {
                tick = owner.scheduleAtFixedRate(this::tick, TICK_NANOS, TICK_NANOS, TimeUnit.NANOSECONDS);
            }
            pump();
            announce(System.nanoTime());
        });
    }

    /** {@code waiter} went away (its client closed): it leaves the line at once. Any thread. */
    public void leave(Waiter waiter) {
        onOwner(() -> {
            if (remove(waiter)) {
                announce(System.nanoTime());
            }
        });
    }

    /** A session slot was given back: the line may move. Any thread. */
    void slotFreed() {
        EventExecutor executor = owner;
        if (executor != null) {
            run(executor, () -> {
                if (!line.isEmpty()) {
                    pump();
                    announce(System.nanoTime());
                }
            });
        }
    }

    /** Every waiter, now and later, gets {@code shutting_down} and close 1001. Any thread. */
    void drain(long retryAfterSeconds) {
        onOwner(() -> {
            draining = true;
            drainRetryAfter = retryAfterSeconds;
            for (Entry entry : drainAll()) {
                entry.waiter.executor().execute(() -> entry.waiter.drained(retryAfterSeconds));
            }
        });
    }

    /** Stops the owner thread (gateway stop); waiters are expected to be closed by then. */
    public void close() {
        EventExecutor executor;
        synchronized (this) {
            closed = true;
            executor = owner;
        }
        if (executor != null) {
            executor.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Runs {@code task} on the owner thread; once the queue is closed (gateway stop) there is no line and nothing runs. */
    private void onOwner(Runnable task) {
        EventExecutor executor = owner();
        if (executor != null) {
            run(executor, task);
        }
    }

    /**
     * Hands {@code task} to the owner. A session released while the gateway stops frees its slot
     * after {@link #close}: that must not fail the release, so a refused task is dropped.
     */
    private static void run(EventExecutor owner, Runnable task) {
        try {
            owner.execute(task);
        } catch (RejectedExecutionException closedMeanwhile) {
            // the line is gone with the gateway: nobody waits any more
        }
    }

    /** The owner thread, started with the first use; null once closed. */
    private synchronized EventExecutor owner() {
        if (closed) {
            return null;
        }
        if (owner == null) {
            owner = new DefaultEventExecutor(new DefaultThreadFactory("tether-admission", true));
        }
        return owner;
    }

    private List<Entry> drainAll() {
        List<Entry> all = new ArrayList<>(line);
        line.clear();
        for (Entry entry : all) {
            cancel(entry.waiter.subject());
        }
        stopTickIfIdle();
        return all;
    }

    private boolean remove(Waiter waiter) {
        for (Iterator<Entry> it = line.iterator(); it.hasNext(); ) {
            if (it.next().waiter == waiter) {
                it.remove();
                cancel(waiter.subject());
                stopTickIfIdle();
                return true;
            }
        }
        return false;
    }

    private void stopTickIfIdle() {
        if (line.isEmpty() && tick != null) {
            tick.cancel(false);
            tick = null;
        }
    }

    private void tick() {
        long now = System.nanoTime();
        long maxWait = config.get().maxWait().toNanos();
        boolean changed = false;
        for (Iterator<Entry> it = line.iterator(); it.hasNext(); ) {
            Entry entry = it.next();
            if (now - entry.joined >= maxWait) {
                it.remove();
                cancel(entry.waiter.subject());
                registry.metrics().admissionTimedOut();
                entry.waiter.executor().execute(entry.waiter::timedOut);
                changed = true;
            }
        }
        pump();
        stopTickIfIdle();
        if (changed || !line.isEmpty()) {
            announce(now);
        }
    }

    /** Admits waiters from the head while a slot and a worker can be had. */
    private void pump() {
        for (Iterator<Entry> it = line.iterator(); it.hasNext(); ) {
            Entry entry = it.next();
            SessionRegistry.Admission admission = registry.admitQuietly(entry.waiter.subject());
            if (admission == SessionRegistry.Admission.AT_CAPACITY) {
                return;
            }
            if (admission == SessionRegistry.Admission.USER_LIMIT) {
                continue; // keeps its place; the next one may still be admitted
            }
            CompletionStage<Worker> worker;
            try {
                worker = registry.workers().acquire();
            } catch (WorkerUnavailableException e) {
                registry.releaseQuietly(entry.waiter.subject());
                return;
            }
            it.remove();
            cancel(entry.waiter.subject());
            long now = System.nanoTime();
            registry.metrics().admissionWaited(Duration.ofNanos(now - entry.joined));
            admissions.addLast(now);
            if (admissions.size() > TURNOVER_SAMPLES) {
                admissions.removeFirst();
            }
            entry.waiter.executor().execute(() -> entry.waiter.admitted(worker));
        }
        stopTickIfIdle();
    }

    /** Tells every waiter whose place changed, at most once a second each. */
    private void announce(long now) {
        int position = 0;
        for (Entry entry : line) {
            position++;
            if (entry.told != position && now - entry.toldAt >= TICK_NANOS) {
                entry.told = position;
                entry.toldAt = now;
                int place = position;
                Long estimate = estimate(place, now);
                entry.waiter.executor().execute(() -> entry.waiter.queued(place, estimate));
            }
        }
    }

    /** Seconds until {@code position} is admitted at the recent turnover, or null when unknown. */
    private Long estimate(int position, long now) {
        return estimate(admissions, position, now);
    }

    /**
     * The estimator of {@code estimated_wait}: {@code position} times the mean spacing of
     * {@code admissions} (nanosecond times, oldest first), rounded up to whole seconds; null with
     * fewer than two of them or when the newest is older than {@value #TURNOVER_HORIZON_SECONDS} s.
     */
    static Long estimate(ArrayDeque<Long> admissions, int position, long now) {
        if (admissions.size() < 2 || now - admissions.peekLast() > TimeUnit.SECONDS.toNanos(TURNOVER_HORIZON_SECONDS)) {
            return null;
        }
        long spacing = (admissions.peekLast() - admissions.peekFirst()) / (admissions.size() - 1);
        return (long) Math.ceil(position * (double) spacing / TimeUnit.SECONDS.toNanos(1));
    }
}
