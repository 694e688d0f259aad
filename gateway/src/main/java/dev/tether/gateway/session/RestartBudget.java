package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How many more worker restarts a session may have: {@code limits.max_restarts} within any
 * {@code limits.restart_window}. Each restart takes one unit and gives it back one window later,
 * by a timer on the session's loop, so the window slides without reading a clock.
 *
 * <p>Not thread-safe: used only on the session's event loop.
 */
final class RestartBudget {

    private final EventExecutor executor;
    private final int maxRestarts;
    private final Duration window;
    private int used;

    RestartBudget(EventExecutor executor, int maxRestarts, Duration window) {
        this.executor = requireNonNull(executor, "executor");
        this.maxRestarts = maxRestarts;
        this.window = requireNonNull(window, "window");
    }

    /** Takes one restart if the budget allows it; false means the session has restarted too often. */
    boolean tryTake() {
        if (used >= maxRestarts) {
            return false;
        }
        used++;
        executor.schedule(() -> used--, window.toNanos(), TimeUnit.NANOSECONDS).addListener(Unwatched.LOG_FAILURE);
        return true;
    }
}
