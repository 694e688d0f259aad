package dev.tether.protocol;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Frames the gateway sends to a client (contract section 2, "Server to client"). The
 * {@link Sequenced} ones belong to the session's history: they carry a {@code seq} and are kept in
 * the replay buffer; the others concern only the connection they are sent on.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = ServerMessage.SessionReady.class, name = "session_ready"),
    @JsonSubTypes.Type(value = ServerMessage.Event.class, name = "event"),
    @JsonSubTypes.Type(value = ServerMessage.Status.class, name = "status"),
    @JsonSubTypes.Type(value = ServerMessage.Notice.class, name = "notice"),
    @JsonSubTypes.Type(value = ServerMessage.Request.class, name = "request"),
    @JsonSubTypes.Type(value = ServerMessage.RequestResolved.class, name = "request_resolved"),
    @JsonSubTypes.Type(value = ServerMessage.Accepted.class, name = "accepted"),
    @JsonSubTypes.Type(value = ServerMessage.ErrorFrame.class, name = "error"),
    @JsonSubTypes.Type(value = ServerMessage.ReplayGap.class, name = "replay_gap"),
    @JsonSubTypes.Type(value = ServerMessage.RefreshRequired.class, name = "refresh_required"),
    @JsonSubTypes.Type(value = ServerMessage.AuthOk.class, name = "auth_ok"),
    @JsonSubTypes.Type(value = ServerMessage.SessionReplaced.class, name = "session_replaced"),
    @JsonSubTypes.Type(value = ServerMessage.ShuttingDown.class, name = "shutting_down"),
    @JsonSubTypes.Type(value = ServerMessage.Pong.class, name = "pong"),
    @JsonSubTypes.Type(value = ServerMessage.Batch.class, name = "batch"),
    @JsonSubTypes.Type(value = ServerMessage.Queued.class, name = "queued"),
})
public sealed interface ServerMessage {

    /** A message of the session's history: numbered, replayable. */
    sealed interface Sequenced extends ServerMessage permits Event, Status, Notice, Request, RequestResolved {
        /** Position in the session's history: 1, 2, 3, ... with no gaps and no reuse. */
        long seq();
    }

    /**
     * First message on every connection. {@code node} (an extension, absent when the gateway has no
     * {@code server.node_id}) names the node serving the session now: a client resumes with
     * {@code &node=} so that a proxy routes the resume there, wherever the session moved.
     * {@code role} says what this connection may do (contract 7.4); {@code pendingRequests} lists the
     * worker's requests nobody has answered yet, oldest first (contract 7.3), so a client that
     * resumes after their {@code request} messages were evicted still sees them. {@code endsAt}
     * (contract 1.2, section 8.3) is the session's current end in epoch seconds, moved by every
     * granted {@code extend}; absent from a gateway before 1.2. {@code forkedFrom} and {@code forkSeq}
     * (contract 1.2, section 8.2) answer a fork ({@code fork=S}): the session it was forked from, and
     * that session's newest seq when the checkpoint the fork continues from was taken, a number or
     * JSON null when it had none ({@link #forkSeqOf}); both absent on every other {@code session_ready}.
     */
    record SessionReady(
            String sessionId,
            boolean resumed,
            long lastSeq,
            long tokenExpiresAt,
            SessionState state,
            @JsonInclude(JsonInclude.Include.NON_NULL) String node,
            Role role,
            List<PendingRequest> pendingRequests,
            @JsonInclude(JsonInclude.Include.NON_NULL) Long endsAt,
            @JsonInclude(JsonInclude.Include.NON_NULL) String forkedFrom,
            @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode forkSeq)
            implements ServerMessage {
        public SessionReady {
            requireNonNull(sessionId, "sessionId");
            requireNonNull(state, "state");
            role = role == null ? Role.OWNER : role; // a gateway before 1.1 names no role: its connections own
            pendingRequests = pendingRequests == null ? List.of() : List.copyOf(pendingRequests);
            if (forkSeq != null && !forkSeq.isNull()) {
                if (!forkSeq.isIntegralNumber() || !forkSeq.canConvertToLong()) {
                    throw new IllegalArgumentException("fork_seq is an integer or null");
                }
                forkSeq = LongNode.valueOf(forkSeq.longValue()); // one form, whatever width it was read as
            }
        }

        /**
         * {@code fork_seq} as it goes on the wire: {@code seq}, or JSON null when the forked session had
         * no checkpoint ({@code seq} null).
         */
        public static JsonNode forkSeqOf(Long seq) {
            return seq == null ? NullNode.getInstance() : LongNode.valueOf(seq);
        }

        /** {@code fork_seq} as a number; null when absent or JSON null. */
        public Long forkSeqValue() {
            return forkSeq == null || forkSeq.isNull() ? null : forkSeq.longValue();
        }

        public SessionReady(
                String sessionId,
                boolean resumed,
                long lastSeq,
                long tokenExpiresAt,
                SessionState state,
                String node,
                Role role,
                List<PendingRequest> pendingRequests) {
            this(sessionId, resumed, lastSeq, tokenExpiresAt, state, node, role, pendingRequests, null, null, null);
        }

        public SessionReady(
                String sessionId, boolean resumed, long lastSeq, long tokenExpiresAt, SessionState state, String node) {
            this(sessionId, resumed, lastSeq, tokenExpiresAt, state, node, Role.OWNER, List.of());
        }

        public SessionReady(String sessionId, boolean resumed, long lastSeq, long tokenExpiresAt, SessionState state) {
            this(sessionId, resumed, lastSeq, tokenExpiresAt, state, null);
        }
    }

