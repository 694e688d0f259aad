package dev.tether.gateway.agents;

import static dev.tether.gateway.agents.CodexFrames.methods;
import static dev.tether.gateway.agents.CodexFrames.notification;
import static dev.tether.gateway.agents.CodexFrames.turn;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code codex-app-server} adapter end to end, through a real gateway and real sockets, with
 * {@link FakeCodexAppServer} as the worker process: threads and turns, command approvals as
 * requests to the user, interrupts, the thread id as the checkpoint and {@code thread/resume} after a
 * crash, a failed turn, a server request the adapter does not support, and a server that prints
 * garbage or dies mid-line.
 */
class CodexAdapterIT {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Path HOME = tempDir();

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("codex", config("10m"));

    @RegisterExtension
    static final GatewayExtension impatient = DemoWorkers.gateway("codex-timeout", config("300ms"));

    private static String config(String requestTimeout) {
        return """
                worker:
                  process:
                    protocol: codex-app-server
                    command: %s
                    env:
                      FAKE_CODEX_HOME: %s
                limits:
                  request_timeout: %s
                """.formatted(
                        DemoWorkers.javaCommand("codex", FakeCodexAppServer.class.getName()), HOME, requestTimeout);
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("fake-codex-home");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aTurnIsStreamedAndTurnCompletedEndsIt() {
        try (SessionClient c = SessionClient.openIdle(gateway, "nora")) {
            List<ServerMessage> turn = turn(c, "m1", "hello");
            assertEquals(List.of("turn/started", "item/completed", "turn/completed"), methods(turn));
            assertEquals(
                    "turn 1: hello",
                    notification(turn, "item/completed")
                            .path("params")
                            .path("item")
                            .path("text")
                            .asText());
            assertEquals("status:processing", historyTags(turn).get(0));
        }
    }

    @Test
    void aCommandApprovalSurvivesAReconnectAndAcceptRunsIt() {
        String id;
        ServerMessage.Request request;
        try (SessionClient c = SessionClient.openIdle(gateway, "otto")) {
            id = c.sessionId();
            c.send("m1", "\"cmd:touch accepted.txt\"");
            request = c.awaitRequest();
            assertEquals("approval", request.request().path("kind").asText());
            assertEquals("commandExecution", request.request().path("tool").asText());
            assertEquals("touch accepted.txt", request.request().path("input").asText());
            assertEquals(
                    "item/commandExecution/requestApproval",
                    request.request().path("detail").path("method").asText());
        }
        try (SessionClient c = SessionClient.resume(gateway, "otto", id, request.seq())) {
            assertEquals(request.requestId(), c.ready.pendingRequests().get(0).requestId());
            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "allow")));
            List<ServerMessage> rest = c.untilTag("status:idle");
            assertEquals(
                    "request_resolved:" + request.requestId() + ":answered",
                    historyTags(rest).get(0));
            assertTrue(
                    rest.stream()
                            .anyMatch(m -> m instanceof ServerMessage.Event e
                                    && "commandExecution"
                                            .equals(e.event()
                                                    .path("params")
                                                    .path("item")
                                                    .path("type")
                                                    .asText())
                                    && "completed"
                                            .equals(e.event()
                                                    .path("params")
                                                    .path("item")
                                                    .path("status")
                                                    .asText())),
                    rest.toString());
            assertTrue(workDirHas(gateway.server().registry().get(id).orElseThrow(), "accepted.txt"));
            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "deny")));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    c.expect(ServerMessage.Error.class).code());
        }
    }

    @Test
    void aDenyDeclinesTheCommand() {
        try (SessionClient c = SessionClient.openIdle(gateway, "dora")) {
            c.send("m1", "\"cmd:touch declined.txt\"");
            ServerMessage.Request request = c.awaitRequest();
            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "deny")));
            List<ServerMessage> rest = c.untilTag("status:idle");
            assertTrue(
                    rest.stream()
                            .anyMatch(m -> m instanceof ServerMessage.Event e
                                    && "declined"
                                            .equals(e.event()
                                                    .path("params")
                                                    .path("item")
                                                    .path("status")
                                                    .asText())),
                    rest.toString());
            assertFalse(
                    workDirHas(gateway.server().registry().get(c.sessionId()).orElseThrow(), "declined.txt"));
        }
    }

    @Test
    void anUnansweredApprovalTimesOutAsADecline() {
        try (SessionClient c = SessionClient.openIdle(impatient, "tara")) {
            List<ServerMessage> rest = turn(c, "m1", "cmd:touch late.txt");
            assertTrue(
                    historyTags(rest).stream().anyMatch(t -> t.endsWith(":timeout")),
                    historyTags(rest).toString());
            assertEquals(
                    "not allowed to run touch late.txt",
                    notification(rest, "item/completed")
                            .path("params")
                            .path("item")
                            .path("text")
                            .asText());
        }
    }

    @Test
    void anInterruptIsTurnInterruptForTheRunningTurn() {
        try (SessionClient c = SessionClient.openIdle(gateway, "iris")) {
            c.send("m1", "\"slow\"");
            c.until(m -> m instanceof ServerMessage.Event e
                    && "item/agentMessage/delta".equals(e.event().path("method").asText()));
            c.send(new ClientMessage.Interrupt());
            List<ServerMessage> rest = c.untilTag("status:idle");
            assertEquals(
                    "interrupted",
                    notification(rest, "turn/completed")
                            .path("params")
                            .path("turn")
                            .path("status")
                            .asText());
            assertEquals(
                    "turn 2: after",
                    notification(turn(c, "m2", "after"), "item/completed")
                            .path("params")
                            .path("item")
                            .path("text")
                            .asText());
        }
    }

    @Test
    void afterACrashTheThreadIsResumed() {
        try (SessionClient c = SessionClient.openIdle(gateway, "rosa")) {
            List<ServerMessage> first = turn(c, "m1", "one");
            assertEquals(
                    "turn 1: one",
                    notification(first, "item/completed")
                            .path("params")
                            .path("item")
                            .path("text")
                            .asText());
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            ProcessHandle.of(session.currentWorker().pid().orElseThrow())
                    .orElseThrow()
                    .destroyForcibly();
            List<String> restarted = historyTags(c.untilTag("status:idle"));
            assertTrue(restarted.contains("notice:worker_restarted"), restarted.toString());

            List<ServerMessage> second = turn(c, "m2", "two");
            assertEquals(
                    "turn 2: two",
                    notification(second, "item/completed")
                            .path("params")
                            .path("item")
                            .path("text")
                            .asText(),
                    "thread/resume continued the thread");
        }
    }

    @Test
    void aRestartedServerNumbersItsRequestsAgainAndTheyAreStillAsked() {
        try (SessionClient c = SessionClient.openIdle(gateway, "reba")) {
            for (int round = 1; round <= 2; round++) {
                c.send("m" + round, "\"cmd:touch round" + round + ".txt\"");
                ServerMessage.Request request = c.awaitRequest();
                c.send(new ClientMessage.Respond(
                        request.requestId(), JSON.objectNode().put("decision", "allow")));
                List<ServerMessage> rest = c.untilTag("status:idle");
                assertTrue(
                        historyTags(rest).contains("request_resolved:" + request.requestId() + ":answered"),
                        rest.toString());
                Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
                assertTrue(workDirHas(session, "round" + round + ".txt"));
                if (round == 1) {
                    // The fake numbers its requests from the same number in every process, as Codex does.
                    ProcessHandle.of(session.currentWorker().pid().orElseThrow())
                            .orElseThrow()
                            .destroyForcibly();
                    List<String> restarted = historyTags(c.untilTag("status:idle"));
                    assertTrue(restarted.contains("notice:worker_restarted"), restarted.toString());
                }
            }
        }
    }

    @Test
    void aFailedTurnReachesTheClientAndTheSessionGoesOn() {
        try (SessionClient c = SessionClient.openIdle(gateway, "fay")) {
            List<ServerMessage> failed = turn(c, "m1", "fail");
            assertEquals(List.of("turn/started", "error", "turn/completed"), methods(failed));
            assertEquals(
                    "failed",
                    notification(failed, "turn/completed")
                            .path("params")
                            .path("turn")
                            .path("status")
                            .asText());
            assertEquals(
                    500,
                    notification(failed, "error")
                            .path("params")
                            .path("error")
                            .path("codexErrorInfo")
                            .path("httpConnectionFailed")
                            .path("httpStatusCode")
                            .asInt());
            turn(c, "m2", "again");
        }
    }

    @Test
    void aServerRequestTheAdapterDoesNotKnowIsRefusedSoTheServerNeverWaits() {
        try (SessionClient c = SessionClient.openIdle(gateway, "una")) {
            List<ServerMessage> turn = turn(c, "m1", "ask-user");
            assertEquals(
                    "the client said: error -32601",
                    notification(turn, "item/completed")
                            .path("params")
                            .path("item")
                            .path("text")
                            .asText());
        }
    }

    @Test
    void garbageAndAnExitInTheMiddleOfALineLeaveTheSessionUsable() {
        try (SessionClient c = SessionClient.openIdle(gateway, "gil")) {
            assertTrue(historyTags(turn(c, "m1", "garbage")).contains("notice:worker_protocol_error"));
            c.send("m2", "\"exit-mid-line\"");
            List<String> crashed = historyTags(c.untilTag("status:idle"));
            assertTrue(crashed.contains("notice:worker_crashed"), crashed.toString());
            assertTrue(notification(turn(c, "m3", "still here"), "item/completed")
                    .path("params")
                    .path("item")
                    .path("text")
                    .asText()
                    .endsWith("still here"));
        }
    }

    private static boolean workDirHas(Session session, String name) {
        return Files.exists(((ProcessWorker) session.currentWorker()).workDir().resolve(name));
    }
}
