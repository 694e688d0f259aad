package dev.tether.gateway.worker;

import com.fasterxml.jackson.databind.JsonNode;

/** Receives what a bound {@link Worker} produces. Called on the worker's threads. */
public interface WorkerListener {

    /** One output event (a JSON object). An event of type {@code result} ends the current turn. */
    void onEvent(JsonNode event);

    /** The worker went away without being asked to stop. */
    void onExit(WorkerExit exit);
}
