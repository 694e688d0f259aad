package dev.tether.gateway.worker.pool;

/**
 * The state of the pool's spawn circuit breaker, as reported by {@link PoolStatus}.
 */
public enum BreakerState {
    /** Spawning normally (possibly delayed by the backoff after a failure). */
    CLOSED,
    /**
     * {@code pool.breaker_failures} consecutive spawns failed: no background spawns and no cold
     * starts until {@code pool.breaker_cooldown} has passed. Warm workers are still handed out.
     */
    OPEN,
    /** The cooldown has passed: one trial spawn is allowed; its success closes the breaker, its failure reopens it. */
    HALF_OPEN
}
