package dev.tether.gateway.worker;

import java.util.concurrent.CompletionStage;

/**
 * Where sessions get their workers: a fresh in-process echo worker, or a subprocess from the
 * pre-warmed pool. Thread-safe.
 */
public interface WorkerSource {

    /**
     * A worker for a session. The stage is already complete when a warm worker was available, and
     * completes when a cold one is ready otherwise (exceptionally if it never gets ready). The
     * worker counts against the source's capacity from this call until it has exited.
     *
     * @throws WorkerUnavailableException at once, when no worker can be had (capacity, breaker)
     */
    CompletionStage<Worker> acquire() throws WorkerUnavailableException;

    /** Stops every worker this source still holds and refuses further acquires. */
    void close();
}
