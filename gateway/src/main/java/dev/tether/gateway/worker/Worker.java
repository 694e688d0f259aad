package dev.tether.gateway.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import io.netty.util.concurrent.EventExecutor;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;

/**
 * One session's worker: something that takes messages and answers with a stream of JSON events,
 * ending each turn with an event of type {@code result}. Sessions talk to this interface only, so
 * they behave the same whether the worker is in-process or a subprocess.
 *
 * <p>A worker is one-shot: it becomes {@link #ready()}, is bound to exactly one session with
 * {@link #bind}, and is never handed to another. Methods may be called from any thread and never
 * block; listener callbacks are made on the executor given to {@link #bind}, one at a time.
 */
public interface Worker {

    /**
     * Binds the worker to its session; from now on its output goes to {@code listener}, called on
     * {@code executor} (the session's event loop). Called once, after {@link #ready()} completed.
     *
     * @param resume the session's newest checkpoint when this worker continues a session (after a
     *     restart, or on another node); null for a new session
     * @param fork whether {@code resume} is the checkpoint of another session this one was forked
     *     from (contract 1.2, 8.2): the worker continues from it as a new conversation and leaves the
     *     other session's alone. A worker that keeps nothing outside its checkpoint treats it as a
     *     resume.
     * @param claims the owner's forwarded token claims (contract 1.2, 8.5); null when
     *     {@code auth.forward_claims} names none. A worker that has no use for them ignores them.
     */
    void bind(
            String sessionId,
            String subject,
            JsonNode resume,
            boolean fork,
            ObjectNode claims,
            EventExecutor executor,
            WorkerListener listener);

    /** {@link #bind(String, String, JsonNode, boolean, ObjectNode, EventExecutor, WorkerListener)}, not a fork. */
    default void bind(
            String sessionId,
            String subject,
            JsonNode resume,
            ObjectNode claims,
            EventExecutor executor,
            WorkerListener listener) {
        bind(sessionId, subject, resume, false, claims, executor, listener);
    }

    /** {@link #bind(String, String, JsonNode, boolean, ObjectNode, EventExecutor, WorkerListener)}, not a fork, with no claims. */
    default void bind(
            String sessionId, String subject, JsonNode resume, EventExecutor executor, WorkerListener listener) {
        bind(sessionId, subject, resume, false, null, executor, listener);
    }

    /** The owner's forwarded claims changed (an {@code auth_refresh}): the worker is told, if it cares. */
    default void claims(ObjectNode claims) {}

    /** Sends one client message into the worker: starts a turn. */
    void send(String id, JsonNode data);

    /** Asks the worker to stop the current turn; harmless when idle. */
    void interrupt();

    /**
     * Resolves the worker's request {@code requestId} ({@link WorkerListener#onRequest}): with the
     * client's {@code data} when {@code outcome} is {@code answered}, else as timed out or cancelled
     * (null data). Called at most once per request.
     */
    default void respond(String requestId, RequestOutcome outcome, JsonNode data) {}

    /**
     * Why {@code data} cannot answer request {@code requestId} (an approval's answer must be
     * {@code {"decision":"allow"|"deny"}}, contract 8.10), or null when it can. The client is then
     * told {@code invalid_field} and the request stays pending.
     */
    default String checkAnswer(String requestId, JsonNode data) {
        return null;
    }

    /**
     * Whether the worker works in turns (a message starts one, and it ends with a {@code result});
     * a worker without turns (a line program) takes each message as it comes.
     */
    default boolean turns() {
        return true;
    }

    /**
     * Whether this worker can continue a session from checkpoint {@code resume} (null: a new
     * session). A worker that resumes only when started for it (an agent CLI given the
     * conversation on its command line) says no to any other; the session then asks its source for
     * one started for it ({@link WorkerSource#acquire(JsonNode)}).
     */
    default boolean canContinue(JsonNode resume) {
        return true;
    }

    /**
     * Like {@link #canContinue(JsonNode)}; {@code fork}: as a fork of the session {@code resume}
     * belongs to (contract 1.2, 8.2). A worker started for one cannot serve the other.
     */
    default boolean canContinue(JsonNode resume, boolean fork) {
        return canContinue(resume);
    }

    /**
     * Stops the worker and everything it started, gracefully first; completes when it is gone.
     * Idempotent. After this, the listener gets no more callbacks, {@code onExit} included.
     */
    CompletionStage<Void> stop();

    /**
     * Stops taking the worker's output while {@code paused} (its client does not keep up), so the
     * worker blocks on its own output instead of the gateway buffering it; output resumes when
     * called with false. A worker whose output costs nothing to hold may ignore it.
     */
    default void pauseOutput(boolean paused) {}

    /** Kills the worker and everything it started at once (a hard limit was hit). Idempotent. */
    void kill();

    /** Completes when the worker can take its first message (it said {@code ready}). */
    CompletionStage<Void> ready();

    /** Completes when the worker has gone, for whatever reason. */
    CompletionStage<WorkerExit> exited();

    /** The operating-system process id, for workers that are processes. */
    OptionalLong pid();

    /** A short description for logs: "pid 1234" for a worker that is a process; others say what they are ("echo"). */
    default String describe() {
        OptionalLong pid = pid();
        return pid.isPresent() ? "pid " + pid.getAsLong() : getClass().getSimpleName();
    }
}
