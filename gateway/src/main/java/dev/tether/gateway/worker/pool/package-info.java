/**
 * The pre-warmed pool of workers ({@code pool.*} in {@code config/gateway.yaml}).
 *
 * <p>{@link dev.tether.gateway.worker.pool.WorkerPool} keeps {@code pool.min_idle} workers started
 * and ready, hands each to exactly one session, and starts them through a
 * {@link dev.tether.gateway.worker.pool.WorkerLauncher}, so it knows nothing about how a worker is
 * made (a subprocess in production, fakes in tests). Spawning is governed by a stagger
 * ({@code spawn_interval}), an exponential backoff after failures and a circuit breaker;
 * {@link dev.tether.gateway.worker.pool.PoolStatus} reports all of it for the readiness endpoint.
 */
package dev.tether.gateway.worker.pool;
