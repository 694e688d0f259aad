package dev.tether.gateway.agents;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.process.ProcessWorker;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code claude-stream-json} adapter end to end, through a real gateway and real sockets, with
 * {@link FakeClaudeCli} as the worker process: turns, tool approvals as requests to the user (that
 * survive a reconnect, resolve once, and time out as a deny), interrupts, the CLI's session id as the
 * checkpoint and {@code --resume} after a crash, and a CLI that prints garbage or dies mid-line.
 */
class ClaudeAdapterIT {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Path HOME = tempDir();

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("claude", config("10m"));

    /** Approvals time out after 300 ms. */
    @RegisterExtension
    static final GatewayExtension impatient = DemoWorkers.gateway("claude-timeout", config("300ms"));

    private static String config(String requestTimeout) {
        return """
                worker:
                  process:
                    protocol: claude-stream-json
                    command: %s
                    env:
                      FAKE_CLAUDE_HOME: %s
                limits:
                  request_timeout: %s
                """.formatted(DemoWorkers.javaCommand("claude", FakeClaudeCli.class.getName()), HOME, requestTimeout);
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("fake-claude-home");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aTurnIsStreamedVerbatimAndEndsWithTheResult() {
        try (SessionClient c = SessionClient.openIdle(gateway, "cleo")) {
            List<ServerMessage> turn = roundTrip(c, "m1", "\"hello\"");
            assertEquals(
                    List.of("status:processing", "event:system", "event:assistant", "event:result", "status:idle"),
                    historyTags(turn));
            JsonNode init = SessionClient.event(turn, "system");
            assertEquals("init", init.path("subtype").asText());
            assertEquals(
                    "You said: hello",
                    SessionClient.event(turn, "result").path("result").asText());
        }
    }

    @Test
    void anApprovalSurvivesAReconnectAndAnAllowRunsTheToolOnce() throws Exception {
        String id;
        ServerMessage.Request request;
        try (SessionClient c = SessionClient.openIdle(gateway, "alma")) {
            id = c.sessionId();
            c.sendAccepted("m1", "\"tool:touch approved.txt\"", 0);
            request = c.awaitRequest();
            assertEquals("approval", request.request().path("kind").asText());
            assertEquals("Bash", request.request().path("tool").asText());
            assertEquals(
                    "touch approved.txt",
                    request.request().path("input").path("command").asText());
            assertEquals(
                    "can_use_tool",
                    request.request()
                            .path("detail")
                            .path("request")
                            .path("subtype")
                            .asText());
        }
        try (SessionClient c = SessionClient.resume(gateway, "alma", id, request.seq())) {
            assertEquals(request.requestId(), c.ready.pendingRequests().get(0).requestId());
            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "maybe")));
            assertEquals(
                    ErrorCode.INVALID_FIELD, c.expect(ServerMessage.Error.class).code());

            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "allow")));
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    "request_resolved:" + request.requestId() + ":answered",
                    historyTags(turn).get(0));
            JsonNode result = SessionClient.event(turn, "result");
            assertEquals("1 of 1 allowed", result.path("result").asText());
            Session session = gateway.server().registry().get(id).orElseThrow();
            assertTrue(workDirHas(session, "approved.txt"), "the tool ran in the session's working directory");
            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "deny")));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    c.expect(ServerMessage.Error.class).code());
        }
    }

    @Test
    void aDenyReachesTheCliWithTheUsersMessage() {
        try (SessionClient c = SessionClient.openIdle(gateway, "dana")) {
            c.sendAccepted("m1", "\"tool:touch denied.txt\"", 0);
            ServerMessage.Request request = c.awaitRequest();
            c.send(new ClientMessage.Respond(
                    request.requestId(),
                    JSON.objectNode().put("decision", "deny").put("message", "not in this repo")));
            List<ServerMessage> turn = c.untilTag("status:idle");
            JsonNode toolResult = SessionClient.event(turn, "user")
                    .path("message")
                    .path("content")
                    .get(0);
            assertEquals("not in this repo", toolResult.path("content").asText());
            assertEquals(
                    1,
                    SessionClient.event(turn, "result")
                            .path("permission_denials")
                            .size());
            assertFalse(
                    workDirHas(gateway.server().registry().get(c.sessionId()).orElseThrow(), "denied.txt"));
        }
    }

    @Test
    void anUnansweredApprovalTimesOutAsADeny() {
        try (SessionClient c = SessionClient.openIdle(impatient, "tess")) {
            c.sendAccepted("m1", "\"tool:touch late.txt\"", 0);
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertTrue(
                    historyTags(turn).stream().anyMatch(t -> t.endsWith(":timeout")),
                    historyTags(turn).toString());
            assertEquals(
                    "0 of 1 allowed",
                    SessionClient.event(turn, "result").path("result").asText());
        }
    }

    @Test
    void anInterruptIsTheClisInterruptControlRequest() {
        try (SessionClient c = SessionClient.openIdle(gateway, "ines")) {
            c.sendAccepted("m1", "\"slow\"", 0);
            c.until(m -> m instanceof ServerMessage.Event e
                    && "stream_event".equals(e.event().path("type").asText()));
            c.send(new ClientMessage.Interrupt());
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    "error_during_execution",
                    SessionClient.event(turn, "result").path("subtype").asText());
            roundTrip(c, "m2", "\"after\"");
        }
    }

    @Test
    void afterACrashTheConversationGoesOnWithResume() throws Exception {
        try (SessionClient c = SessionClient.openIdle(gateway, "rory")) {
            List<ServerMessage> first = roundTrip(c, "m1", "\"one\"");
            String cliSession =
                    SessionClient.event(first, "result").path("session_id").asText();
            assertEquals(
                    1, SessionClient.event(first, "result").path("num_turns").asInt());
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            Path firstDir = ((ProcessWorker) session.currentWorker()).workDir();
            ProcessHandle.of(session.currentWorker().pid().orElseThrow())
                    .orElseThrow()
                    .destroyForcibly();
            List<String> restarted = historyTags(c.untilTag("status:idle"));
            assertTrue(restarted.contains("notice:worker_restarted"), restarted.toString());

            List<ServerMessage> second = roundTrip(c, "m2", "\"two\"");
            JsonNode result = SessionClient.event(second, "result");
            assertEquals(cliSession, result.path("session_id").asText(), "the same conversation, resumed");
            assertEquals(2, result.path("num_turns").asInt(), "the CLI saw the earlier turn");
            // /proc has the whole command line (ProcessHandle.Info cuts a long one short).
            String command = new String(
                    Files.readAllBytes(Path.of(
                            "/proc", Long.toString(session.currentWorker().pid().orElseThrow()), "cmdline")),
                    StandardCharsets.UTF_8);
            assertTrue(
                    command.endsWith("\0--resume=" + cliSession + "\0"),
                    "started with --resume: " + command.replace('\0', ' '));
            assertEquals(
                    firstDir,
                    ((ProcessWorker) session.currentWorker()).workDir(),
                    "in the directory the conversation was held in");
        }
    }

    @Test
    void garbageAndAnExitInTheMiddleOfALineLeaveTheSessionUsable() {
        try (SessionClient c = SessionClient.openIdle(gateway, "gary")) {
            List<ServerMessage> garbage = roundTrip(c, "m1", "\"garbage\"");
            assertEquals(
                    2,
                    historyTags(garbage).stream()
                            .filter(t -> t.equals("notice:worker_protocol_error"))
                            .count());

            c.sendAccepted("m2", "\"exit-mid-line\"", 0);
            List<ServerMessage> crashed = c.untilTag("status:idle");
            assertEquals(
                    3,
                    notice(crashed, "worker_crashed")
                            .details()
                            .path("exit_code")
                            .asInt());
            assertEquals(
                    "You said: still here",
                    SessionClient.event(roundTrip(c, "m3", "\"still here\""), "result")
                            .path("result")
                            .asText());
        }
    }

    @Test
    void manyApprovalsAtOnceAreBoundedByMaxPendingRequests() {
        try (SessionClient c = SessionClient.openIdle(gateway, "mona")) {
            c.sendAccepted("m1", "\"tools:20\"", 0);
            List<ServerMessage> turn = c.until(m -> SessionClient.tag(m).equals("notice:request_refused"));
            long shown = turn.stream()
                    .filter(m -> m instanceof ServerMessage.Request)
                    .count();
            assertEquals(16, shown, "limits.max_pending_requests by default");
            c.send(new ClientMessage.Interrupt());
            List<ServerMessage> rest = c.untilTag("status:idle");
            assertTrue(
                    historyTags(rest).stream()
                                    .filter(t -> t.endsWith(":cancelled"))
                                    .count()
                            >= 1,
                    historyTags(rest).toString());
        }
    }

    /** Like {@link SessionClient#roundTrip}, for a CLI whose result does not carry the message id. */
    private static List<ServerMessage> roundTrip(SessionClient c, String id, String jsonData) {
        c.sendAccepted(id, jsonData, 0);
        List<ServerMessage> turn = c.untilTag("status:idle");
        assertEquals(
                "status:processing",
                SessionClient.tag(turn.get(0)),
                () -> SessionClient.tags(turn).toString());
        assertEquals(
                "event:result",
                SessionClient.tag(turn.get(turn.size() - 2)),
                () -> SessionClient.tags(turn).toString());
        return turn;
    }

    private static boolean workDirHas(Session session, String name) {
        Path workDir = ((ProcessWorker) session.currentWorker()).workDir();
        return Files.exists(workDir.resolve(name));
    }
}
