package dev.tether.protocol;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * Frames a client sends to the gateway (contract section 2, "Client to server"). Each record is one
 * {@code type}; {@link WireCodec} turns them into and out of JSON text.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ClientMessage.Message.class, name = "message"),
    @JsonSubTypes.Type(value = ClientMessage.Ack.class, name = "ack"),
    @JsonSubTypes.Type(value = ClientMessage.Interrupt.class, name = "interrupt"),
    @JsonSubTypes.Type(value = ClientMessage.AuthRefresh.class, name = "auth_refresh"),
    @JsonSubTypes.Type(value = ClientMessage.Ping.class, name = "ping"),
    @JsonSubTypes.Type(value = ClientMessage.End.class, name = "end"),
    @JsonSubTypes.Type(value = ClientMessage.Respond.class, name = "respond"),
    @JsonSubTypes.Type(value = ClientMessage.Extend.class, name = "extend"),
})
public sealed interface ClientMessage {

    /** The longest {@code message.id} accepted, in characters. */
    int MAX_ID_LENGTH = 256;

    /** Input for the worker. Forwarded once per {@code id}; a repeated id is acknowledged as duplicate. */
    record Message(String id, JsonNode data) implements ClientMessage {
        public Message {
            requireNonNull(id, "id");
            if (id.isEmpty() || id.length() > MAX_ID_LENGTH) {
                throw new IllegalArgumentException("id must be 1 to " + MAX_ID_LENGTH + " characters");
            }
            data = data == null ? NullNode.getInstance() : data;
        }
    }

    /** Everything up to {@code seq} has been processed and may be dropped from the replay buffer. */
    record Ack(long seq) implements ClientMessage {
        public Ack {
            if (seq < 0) {
                throw new IllegalArgumentException("seq must be >= 0");
            }
        }
    }

    /** Asks the worker to stop the current turn; harmless when idle. */
    record Interrupt() implements ClientMessage {}

    /** Replaces the connection's credentials without reconnecting. */
    record AuthRefresh(String token) implements ClientMessage {
        public AuthRefresh {
            requireNonNull(token, "token");
        }

        @Override
        public String toString() {
            return "AuthRefresh[token=<redacted>]";
        }
    }

    /** Answered with {@code pong}. */
    record Ping() implements ClientMessage {}

    /**
     * Ends the session on purpose (contract 1.2, section 8.7): a running turn is interrupted, the
     * worker stopped, the session ends with reason {@code client_end} and the connection closes
     * with 1000. Closing the WebSocket without it only detaches.
     */
    record End() implements ClientMessage {}

    /**
     * Asks for more time (contract 1.2, section 8.3): while the operator's allowance of extensions
     * lasts, the session's end moves later and notice {@code duration_extended} says when it is now;
     * otherwise error {@code extension_refused} says why.
     */
    record Extend() implements ClientMessage {}

    /**
     * Answers the worker's request {@code requestId} (contract 7.3). The first answer wins; a later
     * one gets {@code request_resolved}, an unknown id {@code request_not_found}.
     */
    record Respond(String requestId, JsonNode data) implements ClientMessage {
        public Respond {
            requireNonNull(requestId, "requestId");
            if (requestId.isEmpty() || requestId.length() > MAX_ID_LENGTH) {
                throw new IllegalArgumentException("request_id must be 1 to " + MAX_ID_LENGTH + " characters");
            }
            data = data == null ? NullNode.getInstance() : data;
        }
    }
}
