package dev.tether.gateway.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pinned Claude Code, run as a plain subprocess (not through the gateway) in stream-json mode
 * against an {@link AnthropicStandIn}: proves the stand-in is enough for a whole turn offline and
 * pins down the lines the CLI prints for text, tool approvals allowed and denied, a resumed
 * session, an interrupt mid-stream, error statuses and a cut stream (docs/agent-clis-observed.md).
 * Transcripts land in {@code gateway/target/agent-transcripts/ClaudeCodeOfflineIT/}.
 */
class ClaudeCodeOfflineIT {

    /** Bounds a failing wait; a turn against the stand-in takes well under a second. */
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path temp;

    private CliDirs dirs;

    @BeforeEach
    void dirs(TestInfo info) throws IOException {
        dirs = CliDirs.create(temp, info);
    }

    @Test
    void plainTextTurn() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.text("Hello", " from the stand-in"));
            try (JsonLinesProcess claude = start(standIn, Map.of(), "")) {
                claude.send(ClaudeCodeCli.user("say hello"));
                JsonNode init = claude.await("system init", DEADLINE, type("system", "init"));
                assertFalse(init.path("session_id").asText().isEmpty(), init.toString());
                JsonNode assistant = claude.await("assistant", DEADLINE, type("assistant"));
                assertEquals(
                        "Hello from the stand-in",
                        assistant.at("/message/content/0/text").asText());
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertEquals("success", result.path("subtype").asText(), result.toString());
                assertFalse(result.path("is_error").asBoolean(), result.toString());
                assertEquals("Hello from the stand-in", result.path("result").asText());
                assertEquals(init.path("session_id"), result.path("session_id"));
                claude.closeStdin();
                assertEquals(0, claude.awaitExit(DEADLINE));
            }
            List<RecordedRequest> requests = standIn.modelRequests();
            assertEquals(1, requests.size());
            assertEquals(standIn.requests(), requests, "no other endpoint is called");
            assertEquals("/v1/messages?beta=true", requests.get(0).uri());
            assertTrue(requests.get(0).json().path("stream").asBoolean(), "a streaming request");
            assertTrue(requests.get(0).mentions("say hello"));
            assertEquals(0, standIn.unscripted());
        }
    }

    @Test
    void bashToolAllowedRunsAfterCanUseTool() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.bash("echo allowed > made-by-claude.txt"));
            standIn.reply(AnthropicStandIn.text("done"));
            try (JsonLinesProcess claude = start(standIn, Map.of(), "")) {
                claude.send(ClaudeCodeCli.user("write the file"));
                JsonNode ask = claude.await("can_use_tool", DEADLINE, controlRequest("can_use_tool"));
                assertEquals("Bash", ask.at("/request/tool_name").asText());
                assertEquals(
                        "echo allowed > made-by-claude.txt",
                        ask.at("/request/input/command").asText());
                assertFalse(Files.exists(dirs.work().resolve("made-by-claude.txt")), "nothing runs before the answer");
                claude.send(ClaudeCodeCli.allow(ask));
                JsonNode toolResult = claude.await("tool_result", DEADLINE, type("user"));
                assertEquals(
                        "tool_result", toolResult.at("/message/content/0/type").asText());
                assertFalse(toolResult.at("/message/content/0/is_error").asBoolean(), toolResult.toString());
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertEquals("success", result.path("subtype").asText(), result.toString());
                assertEquals("done", result.path("result").asText());
                assertEquals(0, result.path("permission_denials").size());
            }
            assertEquals("allowed\n", RealCliGateways.read(dirs.work().resolve("made-by-claude.txt")));
            List<RecordedRequest> requests = standIn.modelRequests();
            assertEquals(2, requests.size());
            assertTrue(requests.get(1).mentions("\"tool_result\""), "the second request carries the tool result");
        }
    }

    @Test
    void bashToolDeniedTellsTheModel() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.bash("echo denied > made-by-claude.txt"));
            standIn.reply(AnthropicStandIn.text("understood"));
            try (JsonLinesProcess claude = start(standIn, Map.of(), "")) {
                claude.send(ClaudeCodeCli.user("write the file"));
                JsonNode ask = claude.await("can_use_tool", DEADLINE, controlRequest("can_use_tool"));
                claude.send(ClaudeCodeCli.deny(ask, "not in this test"));
                JsonNode toolResult = claude.await("tool_result", DEADLINE, type("user"));
                assertTrue(toolResult.at("/message/content/0/is_error").asBoolean(), toolResult.toString());
                assertEquals(
                        "not in this test",
                        toolResult.at("/message/content/0/content").asText());
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertEquals("success", result.path("subtype").asText(), result.toString());
                assertEquals(1, result.path("permission_denials").size(), result.toString());
                assertEquals(
                        "Bash", result.at("/permission_denials/0/tool_name").asText(), result.toString());
            }
            assertFalse(Files.exists(dirs.work().resolve("made-by-claude.txt")));
            assertTrue(standIn.modelRequests().get(1).mentions("not in this test"), "the model is told why");
        }
    }

    @Test
    void resumedSessionSendsTheEarlierTurns() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.text("noted: tangerine"));
            String sessionId;
            try (JsonLinesProcess first = start(standIn, Map.of(), "-first")) {
                first.send(ClaudeCodeCli.user("remember the word tangerine"));
                sessionId = first.await("result", DEADLINE, type("result"))
                        .path("session_id")
                        .asText();
                first.closeStdin();
                assertEquals(0, first.awaitExit(DEADLINE));
            }
            standIn.reply(AnthropicStandIn.text("it was tangerine"));
            try (JsonLinesProcess second = start(standIn, Map.of(), "-resumed", "--resume=" + sessionId)) {
                second.send(ClaudeCodeCli.user("which word?"));
                JsonNode init = second.await("system init", DEADLINE, type("system", "init"));
                assertEquals(sessionId, init.path("session_id").asText(), "a resume keeps the session id");
                JsonNode result = second.await("result", DEADLINE, type("result"));
                assertEquals("it was tangerine", result.path("result").asText(), result.toString());
            }
            standIn.modelRequests()
                    .get(1)
                    .assertResends("remember the word tangerine", "noted: tangerine", "which word?");
        }
    }

    @Test
    void interruptDuringASlowStream() throws Exception {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            ServedReply slow = standIn.reply(AnthropicStandIn.slowCount());
            standIn.reply(AnthropicStandIn.text("after the interrupt"));
            try (JsonLinesProcess claude = start(standIn, Map.of(), "")) {
                claude.send(ClaudeCodeCli.user("count slowly"));
                slow.started().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                claude.send(ClaudeCodeCli.interrupt("interrupt-1"));
                JsonNode ack = claude.await(
                        "control_response to the interrupt",
                        DEADLINE,
                        line -> line.path("type").asText().equals("control_response")
                                && line.at("/response/request_id").asText().equals("interrupt-1"));
                assertEquals("success", ack.at("/response/subtype").asText(), ack.toString());
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertEquals("error_during_execution", result.path("subtype").asText(), result.toString());
                assertTrue(result.path("is_error").asBoolean(), result.toString());
                assertEquals(
                        ServedReply.Outcome.CLOSED_BY_CLIENT,
                        slow.finished().get(DEADLINE.toSeconds(), TimeUnit.SECONDS),
                        "the CLI drops the stream");

                claude.send(ClaudeCodeCli.user("go on"));
                JsonNode next = claude.await("result of the next turn", DEADLINE, type("result"));
                assertEquals("after the interrupt", next.path("result").asText(), next.toString());
            }
        }
    }

    @Test
    void errorStatusIsRetriedThenEndsTheTurn() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.error(500, "api_error", "stand-in failure"));
            standIn.reply(AnthropicStandIn.error(500, "api_error", "stand-in failure"));
            try (JsonLinesProcess claude = start(standIn, Map.of("CLAUDE_CODE_MAX_RETRIES", "1"), "")) {
                claude.send(ClaudeCodeCli.user("fail please"));
                JsonNode retry = claude.await("api_retry", DEADLINE, type("system", "api_retry"));
                assertEquals(500, retry.path("error_status").asInt(), retry.toString());
                assertEquals(1, retry.path("attempt").asInt(), retry.toString());
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertTrue(result.path("is_error").asBoolean(), result.toString());
                assertEquals(500, result.path("api_error_status").asInt(), result.toString());
                assertEquals("api_error", result.path("terminal_reason").asText(), result.toString());
                assertTrue(result.path("result").asText().startsWith("API Error: 500"), result.toString());
                claude.closeStdin();
                assertEquals(1, claude.awaitExit(DEADLINE), "a failed last turn exits 1");
            }
            assertEquals(2, standIn.modelRequests().size());
        }
    }

    @Test
    void overloadedWithoutRetriesEndsTheTurn() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.overloaded());
            try (JsonLinesProcess claude = start(standIn, Map.of("CLAUDE_CODE_MAX_RETRIES", "0"), "")) {
                claude.send(ClaudeCodeCli.user("fail please"));
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertTrue(result.path("is_error").asBoolean(), result.toString());
                assertEquals(529, result.path("api_error_status").asInt(), result.toString());
                assertTrue(result.path("result").asText().startsWith("API Error: 529"), result.toString());
            }
            assertEquals(1, standIn.modelRequests().size());
        }
    }

    @Test
    void cutStreamFallsBackToOneRequestWithoutStreaming() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            ServedReply cut = standIn.reply(AnthropicStandIn.cut("partial "));
            standIn.reply(AnthropicStandIn.text("whole answer"));
            try (JsonLinesProcess claude = start(standIn, Map.of("CLAUDE_CODE_MAX_RETRIES", "0"), "")) {
                claude.send(ClaudeCodeCli.user("answer"));
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertFalse(result.path("is_error").asBoolean(), result.toString());
                assertEquals("whole answer", result.path("result").asText(), result.toString());
            }
            assertEquals(ServedReply.Outcome.CUT, cut.finished().join());
            List<RecordedRequest> requests = standIn.modelRequests();
            assertEquals(2, requests.size());
            assertFalse(requests.get(1).json().path("stream").asBoolean(), "the fallback asks for no stream");
        }
    }

    @Test
    void cutStreamAndFailedFallbackEndTheTurn() {
        try (AnthropicStandIn standIn = AnthropicStandIn.start()) {
            standIn.reply(AnthropicStandIn.cut("partial "));
            standIn.reply(AnthropicStandIn.cut());
            try (JsonLinesProcess claude = start(standIn, Map.of("CLAUDE_CODE_MAX_RETRIES", "0"), "")) {
                claude.send(ClaudeCodeCli.user("answer"));
                JsonNode result = claude.await("result", DEADLINE, type("result"));
                assertTrue(result.path("is_error").asBoolean(), result.toString());
                assertEquals("api_error", result.path("terminal_reason").asText(), result.toString());
                assertTrue(result.path("result").asText().startsWith("API Error"), result.toString());
            }
            assertEquals(2, standIn.modelRequests().size());
        }
    }

    private JsonLinesProcess start(
            AnthropicStandIn standIn, Map<String, String> extraEnv, String suffix, String... args) {
        Map<String, String> env = new HashMap<>(ClaudeCodeCli.environment(standIn, dirs.home()));
        env.putAll(extraEnv);
        return JsonLinesProcess.start(ClaudeCodeCli.command(args), env, dirs.work(), dirs.transcript(suffix));
    }

    private static Predicate<JsonNode> type(String type) {
        return line -> line.path("type").asText().equals(type);
    }

    private static Predicate<JsonNode> type(String type, String subtype) {
        return line -> line.path("type").asText().equals(type)
                && line.path("subtype").asText().equals(subtype);
    }

    private static Predicate<JsonNode> controlRequest(String subtype) {
        return line -> line.path("type").asText().equals("control_request")
                && line.at("/request/subtype").asText().equals(subtype);
    }
}
