package dev.tether.gateway.worker;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CompletionStage;

/**
 * One session's worker: something that takes messages and answers with a stream of JSON events,
 * ending each turn with an event of type {@code result}. Sessions talk to this interface only, so
 * they behave the same whether the worker is in-process or a subprocess.
 *
 * <p>A worker is one-shot: it is bound to exactly one session with {@link #bind} and never reused.
 * Methods may be called from any thread and must not block; listener callbacks arrive on whatever
 * thread the worker produces them and the session hands them over to its own event loop.
 */
public interface Worker {

    /**
     * Binds the worker to its session; from now on its output goes to {@code listener}. Called
     * once, after the worker is ready.
     */
    void bind(String sessionId, String subject, WorkerListener listener);

    /** Sends one client message into the worker: starts a turn. */
    void send(String id, JsonNode data);

    /** Asks the worker to stop the current turn; harmless when idle. */
    void interrupt();

    /**
     * Stops the worker and everything it started; completes when it is gone. Idempotent. After
     * this, the listener gets no more output.
     */
    CompletionStage<Void> stop();

    /** A short description for logs: "echo" or "pid 1234". */
    String describe();
}
