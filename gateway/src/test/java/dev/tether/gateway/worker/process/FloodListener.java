package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A session's side of a worker that floods it with events, for tests: counts the events of one turn
 * without keeping them and completes {@link #result} with the turn's result; a protocol problem or an
 * exit fails it. Called on the session's loop, like any listener.
 */
final class FloodListener implements WorkerListener {

    final CompletableFuture<ObjectNode> result = new CompletableFuture<>();
    private final AtomicInteger seen;
    private final IntConsumer eachEvent;

    /**
     * @param seen counts the events before the result, readable from the test's thread
     * @param eachEvent runs on the loop after each of them, with the count so far
     */
    FloodListener(AtomicInteger seen, IntConsumer eachEvent) {
        this.seen = requireNonNull(seen, "seen");
        this.eachEvent = requireNonNull(eachEvent, "eachEvent");
    }

    @Override
    public void onEvent(ObjectNode event) {
        if ("result".equals(event.path("type").asText())) {
            result.complete(event);
        } else {
            eachEvent.accept(seen.incrementAndGet());
        }
    }

    @Override
    public void onCheckpoint(JsonNode state) {}

    @Override
    public void onProtocolProblem(String code, String message) {
        result.completeExceptionally(new AssertionError(code + ": " + message));
    }

    @Override
    public void onExit(WorkerExit exit) {
        result.completeExceptionally(new AssertionError("exited: " + exit));
    }
}
