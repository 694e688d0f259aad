package dev.tether.gateway.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The life of a check that re-reads files at a fixed interval (key files, certificates): started at
 * most once, cancelled for good by {@link #close}. Shared by the owners that reload files so that
 * "started", "closed" and the cancelling mean the same everywhere.
 *
 * <p>Threads: not thread-safe; the owner calls every method under the lock that also serialises its
 * checks, so a check never runs past a close.
 */
public final class PeriodicCheck {

    private ScheduledFuture<?> checks;
    private boolean closed;

    /**
     * Runs {@code check} every {@code interval} on {@code scheduler}, which stays the caller's.
     *
     * @throws IllegalStateException if already started or closed
     */
    public void start(ScheduledExecutorService scheduler, Duration interval, Runnable check) {
        requireNonNull(scheduler, "scheduler");
        requireNonNull(check, "check");
        long nanos = requireNonNull(interval, "interval").toNanos();
        requireOpen();
        if (checks != null) {
            throw new IllegalStateException("already started");
        }
        checks = scheduler.scheduleWithFixedDelay(check, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Refuses to go on once closed (an owner with nothing to check still honours its close).
     *
     * @throws IllegalStateException if closed
     */
    public void requireOpen() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
    }

    /** Whether {@link #close} was called; a check in flight then does nothing. */
    public boolean isClosed() {
        return closed;
    }

    /** Cancels the checks (a check already running finishes) and refuses any later start. */
    public void close() {
        closed = true;
        if (checks != null) {
            checks.cancel(false);
        }
    }
}
