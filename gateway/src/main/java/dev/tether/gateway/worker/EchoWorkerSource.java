package dev.tether.gateway.worker;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Hands out a fresh in-process {@link EchoWorker} per session, ready at once. Used when
 * {@code worker.kind} is {@code echo}: for trying the gateway, for tests of session logic, and as
 * the floor in benchmarks.
 */
public final class EchoWorkerSource implements WorkerSource {

    private final int deltas;
    private final Duration deltaInterval;

    public EchoWorkerSource(int deltas, Duration deltaInterval) {
        this.deltas = deltas;
        this.deltaInterval = deltaInterval;
    }

    @Override
    public CompletionStage<Worker> acquire() {
        return CompletableFuture.completedFuture(new EchoWorker(deltas, deltaInterval));
    }

    @Override
    public void close() {
        // Echo workers hold nothing outside their session, which stops them as it ends.
    }
}
