package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;

/**
 * What a session's {@link WorkerSlot} reports to its {@link Session}, on the session's event loop:
 * output and the end of the worker serving it now, and the outcome of waiting for a new one. Events
 * of a worker the session no longer has, and any event after the session ended, are never reported.
 */
sealed interface WorkerEvent {

    /** A line of output (an event object) from the current worker. */
    record Output(ObjectNode event) implements WorkerEvent {
        public Output {
            requireNonNull(event, "event");
        }
    }

    /** The current worker broke the worker protocol (a line that is not a JSON object, one too long). */
    record ProtocolProblem(String code, String message) implements WorkerEvent {
        public ProtocolProblem {
            requireNonNull(code, "code");
            requireNonNull(message, "message");
        }
    }

    /**
     * The current worker saved a checkpoint (kept by the slot); {@code json} is its state, written as
     * JSON, handed over without a copy and never changed (a class, not a record, whose equals would
     * compare the array by identity).
     */
    final class Checkpointed implements WorkerEvent {
        private final byte[] json;

        public Checkpointed(byte[] json) {
            this.json = requireNonNull(json, "json");
        }

        public byte[] json() {
            return json;
        }
    }

    /** The current worker asks the user something (contract 7.3). */
    record Requested(String requestId, JsonNode request) implements WorkerEvent {
        public Requested {
            requireNonNull(requestId, "requestId");
            requireNonNull(request, "request");
        }
    }

    /** The current worker's protocol says its turn ended (an adapter's {@code turn/completed}). */
    record TurnEnded() implements WorkerEvent {}

    /** The current worker exited by itself (it was not stopped by the session). */
    record Exited(WorkerExit exit) implements WorkerEvent {
        public Exited {
            requireNonNull(exit, "exit");
        }
    }

    /** A worker the session waited for is ready, and is now the current one. */
    record Ready(Worker worker) implements WorkerEvent {
        public Ready {
            requireNonNull(worker, "worker");
        }
    }

    /** A worker the session waited for will never be ready (it failed to start, or none could be had). */
    record Unavailable(String why) implements WorkerEvent {
        public Unavailable {
            requireNonNull(why, "why");
        }
    }
}
