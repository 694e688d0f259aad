package dev.tether.gateway.worker.pool;

import static java.util.Objects.requireNonNull;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.github.benmanes.caffeine.cache.Ticker;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;

/**
 * Keeps the {@link WorkerPool}'s refill task scheduled at most once: a request to run it by some
 * time either finds it already due by then or moves it earlier. This is what keeps a refill from
 * ever becoming a burst: there is one task, and it starts at most one spawn per run.
 *
 * <p>Not thread-safe: guarded by the pool's lock. The task itself runs on the scheduler.
 */
final class RefillSchedule {

    private final ScheduledExecutorService scheduler;
    private final Ticker ticker;
    private final Runnable task;
    private ScheduledFuture<?> next;
    private long nextAt;

    RefillSchedule(ScheduledExecutorService scheduler, Ticker ticker, Runnable task) {
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.ticker = requireNonNull(ticker, "ticker");
        this.task = requireNonNull(task, "task");
    }

    /** Makes sure the task runs at {@code at} (ticker nanoseconds) or earlier. */
    void requestBy(long at) {
        if (next != null) {
            if (nextAt - at <= 0) {
                return;
            }
            next.cancel(false);
        }
        nextAt = at;
        next = schedule(scheduler, task, at - ticker.read());
    }

    /** The task calls this first: it is running, so the next request schedules it anew. */
    void running() {
        next = null;
    }

    void cancel() {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
    }

    /** Schedules {@code task}; null when the scheduler is shutting down (the pool is closing then too). */
    static ScheduledFuture<?> schedule(ScheduledExecutorService scheduler, Runnable task, long delayNanos) {
        try {
            return scheduler.schedule(task, Math.max(0, delayNanos), NANOSECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }
}
