package dev.tether.gateway.worker;

/**
 * No worker can be had right now: the pool is at {@code pool.max_workers}, or spawning is paused by
 * the circuit breaker. New sessions are refused with 503 {@code at_capacity}.
 */
public final class WorkerUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public WorkerUnavailableException(String message) {
        super(message, null, false, false);
    }
}
