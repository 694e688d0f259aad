package dev.tether.gateway.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pinned Codex app server, run as a plain subprocess (not through the gateway) against an
 * {@link OpenAiStandIn}, driven over its JSON-RPC lines: proves the stand-in is enough for a whole
 * turn offline and pins down what the server says for text, a command approval accepted and
 * declined, a resumed thread, an interrupt mid-stream, an error status and a cut stream
 * (docs/agent-clis-observed.md). Transcripts land in
 * {@code gateway/target/agent-transcripts/CodexAppServerOfflineIT/}.
 */
class CodexAppServerOfflineIT {

    /** Bounds a failing wait; a turn against the stand-in takes well under a second. */
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Not under the temporary directory: Codex's sandbox cannot run a command with its home there. */
    @TempDir(factory = CliDirs.OutsideTmp.class)
    Path temp;

    private CliDirs dirs;
    private long nextId = 1;

    @BeforeEach
    void dirs(TestInfo info) throws IOException {
        dirs = CliDirs.create(temp, info);
    }

    @Test
    void plainTextTurnAfterTheRefusedWebSocket() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.text("Hello", " from the stand-in"));
            try (JsonLinesProcess codex = start(CodexCli.openAiProvider(standIn), "")) {
                JsonNode init = initialize(codex);
                assertTrue(
                        init.path("userAgent")
                                .asText()
                                .contains(AgentClis.pins().codex()),
                        init.toString());
                String threadId = startThread(codex, JSON.createObjectNode());
                codex.await("thread/started", DEADLINE, notification("thread/started"));
                String turnId = startTurn(codex, threadId, "say hello");
                codex.await("turn/started", DEADLINE, notification("turn/started"));
                JsonNode delta = codex.await("agent message delta", DEADLINE, notification("item/agentMessage/delta"));
                assertEquals("Hello", delta.at("/params/delta").asText());
                JsonNode message = codex.await("agent message", DEADLINE, itemCompleted("agentMessage"));
                assertEquals(
                        "Hello from the stand-in",
                        message.at("/params/item/text").asText());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals(turnId, completed.at("/params/turn/id").asText());
                assertEquals("completed", completed.at("/params/turn/status").asText(), completed.toString());
            }
            assertEquals(1, standIn.refusedUpgrades().size(), "Codex tries the WebSocket once");
            List<RecordedRequest> requests = standIn.modelRequests();
            assertEquals(1, requests.size());
            assertEquals(2, standIn.requests().size(), "no other endpoint is called");
            assertTrue(requests.get(0).json().path("stream").asBoolean(), "a streaming request");
            assertEquals(CodexCli.MODEL, requests.get(0).json().path("model").asText());
            assertTrue(requests.get(0).mentions("say hello"));
            assertEquals(0, standIn.unscripted());
        }
    }

    @Test
    void commandApprovalAccepted() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.execCommand("echo accepted > made-by-codex.txt"));
            standIn.reply(OpenAiStandIn.text("done"));
            try (JsonLinesProcess codex = start(CodexCli.openAiProvider(standIn), "")) {
                String threadId = startTurnNeedingApproval(codex);
                JsonNode ask = awaitApprovalRequest(codex);
                assertTrue(
                        ask.at("/params/command").asText().contains("echo accepted > made-by-codex.txt"),
                        ask.toString());
                assertEquals(threadId, ask.at("/params/threadId").asText());
                assertFalse(Files.exists(dirs.work().resolve("made-by-codex.txt")), "nothing runs before the answer");
                codex.send(CodexCli.response(ask, CodexCli.decision("accept")));
                JsonNode command = codex.await("command item", DEADLINE, itemCompleted("commandExecution"));
                assertEquals("completed", command.at("/params/item/status").asText(), command.toString());
                assertEquals(0, command.at("/params/item/exitCode").asInt(-1), command.toString());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("completed", completed.at("/params/turn/status").asText(), completed.toString());
            }
            assertEquals("accepted\n", RealCliGateways.read(dirs.work().resolve("made-by-codex.txt")));
            RecordedRequest followUp = standIn.modelRequests().get(1);
            assertTrue(followUp.mentions("\"function_call_output\""), "the command's output goes back to the model");
        }
    }

    @Test
    void commandApprovalDeclined() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.execCommand("echo declined > made-by-codex.txt"));
            standIn.reply(OpenAiStandIn.text("understood"));
            try (JsonLinesProcess codex = start(CodexCli.openAiProvider(standIn), "")) {
                startTurnNeedingApproval(codex);
                JsonNode ask = awaitApprovalRequest(codex);
                codex.send(CodexCli.response(ask, CodexCli.decision("decline")));
                JsonNode command = codex.await("command item", DEADLINE, itemCompleted("commandExecution"));
                assertEquals("declined", command.at("/params/item/status").asText(), command.toString());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("completed", completed.at("/params/turn/status").asText(), completed.toString());
            }
            assertFalse(Files.exists(dirs.work().resolve("made-by-codex.txt")));
            assertTrue(standIn.modelRequests().get(1).mentions("rejected by user"), "the model is told");
        }
    }

    @Test
    void resumedThreadSendsTheEarlierTurns() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.text("noted: tangerine"));
            String threadId;
            try (JsonLinesProcess first = start(CodexCli.openAiProvider(standIn), "-first")) {
                initialize(first);
                threadId = startThread(first, JSON.createObjectNode());
                startTurn(first, threadId, "remember the word tangerine");
                first.await("turn/completed", DEADLINE, notification("turn/completed"));
            }
            standIn.reply(OpenAiStandIn.text("it was tangerine"));
            try (JsonLinesProcess second = start(CodexCli.openAiProvider(standIn), "-resumed")) {
                initialize(second);
                ObjectNode resume = JSON.createObjectNode().put("threadId", threadId);
                JsonNode resumed = call(second, "thread/resume", resume);
                assertEquals(threadId, resumed.at("/thread/id").asText());
                assertEquals(1, resumed.at("/thread/turns").size(), resumed.toString());
                startTurn(second, threadId, "which word?");
                JsonNode completed = second.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("completed", completed.at("/params/turn/status").asText(), completed.toString());
            }
            standIn.modelRequests()
                    .get(1)
                    .assertResends("remember the word tangerine", "noted: tangerine", "which word?");
        }
    }

    @Test
    void interruptDuringASlowStream() throws Exception {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            ServedReply slow = standIn.reply(OpenAiStandIn.slowCount());
            try (JsonLinesProcess codex = start(CodexCli.openAiProvider(standIn), "")) {
                initialize(codex);
                String threadId = startThread(codex, JSON.createObjectNode());
                String turnId = startTurn(codex, threadId, "count slowly");
                slow.started().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                JsonNode answer = call(
                        codex,
                        "turn/interrupt",
                        JSON.createObjectNode().put("threadId", threadId).put("turnId", turnId));
                assertTrue(answer.isObject() && answer.isEmpty(), answer.toString());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("interrupted", completed.at("/params/turn/status").asText(), completed.toString());
                assertEquals(
                        ServedReply.Outcome.CLOSED_BY_CLIENT,
                        slow.finished().get(DEADLINE.toSeconds(), TimeUnit.SECONDS),
                        "Codex drops the stream");
            }
        }
    }

    @Test
    void errorStatusFailsTheTurn() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.error(500, "server_error", "stand-in failure"));
            try (JsonLinesProcess codex = start(CodexCli.standInProvider(standIn, 0, 0), "")) {
                initialize(codex);
                String threadId = startThread(codex, JSON.createObjectNode());
                startTurn(codex, threadId, "fail please");
                JsonNode error = codex.await("error notification", DEADLINE, notification("error"));
                assertFalse(error.at("/params/willRetry").asBoolean(), error.toString());
                assertEquals(
                        "internalServerError",
                        error.at("/params/error/codexErrorInfo").asText(),
                        error.toString());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("failed", completed.at("/params/turn/status").asText(), completed.toString());
                assertEquals(error.at("/params/error/message"), completed.at("/params/turn/error/message"));
            }
            assertEquals(1, standIn.modelRequests().size());
            assertTrue(standIn.refusedUpgrades().isEmpty(), "a provider of its own makes no WebSocket attempt");
        }
    }

    @Test
    void cutStreamFailsTheTurn() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.cut("partial "));
            try (JsonLinesProcess codex = start(CodexCli.standInProvider(standIn, 0, 0), "")) {
                initialize(codex);
                String threadId = startThread(codex, JSON.createObjectNode());
                startTurn(codex, threadId, "answer");
                JsonNode delta = codex.await("agent message delta", DEADLINE, notification("item/agentMessage/delta"));
                assertEquals("partial ", delta.at("/params/delta").asText());
                JsonNode error = codex.await("error notification", DEADLINE, notification("error"));
                assertFalse(error.at("/params/willRetry").asBoolean(), error.toString());
                assertTrue(
                        error.at("/params/error/message").asText().startsWith("stream disconnected before completion"),
                        error.toString());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("failed", completed.at("/params/turn/status").asText(), completed.toString());
            }
        }
    }

    @Test
    void cutStreamRetriedWhenTheProviderAllows() {
        try (OpenAiStandIn standIn = OpenAiStandIn.start()) {
            standIn.reply(OpenAiStandIn.cut("partial "));
            standIn.reply(OpenAiStandIn.text("recovered"));
            try (JsonLinesProcess codex = start(CodexCli.standInProvider(standIn, 0, 1), "")) {
                initialize(codex);
                String threadId = startThread(codex, JSON.createObjectNode());
                startTurn(codex, threadId, "answer");
                JsonNode error = codex.await("error notification", DEADLINE, notification("error"));
                assertTrue(error.at("/params/willRetry").asBoolean(), error.toString());
                JsonNode completed = codex.await("turn/completed", DEADLINE, notification("turn/completed"));
                assertEquals("completed", completed.at("/params/turn/status").asText(), completed.toString());
                JsonNode message = codex.lines().stream()
                        .filter(itemCompleted("agentMessage"))
                        .reduce((a, b) -> b)
                        .orElseThrow(() -> new AssertionError("no agent message"));
                assertEquals("recovered", message.at("/params/item/text").asText(), message.toString());
            }
            assertEquals(2, standIn.modelRequests().size());
        }
    }

    /** {@code initialize}, then the {@code initialized} notification; the initialize result. */
    private JsonNode initialize(JsonLinesProcess codex) {
        ObjectNode params = JSON.createObjectNode();
        params.putObject("clientInfo").put("name", "tether-test").put("version", "0");
        JsonNode result = call(codex, "initialize", params);
        codex.send(CodexCli.notification("initialized"));
        return result;
    }

    /** {@code thread/start} in the work directory with {@code params}; the thread id. */
    private String startThread(JsonLinesProcess codex, ObjectNode params) {
        params.put("cwd", dirs.work().toString());
        return call(codex, "thread/start", params).at("/thread/id").asText();
    }

    /** {@code thread/start} settings under which a command that writes a file asks for approval. */
    private static ObjectNode askingForApproval() {
        return JSON.createObjectNode().put("approvalPolicy", "untrusted").put("sandbox", "workspace-write");
    }

    /** {@code turn/start} with one text input; the turn id. */
    /** Starts a thread whose commands need approval, and a turn that runs one; returns the thread id. */
    private String startTurnNeedingApproval(JsonLinesProcess codex) {
        initialize(codex);
        String threadId = startThread(codex, askingForApproval());
        startTurn(codex, threadId, "write the file");
        return threadId;
    }

    private static JsonNode awaitApprovalRequest(JsonLinesProcess codex) {
        return codex.await("approval request", DEADLINE, serverRequest("item/commandExecution/requestApproval"));
    }

    private String startTurn(JsonLinesProcess codex, String threadId, String text) {
        ObjectNode params = JSON.createObjectNode().put("threadId", threadId);
        params.putArray("input").addObject().put("type", "text").put("text", text);
        return call(codex, "turn/start", params).at("/turn/id").asText();
    }

    /** Sends a request and waits for its response; its result (an error response fails the test). */
    private JsonNode call(JsonLinesProcess codex, String method, JsonNode params) {
        long id = nextId++;
        codex.send(CodexCli.request(id, method, params));
        JsonNode response = codex.await(
                "response to " + method,
                DEADLINE,
                line -> !line.has("method") && line.path("id").asLong(-1) == id);
        if (response.has("error")) {
            throw new AssertionError(method + " failed: " + response);
        }
        return response.get("result");
    }

    private JsonLinesProcess start(List<String> provider, String suffix) {
        return JsonLinesProcess.start(
                CodexCli.appServer(provider), CodexCli.environment(dirs.home()), dirs.work(), dirs.transcript(suffix));
    }

    private static Predicate<JsonNode> notification(String method) {
        return line -> !line.has("id") && line.path("method").asText().equals(method);
    }

    private static Predicate<JsonNode> serverRequest(String method) {
        return line -> line.has("id") && line.path("method").asText().equals(method);
    }

    private static Predicate<JsonNode> itemCompleted(String itemType) {
        return line -> line.path("method").asText().equals("item/completed")
                && line.at("/params/item/type").asText().equals(itemType);
    }
}
