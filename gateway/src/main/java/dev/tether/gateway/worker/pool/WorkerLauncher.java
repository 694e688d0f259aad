package dev.tether.gateway.worker.pool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.worker.Worker;
import java.util.concurrent.CompletionStage;

/**
 * Starts one worker for the {@link WorkerPool}: in production a subprocess running
 * {@code worker.process.command}, in tests a fake. The pool holds one launcher per worker
 * configuration and swaps it with {@link WorkerPool#reconfigure} when the configuration changes.
 *
 * <p>Called only on the pool's scheduler thread, one call at a time per pool. It starts the launch
 * and returns: it does not wait for the process to exist (launches overlap, so a burst of cold
 * starts is not one process creation after another) nor for the worker to become ready.
 */
@FunctionalInterface
public interface WorkerLauncher {

    /**
     * Starts a worker. The stage completes with it once its process exists, not yet ready: its
     * {@link Worker#ready()} stage completes when it is, its {@link Worker#exited()} stage when it is
     * gone; it may complete on any thread. A launch that throws, a stage that completes
     * exceptionally, a worker whose {@code ready()} completes exceptionally, or one whose
     * {@code exited()} completes first, is a spawn failure.
     *
     * @throws Exception when the worker cannot be started at all (the reason is logged and reported)
     */
    CompletionStage<? extends Worker> launch() throws Exception;

    /**
     * Whether a worker can continue a session from checkpoint {@code resume} only when started for
     * it (an agent CLI given the conversation to resume on its command line): then
     * {@link #launch(JsonNode)} starts one, and no warm worker will do.
     */
    default boolean startsFrom(JsonNode resume) {
        return false;
    }

    /** Starts a worker for a session continuing from {@code resume}; see {@link #startsFrom}. */
    default CompletionStage<? extends Worker> launch(JsonNode resume) throws Exception {
        return launch();
    }

    /** Like {@link #startsFrom(JsonNode)}, for a fork's checkpoint (contract 1.2, 8.2) when {@code fork}. */
    default boolean startsFrom(JsonNode resume, boolean fork) {
        return startsFrom(resume);
    }

    /** Like {@link #launch(JsonNode)}, for a fork of the session {@code resume} belongs to when {@code fork}. */
    default CompletionStage<? extends Worker> launch(JsonNode resume, boolean fork) throws Exception {
        return launch(resume);
    }
}
