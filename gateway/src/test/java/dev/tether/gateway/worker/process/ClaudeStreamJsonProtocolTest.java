package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code claude-stream-json} adapter on its own: the lines it writes for each session call and
 * what it makes of each line of the CLI, in the formats of the Claude Agent SDKs (see
 * {@link dev.tether.gateway.agents.FakeClaudeCli} for the sources).
 */
class ClaudeStreamJsonProtocolTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> calls = new ArrayList<>();
    private final List<ObjectNode> written = new ArrayList<>();
    private final WorkerProtocol.Peer peer = new WorkerProtocol.Peer() {
        @Override
        public void write(ObjectNode line) {
            written.add(line);
        }

        @Override
        public void ready() {
            calls.add("ready");
        }

        @Override
        public void event(ObjectNode event) {
            calls.add("event " + event.path("type").asText());
        }

        @Override
        public void checkpoint(JsonNode state) {
            calls.add("checkpoint " + state);
        }

        @Override
        public void request(String requestId, JsonNode request) {
            calls.add("request " + requestId + " " + request.path("kind").asText() + " "
                    + request.path("tool").asText() + " " + request.path("input"));
        }

        @Override
        public void turnEnded() {
            calls.add("turn ended");
        }

        @Override
        public void problem(String code, String message) {
            calls.add("problem " + code);
        }
    };

    private static ObjectNode line(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ClaudeStreamJsonProtocol started() {
        ClaudeStreamJsonProtocol protocol = new ClaudeStreamJsonProtocol(peer, null);
        protocol.started();
        assertEquals(
                "{\"type\":\"control_request\",\"request_id\":\"tether-initialize\",\"request\":{\"subtype\":\"initialize\"}}",
                written.remove(0).toString());
        protocol.output(
                line(
                        "{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\",\"request_id\":\"tether-initialize\",\"response\":{}}}"));
        assertEquals(List.of("ready"), calls);
        calls.clear();
        protocol.bind("s", "alice", Path.of("/tmp/w"), null);
        return protocol;
    }

    @Test
    void aMessageIsAUserLineAndTheSessionIdTheCheckpointWhenItAppearsAndAtEveryResult() {
        ClaudeStreamJsonProtocol protocol = started();
        protocol.send("m1", JsonNodeFactory.instance.textNode("hello"));
        protocol.send("m2", JSON.createObjectNode().put("text", "from an object"));
        assertEquals(
                List.of(
                        "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hello\"},\"parent_tool_use_id\":null,\"session_id\":\"default\"}",
                        "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"from an object\"},\"parent_tool_use_id\":null,\"session_id\":\"default\"}"),
                written.stream().map(Object::toString).toList());

        protocol.output(line("{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"abc-123\"}"));
        protocol.output(line("{\"type\":\"assistant\",\"session_id\":\"abc-123\",\"message\":{}}"));
        protocol.output(line("{\"type\":\"result\",\"subtype\":\"success\",\"session_id\":\"abc-123\"}"));
        protocol.output(line("{\"type\":\"assistant\",\"session_id\":\"abc-123\",\"message\":{}}"));
        protocol.output(line("{\"type\":\"result\",\"subtype\":\"success\",\"session_id\":\"abc-123\"}"));
        String checkpoint = "checkpoint {\"claude_session_id\":\"abc-123\",\"cwd\":\"/tmp/w\"}";
        assertEquals(
                List.of(
                        checkpoint,
                        "event system",
                        "event assistant",
                        checkpoint,
                        "event result",
                        "event assistant",
                        checkpoint,
                        "event result"),
                calls,
                "again before every result, so that the idle session may sleep; not on every line");
    }

    @Test
    void aToolPermissionIsAnApprovalAndItsAnswerTheControlResponse() {
        ClaudeStreamJsonProtocol protocol = started();
        protocol.output(
                line("{\"type\":\"control_request\",\"request_id\":\"r1\",\"request\":{\"subtype\":\"can_use_tool\","
                        + "\"tool_name\":\"Bash\",\"input\":{\"command\":\"touch a\"}}}"));
        protocol.output(
                line("{\"type\":\"control_request\",\"request_id\":\"r2\",\"request\":{\"subtype\":\"can_use_tool\","
                        + "\"tool_name\":\"Write\",\"input\":{\"file_path\":\"b\"}}}"));
        assertEquals(
                List.of(
                        "request r1 approval Bash {\"command\":\"touch a\"}",
                        "request r2 approval Write {\"file_path\":\"b\"}"),
                calls);

        assertEquals(
                "decision: expected \"allow\" or \"deny\"",
                protocol.checkAnswer("r1", JSON.createObjectNode().put("decision", "yes")));
        assertNull(protocol.checkAnswer("r1", JSON.createObjectNode().put("decision", "allow")));
        protocol.respond("r1", RequestOutcome.ANSWERED, JSON.createObjectNode().put("decision", "allow"));
        protocol.respond("r2", RequestOutcome.TIMEOUT, null);
        assertEquals(
                List.of(
                        "{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\",\"request_id\":\"r1\",\"response\":"
                                + "{\"behavior\":\"allow\",\"updatedInput\":{\"command\":\"touch a\"}}}}",
                        "{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\",\"request_id\":\"r2\",\"response\":"
                                + "{\"behavior\":\"deny\",\"message\":\"Nobody answered in time: denied.\"}}}"),
                written.stream().map(Object::toString).toList());
    }

    @Test
    void otherControlRequestsAreRefusedSoTheCliNeverWaits() {
        ClaudeStreamJsonProtocol protocol = started();
        protocol.output(line(
                "{\"type\":\"control_request\",\"request_id\":\"h1\",\"request\":{\"subtype\":\"hook_callback\"}}"));
        assertEquals(List.of(), calls);
        assertEquals(
                "{\"type\":\"control_response\",\"response\":{\"subtype\":\"error\",\"request_id\":\"h1\","
                        + "\"error\":\"not supported by this client: hook_callback\"}}",
                written.get(0).toString());
    }

    @Test
    void anInterruptIsTheCliInterruptControlRequest() {
        ClaudeStreamJsonProtocol protocol = started();
        protocol.interrupt();
        assertEquals(
                "{\"type\":\"control_request\",\"request_id\":\"tether-interrupt-1\",\"request\":{\"subtype\":\"interrupt\"}}",
                written.get(0).toString());
    }

    @Test
    void aResumeRunsInTheDirectoryOfItsConversationIfThatIsAWorkerDirectory() {
        Path root = Path.of("/srv/tether/sessions");
        ObjectNode checkpoint =
                JSON.createObjectNode().put("claude_session_id", "abc").put("cwd", "/srv/tether/sessions/w-123");
        assertEquals(Path.of("/srv/tether/sessions/w-123"), ClaudeStreamJsonProtocol.startDirectory(root, checkpoint));
        for (String elsewhere : List.of(
                "/etc",
                "/srv/tether/sessions/w-1/../../x",
                "/srv/tether/sessions/w-1/deeper",
                "relative/w-1",
                "/srv/tether/sessions/x-1")) {
            assertNull(
                    ClaudeStreamJsonProtocol.startDirectory(
                            root, checkpoint.deepCopy().put("cwd", elsewhere)),
                    elsewhere);
        }
        assertNull(
                ClaudeStreamJsonProtocol.startDirectory(
                        root, JSON.createObjectNode().put("cwd", "/srv/tether/sessions/w-1")),
                "no conversation to resume");
    }

    @Test
    void aResumeIsACommandLineArgumentOfAWellFormedId() {
        ObjectNode checkpoint = JSON.createObjectNode().put("claude_session_id", "abc-123");
        assertEquals(List.of("--resume=abc-123"), ClaudeStreamJsonProtocol.startArguments(checkpoint));
        assertEquals(
                List.of(),
                ClaudeStreamJsonProtocol.startArguments(
                        JSON.createObjectNode().put("claude_session_id", "-x; rm -rf /")));
        assertEquals(List.of(), ClaudeStreamJsonProtocol.startArguments(null));
        assertTrue(new ClaudeStreamJsonProtocol(peer, checkpoint).canContinue(checkpoint));
        assertFalse(new ClaudeStreamJsonProtocol(peer, null).canContinue(checkpoint), "a warm CLI cannot resume");
        assertTrue(new ClaudeStreamJsonProtocol(peer, null).canContinue(null));
    }

    @Test
    void aForkIsStartedWithForkSessionAndNoWorkerServesBothAResumeAndAFork() {
        ObjectNode checkpoint = JSON.createObjectNode().put("claude_session_id", "abc-123");
        assertEquals(
                List.of("--resume=abc-123", "--fork-session"),
                ClaudeStreamJsonProtocol.startArguments(checkpoint, true));
        assertEquals(List.of(), ClaudeStreamJsonProtocol.startArguments(null, true), "nothing to fork: fresh");
        ClaudeStreamJsonProtocol forking = new ClaudeStreamJsonProtocol(peer, checkpoint, true);
        assertTrue(forking.canContinue(checkpoint, true));
        assertFalse(forking.canContinue(checkpoint, false), "a fork's CLI must not serve the forked session");
        assertFalse(
                new ClaudeStreamJsonProtocol(peer, checkpoint, false).canContinue(checkpoint, true),
                "a resumed CLI must not serve a fork: it writes to the forked session's conversation");
        assertFalse(new ClaudeStreamJsonProtocol(peer, null).canContinue(checkpoint, true), "a warm CLI cannot fork");
        assertTrue(new ClaudeStreamJsonProtocol(peer, null, true).canContinue(null, true), "no checkpoint: fresh");
    }
}
