package dev.tether.gateway.worker.pool;

import dev.tether.gateway.worker.Worker;

/**
 * Starts one worker for the {@link WorkerPool}: in production a subprocess running
 * {@code worker.process.command}, in tests a fake. The pool holds one launcher per worker
 * configuration and swaps it with {@link WorkerPool#reconfigure} when the configuration changes.
 *
 * <p>Called only on the pool's scheduler thread, one call at a time per pool; it may block for as
 * long as creating a process takes, but should not wait for the worker to become ready.
 */
@FunctionalInterface
public interface WorkerLauncher {

    /**
     * Starts a worker and returns it at once, not yet ready: its {@link Worker#ready()} stage
     * completes when it is, its {@link Worker#exited()} stage when it is gone. A launch that throws,
     * a worker whose {@code ready()} completes exceptionally, or one whose {@code exited()} completes
     * first, is a spawn failure.
     *
     * @throws Exception when the worker cannot be started (the reason is logged and reported)
     */
    Worker launch() throws Exception;
}
