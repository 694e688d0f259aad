package dev.tether.gateway.worker;

import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletionStage;

/**
 * Where sessions get their workers: the in-process echo worker, or (later) a pool of pre-warmed
 * subprocesses. Thread-safe.
 */
public interface WorkerSource {

    /**
     * A ready worker for a new session. Completes at once when one is warm; later when one has to
     * be started; exceptionally when none can be had.
     *
     * @param executor the session's event loop, for workers that run in-process
     */
    CompletionStage<Worker> acquire(EventExecutor executor);

    /** Stops every worker this source still holds. */
    void close();
}
