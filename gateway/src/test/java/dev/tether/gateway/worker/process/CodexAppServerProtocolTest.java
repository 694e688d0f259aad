package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code codex-app-server} adapter on its own: the JSON-RPC lines it writes and what it makes of
 * the server's, in the formats of openai/codex {@code codex-rs/app-server/README.md}.
 */
class CodexAppServerProtocolTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> calls = new ArrayList<>();
    private final List<String> written = new ArrayList<>();
    private final WorkerProtocol.Peer peer = new WorkerProtocol.Peer() {
        @Override
        public void write(ObjectNode line) {
            written.add(line.toString());
        }

        @Override
        public void ready() {
            calls.add("ready");
        }

        @Override
        public void event(ObjectNode event) {
            calls.add("event " + event.path("method").asText());
        }

        @Override
        public void checkpoint(JsonNode state) {
            calls.add("checkpoint " + state);
        }

        @Override
        public void request(String requestId, JsonNode request) {
            calls.add("request " + requestId + " " + request.path("tool").asText() + " " + request.path("input"));
        }

        @Override
        public void turnEnded() {
            calls.add("turn ended");
        }

        @Override
        public void problem(String code, String message) {
            calls.add("problem " + message);
        }
    };

    private static ObjectNode line(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CodexAppServerProtocol ready() {
        CodexAppServerProtocol protocol = new CodexAppServerProtocol(peer, "p1");
        protocol.started();
        protocol.output(line("{\"id\":\"tether-initialize\",\"result\":{\"userAgent\":\"codex/0.171\"}}"));
        assertEquals(
                List.of(
                        "{\"id\":\"tether-initialize\",\"method\":\"initialize\",\"params\":{\"clientInfo\":"
                                + "{\"name\":\"tether\",\"title\":\"Tether session gateway\",\"version\":\"1\"}}}",
                        "{\"method\":\"initialized\"}"),
                written);
        assertEquals(List.of("ready"), calls);
        written.clear();
        calls.clear();
        return protocol;
    }

    @Test
    void aMessageBeforeTheThreadWaitsForItAndTurnCompletedEndsTheTurnWithTheThreadCheckpointedAgain() {
        CodexAppServerProtocol protocol = ready();
        protocol.bind("s", "alice", Path.of("/tmp/w-1"), null);
        protocol.send("m1", JSON.getNodeFactory().textNode("hi"));
        assertEquals(
                List.of("{\"id\":\"tether-1\",\"method\":\"thread/start\",\"params\":{\"cwd\":\"/tmp/w-1\"}}"),
                written);

        protocol.output(line("{\"id\":\"tether-1\",\"result\":{\"thread\":{\"id\":\"thr_1\"}}}"));
        assertEquals(
                "{\"id\":\"tether-2\",\"method\":\"turn/start\",\"params\":{\"input\":[{\"type\":\"text\",\"text\":\"hi\"}],"
                        + "\"threadId\":\"thr_1\"}}",
                written.get(1));
        protocol.output(
                line("{\"id\":\"tether-2\",\"result\":{\"turn\":{\"id\":\"turn_1\",\"status\":\"inProgress\"}}}"));
        protocol.output(line("{\"method\":\"turn/started\",\"params\":{\"turn\":{\"id\":\"turn_1\"}}}"));
        protocol.interrupt();
        assertEquals(
                "{\"id\":\"tether-3\",\"method\":\"turn/interrupt\",\"params\":{\"threadId\":\"thr_1\",\"turnId\":\"turn_1\"}}",
                written.get(2));
        protocol.output(
                line(
                        "{\"method\":\"turn/completed\",\"params\":{\"turn\":{\"id\":\"turn_1\",\"status\":\"interrupted\"}}}"));
        assertEquals(
                List.of(
                        "checkpoint {\"codex_thread_id\":\"thr_1\"}",
                        "event turn/started",
                        "checkpoint {\"codex_thread_id\":\"thr_1\"}",
                        "event turn/completed",
                        "turn ended"),
                calls);
    }

    @Test
    void aCheckpointResumesTheThreadAndAnUnknownOneStartsANewOneOutLoud() {
        CodexAppServerProtocol protocol = ready();
        protocol.bind("s", "alice", Path.of("/tmp/w-2"), JSON.createObjectNode().put("codex_thread_id", "thr_9"));
        assertEquals(
                "{\"id\":\"tether-1\",\"method\":\"thread/resume\",\"params\":{\"threadId\":\"thr_9\",\"cwd\":\"/tmp/w-2\"}}",
                written.get(0));
        protocol.output(line("{\"id\":\"tether-1\",\"error\":{\"code\":-32600,\"message\":\"no rollout found\"}}"));
        assertEquals(
                "{\"id\":\"tether-2\",\"method\":\"thread/start\",\"params\":{\"cwd\":\"/tmp/w-2\"}}", written.get(1));
        assertEquals(
                List.of("problem codex could not resume thread thr_9 (no rollout found): a new thread was started"),
                calls);
    }

    @Test
    void aForkOpensItsThreadWithThreadForkAndKeepsTheNewThreadAsItsCheckpoint() {
        CodexAppServerProtocol protocol = ready();
        protocol.bind(
                "f", "alice", Path.of("/tmp/w-3"), JSON.createObjectNode().put("codex_thread_id", "thr_9"), true, null);
        assertEquals(
                "{\"id\":\"tether-1\",\"method\":\"thread/fork\",\"params\":{\"threadId\":\"thr_9\",\"cwd\":\"/tmp/w-3\"}}",
                written.get(0));
        protocol.output(line("{\"id\":\"tether-1\",\"result\":{\"thread\":{\"id\":\"thr_10\"}}}"));
        assertEquals(List.of("checkpoint {\"codex_thread_id\":\"thr_10\"}"), calls);
    }

    @Test
    void aThreadThatCannotBeForkedIsANewThreadSaidOutLoud() {
        CodexAppServerProtocol protocol = ready();
        protocol.bind(
                "f", "alice", Path.of("/tmp/w-4"), JSON.createObjectNode().put("codex_thread_id", "thr_9"), true, null);
        protocol.output(line("{\"id\":\"tether-1\",\"error\":{\"code\":-32600,\"message\":\"no rollout found\"}}"));
        assertEquals(
                "{\"id\":\"tether-2\",\"method\":\"thread/start\",\"params\":{\"cwd\":\"/tmp/w-4\"}}", written.get(1));
        assertEquals(
                List.of("problem codex could not fork thread thr_9 (no rollout found): a new thread was started"),
                calls);
    }

    @Test
    void approvalsAreRequestsAndOtherServerRequestsAreRefused() {
        CodexAppServerProtocol protocol = ready();
        protocol.output(
                line("{\"id\":7,\"method\":\"item/commandExecution/requestApproval\",\"params\":{\"threadId\":\"t\","
                        + "\"turnId\":\"u\",\"itemId\":\"i\",\"command\":\"rm -rf build\"}}"));
        protocol.output(
                line("{\"id\":\"f8\",\"method\":\"item/fileChange/requestApproval\",\"params\":{\"itemId\":\"j\"}}"));
        protocol.output(line("{\"id\":9,\"method\":\"item/tool/requestUserInput\",\"params\":{}}"));
        assertEquals(
                List.of(
                        "request codex-p1-7 commandExecution \"rm -rf build\"",
                        "request codex-p1-f8 fileChange {\"itemId\":\"j\"}"),
                calls);
        assertEquals(
                "{\"id\":9,\"error\":{\"code\":-32601,\"message\":\"not supported by this client: item/tool/requestUserInput\"}}",
                written.get(0));

        protocol.respond(
                "codex-p1-7", RequestOutcome.ANSWERED, JSON.createObjectNode().put("decision", "allow"));
        protocol.respond("codex-p1-f8", RequestOutcome.CANCELLED, null);
        assertEquals(
                List.of(
                        "{\"id\":7,\"result\":{\"decision\":\"accept\"}}",
                        "{\"id\":\"f8\",\"result\":{\"decision\":\"decline\"}}"),
                written.subList(1, 3));
    }

    @Test
    void theSameJsonRpcIdFromAnotherProcessIsAnotherRequest() {
        List<String> ids = new ArrayList<>();
        for (int process = 0; process < 2; process++) {
            calls.clear();
            CodexAppServerProtocol protocol = new CodexAppServerProtocol(peer);
            protocol.started();
            protocol.output(line("{\"id\":\"tether-initialize\",\"result\":{}}"));
            protocol.output(line(
                    "{\"id\":0,\"method\":\"item/commandExecution/requestApproval\",\"params\":{\"command\":\"ls\"}}"));
            ids.add(calls.get(calls.size() - 1).split(" ", -1)[1]);
        }
        assertEquals(2, new HashSet<>(ids).size(), "a restarted server's request 0 is not the first one's: " + ids);
    }

    @Test
    void aRefusedTurnEndsTheTurnWithTheServersError() {
        CodexAppServerProtocol protocol = ready();
        protocol.bind("s", "alice", Path.of("/tmp/w-3"), null);
        protocol.output(line("{\"id\":\"tether-1\",\"result\":{\"thread\":{\"id\":\"thr_1\"}}}"));
        protocol.send("m1", JSON.getNodeFactory().textNode("hi"));
        protocol.output(line("{\"id\":\"tether-2\",\"error\":{\"code\":-32000,\"message\":\"busy\"}}"));
        assertEquals(
                List.of(
                        "checkpoint {\"codex_thread_id\":\"thr_1\"}",
                        "checkpoint {\"codex_thread_id\":\"thr_1\"}",
                        "event ",
                        "turn ended"),
                calls,
                "the thread is checkpointed again: the session may sleep on it");
    }
}