    /** A request of the worker that nobody has answered yet, as {@code session_ready} lists it. */
    record PendingRequest(String requestId, JsonNode request, long seq) {
        public PendingRequest {
            requireNonNull(requestId, "requestId");
            requireNonNull(request, "request");
        }
    }

    /** One output object of the session's worker, verbatim. */
    record Event(long seq, JsonNode event) implements Sequenced {
        public Event {
            requireNonNull(event, "event");
        }
    }

    /** The session changed state; {@code reason} is absent when there is nothing to explain. */
    record Status(long seq, SessionState state, String reason) implements Sequenced {
        public Status {
            requireNonNull(state, "state");
        }
    }

    /**
     * Something the user should know ({@code duration_warning}, {@code worker_crashed}, ...).
     * {@code details} is an optional object with machine-readable specifics.
     */
    record Notice(long seq, String code, String message, ObjectNode details) implements Sequenced {
        public Notice {
            requireNonNull(code, "code");
            requireNonNull(message, "message");
        }
    }

    /**
     * The worker asks the user something (contract 7.3: an approval, a question); answered with
     * {@code respond}. The first answer wins; the outcome follows as {@link RequestResolved}.
     */
    record Request(long seq, String requestId, JsonNode request) implements Sequenced {
        public Request {
            requireNonNull(requestId, "requestId");
            requireNonNull(request, "request");
        }
    }

    /** A worker's request was resolved, once: answered, timed out, or cancelled with its turn. */
    record RequestResolved(long seq, String requestId, RequestOutcome outcome) implements Sequenced {
        public RequestResolved {
            requireNonNull(requestId, "requestId");
            requireNonNull(outcome, "outcome");
        }
    }

    /** A client {@code message} was taken; {@code queued} is its queue position, 0 when sent straight on. */
    record Accepted(String id, boolean duplicate, int queued) implements ServerMessage {
        public Accepted {
            requireNonNull(id, "id");
        }
    }

    /**
     * A request failed. {@code id} names the client message it refers to, {@code reason} explains a
     * {@code session_expired}, {@code requestId} (an extension) names the request a refused
     * {@code respond} was for; each is absent when it does not apply.
     */
    record ErrorFrame(ErrorCode code, String message, String id, String reason, String requestId)
            implements ServerMessage {
        public ErrorFrame {
            requireNonNull(code, "code");
            requireNonNull(message, "message");
        }

        public ErrorFrame(ErrorCode code, String message, String id, String reason) {
            this(code, message, id, reason, null);
        }

        public static ErrorFrame of(ErrorCode code, String message) {
            return new ErrorFrame(code, message, null, null);
        }

        /** An answer to {@code respond} for request {@code requestId} (an extension: the client knows which answer failed). */
        public static ErrorFrame ofRespond(ErrorCode code, String message, String requestId) {
            return new ErrorFrame(code, message, null, null, requireNonNull(requestId, "requestId"));
        }
    }

    /** On resume: seqs {@code from..to} (inclusive) were evicted and can never be replayed. */
    record ReplayGap(long from, long to) implements ServerMessage {}

    /** The connection's token expires at {@code expiresAt} (epoch seconds): send {@code auth_refresh}. */
    record RefreshRequired(long expiresAt) implements ServerMessage {}

    /** An {@code auth_refresh} was accepted; the connection's token now expires at {@code expiresAt}. */
    record AuthOk(long expiresAt) implements ServerMessage {}

    /** A newer connection took this session; a close 4001 follows. */
    record SessionReplaced() implements ServerMessage {}

    /** The server is draining: new messages are refused; reconnect after {@code retryAfter} seconds. */
    record ShuttingDown(long retryAfter) implements ServerMessage {}

    /** Answer to {@code ping}. */
    record Pong() implements ServerMessage {}

    /**
     * Several messages in one frame (contract 8.4), sent only to a connection opened with
     * {@code ?batch=<ms>}. Each message inside keeps its own {@code type}, {@code seq} and meaning, in
     * order; a client handles them one by one exactly as if each had come in a frame of its own. The
     * gateway never puts a batch inside a batch, and never sends a batch of one message.
     */
    record Batch(List<ServerMessage> messages) implements ServerMessage {
        public Batch {
            messages = List.copyOf(requireNonNull(messages, "messages"));
        }

        /** The messages {@code frame} carries: those of a batch, in order, or {@code frame} alone. */
        public static List<ServerMessage> unpack(ServerMessage frame) {
            return frame instanceof Batch batch ? batch.messages() : List.of(requireNonNull(frame, "frame"));
        }
    }

    /**
     * A {@code wait=1} connection waits for capacity (contract 8.1): {@code position} 1 is next;
     * {@code estimatedWait} in seconds, or null when unknown (written as JSON null).
     */
    record Queued(
            int position,
            @JsonInclude(JsonInclude.Include.ALWAYS) Long estimatedWait) implements ServerMessage {}
}
