package dev.tether.gateway.agents;

import static dev.tether.gateway.agents.AgentSessions.answer;
import static dev.tether.gateway.agents.AgentSessions.assertAlreadyResolved;
import static dev.tether.gateway.agents.AgentSessions.assertOnlyPending;
import static dev.tether.gateway.agents.AgentSessions.decision;
import static dev.tether.gateway.agents.AgentSessions.killWorker;
import static dev.tether.gateway.agents.ClaudeFrames.assertPlainTurn;
import static dev.tether.gateway.agents.ClaudeFrames.assertStartedWithResume;
import static dev.tether.gateway.agents.ClaudeFrames.turn;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
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

    private static final FakeCliGateways FAKE =
            new FakeCliGateways("claude", "claude-stream-json", FakeClaudeCli.class, "FAKE_CLAUDE_HOME");

    @RegisterExtension
    static final GatewayExtension gateway = FAKE.gateway("claude", "10m");

    /** Approvals time out after 300 ms. */
    @RegisterExtension
    static final GatewayExtension impatient = FAKE.gateway("claude-timeout", "300ms");

    @Test
    void aTurnIsStreamedVerbatimAndEndsWithTheResult() {
        try (SessionClient c = SessionClient.openIdle(gateway, "cleo")) {
            List<ServerMessage> turn = turn(c, "m1", "hello");
            assertPlainTurn(turn);
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
            assertOnlyPending(c, request);
            c.send(new ClientMessage.Respond(request.requestId(), decision("maybe")));
            assertEquals(
                    ErrorCode.INVALID_FIELD,
                    c.expect(ServerMessage.ErrorFrame.class).code());

            List<ServerMessage> turn = answer(c, request, "allow");
            JsonNode result = SessionClient.event(turn, "result");
            assertEquals("1 of 1 allowed", result.path("result").asText());
            Session session = gateway.server().registry().get(id).orElseThrow();
            assertTrue(workDirHas(session, "approved.txt"), "the tool ran in the session's working directory");
            assertAlreadyResolved(c, request, "deny");
        }
    }

    @Test
    void aDenyReachesTheCliWithTheUsersMessage() {
        try (SessionClient c = SessionClient.openIdle(gateway, "dana")) {
            c.sendAccepted("m1", "\"tool:touch denied.txt\"", 0);
            ServerMessage.Request request = c.awaitRequest();
            List<ServerMessage> turn = answer(c, request, decision("deny").put("message", "not in this repo"));
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
            turn(c, "m2", "after");
        }
    }

    @Test
    void afterACrashTheConversationGoesOnWithResume() throws Exception {
        try (SessionClient c = SessionClient.openIdle(gateway, "rory")) {
            List<ServerMessage> first = turn(c, "m1", "one");
            String cliSession =
                    SessionClient.event(first, "result").path("session_id").asText();
            assertEquals(
                    1, SessionClient.event(first, "result").path("num_turns").asInt());
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            Path firstDir = RealCliGateways.workDir(session);
            killWorker(c, session);

            List<ServerMessage> second = turn(c, "m2", "two");
            JsonNode result = SessionClient.event(second, "result");
            assertEquals(cliSession, result.path("session_id").asText(), "the same conversation, resumed");
            assertEquals(2, result.path("num_turns").asInt(), "the CLI saw the earlier turn");
            assertStartedWithResume(RealCliGateways.pid(session), cliSession);
            assertEquals(firstDir, RealCliGateways.workDir(session), "in the directory the conversation was held in");
        }
    }

    @Test
    void garbageAndAnExitInTheMiddleOfALineLeaveTheSessionUsable() {
        try (SessionClient c = SessionClient.openIdle(gateway, "gary")) {
            List<ServerMessage> garbage = turn(c, "m1", "garbage");
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
                    SessionClient.event(turn(c, "m3", "still here"), "result")
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

    private static boolean workDirHas(Session session, String name) {
        return Files.exists(RealCliGateways.workDir(session).resolve(name));
    }
}
