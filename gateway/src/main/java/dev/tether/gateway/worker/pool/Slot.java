package dev.tether.gateway.worker.pool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.worker.Worker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One worker of the {@link WorkerPool}, from the moment its launch is scheduled (capacity is
 * reserved then) until it has exited. Plain mutable state, guarded by the pool's lock; {@link Slots}
 * keeps the books.
 */
final class Slot {

    /** Where a worker is in its life. */
    enum State {
        /** Capacity reserved, {@code launch()} scheduled, or its process being created. */
        LAUNCHING,
        /** Launched, waiting for ready. */
        STARTING,
        /** Ready and waiting for a session. */
        IDLE,
        /** Handed to a session (or promised to a cold-start acquire); the pool only watches its exit. */
        IN_SESSION,
        /** Being stopped or killed by the pool; waiting for its exit. */
        RETIRING,
        /** Exited, or never launched. */
        GONE;

        boolean starting() {
            return this == LAUNCHING || this == STARTING;
        }
    }

    /**
     * The checkpoint this worker is started from (a worker that can only continue a session when
     * started for it, {@link WorkerLauncher#startsFrom}), or null: such a worker only ever serves
     * the session that asked for it, never the warm pool.
     */
    JsonNode resume;
    /** Whether {@link #resume} is continued as a fork (contract 1.2, 8.2). */
    boolean fork;
    /** The session waiting for this cold start, or null for a background spawn. */
    final CompletableFuture<Worker> claim;
    /** The launcher that starts (or started) it, of configuration {@link #generation}. */
    WorkerLauncher launcher;

    int generation;
    State state = State.LAUNCHING;
    /** Set once launched. */
    Worker worker;

    ScheduledFuture<?> initTimer;
    /** A background spawn of the current configuration that will join the warm pool when ready. */
    boolean pendingWarm;
    /** The half-open breaker's trial spawn. */
    boolean trial;

    Slot(WorkerLauncher launcher, int generation, CompletableFuture<Worker> claim) {
        this.launcher = launcher;
        this.generation = generation;
        this.claim = claim;
    }

    String who() {
        return worker == null ? "worker" : "worker " + worker.describe();
    }

    void cancelInitTimer() {
        if (initTimer != null) {
            initTimer.cancel(false);
            initTimer = null;
        }
    }
}
