package dev.tether.gateway.worker;

import com.fasterxml.jackson.databind.JsonNode;
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

    /**
     * Like {@link #acquire()}, for a session continuing from checkpoint {@code resume} (null for
     * none): a source whose workers can only resume when started for it starts one (a cold start).
     */
    default CompletionStage<Worker> acquire(JsonNode resume) throws WorkerUnavailableException {
        return acquire();
    }

    /**
     * Like {@link #acquire(JsonNode)}; {@code fork}: {@code resume} is the checkpoint of another
     * session this one was forked from (contract 1.2, 8.2), and a worker started for it continues it
     * as a new conversation (Claude Code's {@code --fork-session}).
     */
    default CompletionStage<Worker> acquire(JsonNode resume, boolean fork) throws WorkerUnavailableException {
        return acquire(resume);
    }

    /** Like {@link #startsFrom(JsonNode)}, for a fork's checkpoint when {@code fork}. */
    default boolean startsFrom(JsonNode resume, boolean fork) {
        return startsFrom(resume);
    }

    /**
     * Whether a worker continuing from {@code resume} must be started for it ({@link #acquire(JsonNode)}
     * then starts one): such a worker cannot be reserved ahead while the current one runs.
     */
    default boolean startsFrom(JsonNode resume) {
        return false;
    }

    /** Stops every worker this source still holds and refuses further acquires. */
    void close();
}
