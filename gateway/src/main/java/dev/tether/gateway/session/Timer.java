package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One re-armable timer on a session's event loop: arming it again replaces the pending task, and
 * the task runs on the loop. Not thread-safe: used only on that loop, like the session that owns it.
 */
final class Timer {

    private final EventExecutor executor;
    private ScheduledFuture<?> pending;

    Timer(EventExecutor executor) {
        this.executor = requireNonNull(executor, "executor");
    }

    /** Runs {@code task} after {@code delay}, replacing whatever was armed. */
    void arm(Duration delay, Runnable task) {
        cancel();
        ScheduledFuture<?>[] self = new ScheduledFuture<?>[1];
        self[0] = executor.schedule(
                () -> {
                    if (pending == self[0]) {
                        pending = null;
                    }
                    task.run();
                },
                delay.toNanos(),
                TimeUnit.NANOSECONDS);
        pending = self[0];
    }

    /** Whether a task is waiting to run. */
    boolean armed() {
        return pending != null;
    }

    /** Milliseconds until the pending task runs; 0 when none is pending. */
    long remainingMillis() {
        return pending == null ? 0 : Math.max(0, pending.getDelay(TimeUnit.MILLISECONDS));
    }

    void cancel() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }
}
