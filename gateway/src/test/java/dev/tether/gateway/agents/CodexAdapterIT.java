package dev.tether.gateway.agents;

import static dev.tether.gateway.agents.AgentSessions.answer;
import static dev.tether.gateway.agents.AgentSessions.assertAlreadyResolved;
import static dev.tether.gateway.agents.AgentSessions.assertOnlyPending;
import static dev.tether.gateway.agents.AgentSessions.killWorker;
import static dev.tether.gateway.agents.CodexFrames.item;
import static dev.tether.gateway.agents.CodexFrames.lastItemText;
import static dev.tether.gateway.agents.CodexFrames.methods;
import static dev.tether.gateway.agents.CodexFrames.notification;
import static dev.tether.gateway.agents.CodexFrames.turn;
import static dev.tether.gateway.agents.CodexFrames.turnStatus;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import java.nio.file.Files;
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

    private static final FakeCliGateways FAKE =
            new FakeCliGateways("codex", "codex-app-server", FakeCodexAppServer.class, "FAKE_CODEX_HOME");

    @RegisterExtension
    static final GatewayExtension gateway = FAKE.gateway("codex", "10m");

    /** Approvals time out after 300 ms. */
    @RegisterExtension
    static final GatewayExtension impatient = FAKE.gateway("codex-timeout", "300ms");

    @Test
    void aTurnIsStreamedAndTurnCompletedEndsIt() {
        try (SessionClient c = SessionClient.openIdle(gateway, "nora")) {
            List<ServerMessage> turn = turn(c, "m1", "hello");
            assertEquals(List.of("turn/started", "item/completed", "turn/completed"), methods(turn));
            assertEquals("turn 1: hello", lastItemText(turn));
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
            assertOnlyPending(c, request);
            List<ServerMessage> rest = answer(c, request, "allow");
            assertEquals(
                    "completed", item(rest, "commandExecution").path("status").asText(), rest.toString());
            assertTrue(workDirHas(gateway.server().registry().get(id).orElseThrow(), "accepted.txt"));
            assertAlreadyResolved(c, request, "deny");
        }
    }

    @Test
    void aDenyDeclinesTheCommand() {
        try (SessionClient c = SessionClient.openIdle(gateway, "dora")) {
            c.send("m1", "\"cmd:touch declined.txt\"");
            ServerMessage.Request request = c.awaitRequest();
            List<ServerMessage> rest = answer(c, request, "deny");
            assertEquals(
                    "declined", item(rest, "commandExecution").path("status").asText(), rest.toString());
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
            assertEquals("not allowed to run touch late.txt", lastItemText(rest));
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
            assertEquals("interrupted", turnStatus(rest));
            assertEquals("turn 2: after", lastItemText(turn(c, "m2", "after")));
        }
    }

    @Test
    void afterACrashTheThreadIsResumed() {
        try (SessionClient c = SessionClient.openIdle(gateway, "rosa")) {
            List<ServerMessage> first = turn(c, "m1", "one");
            assertEquals("turn 1: one", lastItemText(first));
            killWorker(c, gateway.server().registry().get(c.sessionId()).orElseThrow());

            List<ServerMessage> second = turn(c, "m2", "two");
            assertEquals("turn 2: two", lastItemText(second), "thread/resume continued the thread");
        }
    }

    @Test
    void aRestartedServerNumbersItsRequestsAgainAndTheyAreStillAsked() {
        try (SessionClient c = SessionClient.openIdle(gateway, "reba")) {
            for (int round = 1; round <= 2; round++) {
                c.send("m" + round, "\"cmd:touch round" + round + ".txt\"");
                answer(c, c.awaitRequest(), "allow");
                Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
                assertTrue(workDirHas(session, "round" + round + ".txt"));
                if (round == 1) {
                    // The fake numbers its requests from the same number in every process, as Codex does.
                    killWorker(c, session);
                }
            }
        }
    }

    @Test
    void aFailedTurnReachesTheClientAndTheSessionGoesOn() {
        try (SessionClient c = SessionClient.openIdle(gateway, "fay")) {
            List<ServerMessage> failed = turn(c, "m1", "fail");
            assertEquals(List.of("turn/started", "error", "turn/completed"), methods(failed));
            assertEquals("failed", turnStatus(failed));
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
            assertEquals("the client said: error -32601", lastItemText(turn));
        }
    }

    @Test
    void garbageAndAnExitInTheMiddleOfALineLeaveTheSessionUsable() {
        try (SessionClient c = SessionClient.openIdle(gateway, "gil")) {
            assertTrue(historyTags(turn(c, "m1", "garbage")).contains("notice:worker_protocol_error"));
            c.send("m2", "\"exit-mid-line\"");
            List<String> crashed = historyTags(c.untilTag("status:idle"));
            assertTrue(crashed.contains("notice:worker_crashed"), crashed.toString());
            assertTrue(lastItemText(turn(c, "m3", "still here")).endsWith("still here"));
        }
    }

    private static boolean workDirHas(Session session, String name) {
        return Files.exists(RealCliGateways.workDir(session).resolve(name));
    }
}
