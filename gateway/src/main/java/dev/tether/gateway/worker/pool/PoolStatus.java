package dev.tether.gateway.worker.pool;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * A snapshot of the {@link WorkerPool}, for the readiness endpoint, metrics and logs. Immutable.
 *
 * @param warm workers started, ready and idle, waiting for a session
 * @param starting workers being launched or not yet ready (background refills and cold starts)
 * @param live workers that have not exited yet: warm, starting, in sessions, and being stopped;
 *     counted against {@code maxWorkers}
 * @param minIdle {@code pool.min_idle}
 * @param maxWorkers {@code pool.max_workers}
 * @param spawned launches attempted since the pool was created
 * @param spawnFailures spawns that failed since the pool was created (launch threw, not ready,
 *     exited before ready, not ready within {@code pool.init_timeout})
 * @param consecutiveFailures spawn failures since the last success (drives the backoff and breaker)
 * @param breaker the circuit breaker
 * @param backoffRemaining how much longer background spawning is held back by the backoff or by an
 *     open breaker; zero when it is not
 * @param lastFailure the reason of the most recent spawn failure, or {@code null} if none yet
 * @param closed whether {@link WorkerPool#close()} was called
 */
public record PoolStatus(
        int warm,
        int starting,
        int live,
        int minIdle,
        int maxWorkers,
        long spawned,
        long spawnFailures,
        int consecutiveFailures,
        BreakerState breaker,
        Duration backoffRemaining,
        String lastFailure,
        boolean closed) {

    public PoolStatus {
        requireNonNull(breaker, "breaker");
        requireNonNull(backoffRemaining, "backoffRemaining");
    }

    /** Whether the pool can start workers now or later without waiting out an open breaker. */
    public boolean spawning() {
        return !closed && breaker != BreakerState.OPEN;
    }
}
