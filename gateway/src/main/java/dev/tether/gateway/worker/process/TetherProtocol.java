package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.RequestOutcome;
import java.nio.file.Path;

/**
 * Tether's own worker protocol ({@code worker.process.protocol: tether}, contract sections 5, 7.2
 * and 7.3; docs/workers.md): JSON lines both ways. {@code ready} once; {@code checkpoint} kept,
 * never forwarded; {@code request} asks the user; every other object is an event.
 */
final class TetherProtocol implements WorkerProtocol {

    static final String NAME = "tether";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Peer peer;
    private boolean ready;

    TetherProtocol(Peer peer) {
        this.peer = requireNonNull(peer, "peer");
    }

    @Override
    public void started() {}

    @Override
    public void output(ObjectNode line) {
        String type = line.path("type").textValue();
        if (!ready) {
            if ("ready".equals(type)) {
                ready = true;
                peer.ready();
            } else {
                peer.event(line); // dropped (and logged) before ready
            }
            return;
        }
        if (ProcessWorker.CHECKPOINT.equals(type)) {
            JsonNode state = line.get("state");
            if (state == null) {
                peer.problem(WorkerOutputHandler.PROTOCOL_ERROR, "a checkpoint without state: not kept");
            } else {
                peer.checkpoint(state);
            }
        } else if ("request".equals(type)) {
            request(line);
        } else {
            peer.event(line);
        }
    }

    private void request(ObjectNode line) {
        JsonNode id = line.get("request_id");
        JsonNode request = line.get("request");
        if (id == null
                || !id.isTextual()
                || id.textValue().isEmpty()
                || id.textValue().length() > ClientMessage.MAX_ID_LENGTH) {
            peer.problem(
                    WorkerOutputHandler.PROTOCOL_ERROR,
                    "a request without a request_id of 1 to " + ClientMessage.MAX_ID_LENGTH + " characters: ignored");
        } else if (request == null) {
            peer.problem(WorkerOutputHandler.PROTOCOL_ERROR, "request " + id.textValue() + " without request: ignored");
        } else {
            peer.request(id.textValue(), request);
        }
    }

    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume) {
        bind(sessionId, subject, workDir, resume, null);
    }

    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume, ObjectNode claims) {
        bind(sessionId, subject, workDir, resume, false, claims);
    }

    /**
     * The {@code session} line, with {@code "claims"} when claims are forwarded, and {@code "fork":
     * true} beside {@code "resume"} when the session is a fork continuing from its parent's checkpoint.
     */
    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume, boolean fork, ObjectNode claims) {
        ObjectNode line = JSON.objectNode()
                .put("type", "session")
                .put("session_id", sessionId)
                .put("subject", subject)
                .put("work_dir", workDir.toString());
        if (resume != null) {
            line.set("resume", resume);
            if (fork) {
                line.put("fork", true);
            }
        }
        if (claims != null) {
            line.set("claims", claims);
        }
        peer.write(line);
    }

    /** {@code {"type":"claims","claims":{...}}}: the forwarded claims after an {@code auth_refresh} changed them. */
    @Override
    public void claims(ObjectNode claims) {
        ObjectNode line = JSON.objectNode().put("type", "claims");
        line.set("claims", claims);
        peer.write(line);
    }

    @Override
    public void send(String id, JsonNode data) {
        ObjectNode line = JSON.objectNode().put("type", "message").put("id", id);
        line.set("data", data);
        peer.write(line);
    }

    @Override
    public void interrupt() {
        peer.write(JSON.objectNode().put("type", "interrupt"));
    }

    /**
     * {@code {"type":"response","request_id":...}} with {@code data} (answered), {@code "timeout":true},
     * or {@code "cancelled":true} (an extension: the turn was interrupted or ended, the request was
     * refused as one too many).
     */
    @Override
    public void respond(String requestId, RequestOutcome outcome, JsonNode data) {
        ObjectNode line = JSON.objectNode().put("type", "response").put("request_id", requestId);
        switch (outcome) {
            case ANSWERED -> line.set("data", data);
            case TIMEOUT -> line.put("timeout", true);
            case CANCELLED -> line.put("cancelled", true);
        }
        peer.write(line);
    }

    @Override
    public void shutdown() {
        peer.write(JSON.objectNode().put("type", "shutdown"));
    }
}
