package dev.tether.gateway.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Receives what a bound {@link Worker} produces. Called on the session's event loop (the executor
 * given to {@link Worker#bind}), one callback at a time, in the order the worker produced them.
 */
public interface WorkerListener {

    /** One output event (a JSON object). An event of type {@code result} ends the current turn. */
    void onEvent(ObjectNode event);

    /**
     * The worker saved its state ({@code {"type":"checkpoint","state":...}}, already checked against
     * {@code worker.process.max_checkpoint_bytes}): the newest one is kept with the session and
     * handed to the worker that continues it. Never forwarded to the client.
     */
    void onCheckpoint(JsonNode state);

    /**
     * The worker broke the worker protocol in a way the session survives; {@code code} is the notice
     * code for the client: {@code worker_protocol_error} (a line that is not a JSON object, a checkpoint
     * without {@code state}), {@code output_truncated} (a line over
     * {@code worker.process.max_line_bytes}) or {@code checkpoint_too_large} (a checkpoint over
     * {@code worker.process.max_checkpoint_bytes}, not kept).
     */
    void onProtocolProblem(String code, String message);

    /**
     * The worker asks the user something (contract 7.3: {@code {"type":"request","request_id":...,
     * "request":...}}, or an agent CLI's approval turned into one by its adapter); answered with
     * {@link Worker#respond}, exactly once. {@code requestId} is 1 to 256 characters.
     */
    default void onRequest(String requestId, JsonNode request) {}

    /**
     * The current turn ended by the worker's own protocol rather than by an event of type
     * {@code result} (an adapter's {@code turn/completed}); called after the events of the turn.
     */
    default void onTurnEnd() {}

    /** The worker went away without being asked to stop. */
    void onExit(WorkerExit exit);
}
