package dev.tether.gateway.agents;

import static dev.tether.gateway.agents.AgentSessions.answer;
import static dev.tether.gateway.agents.AgentSessions.assertAlreadyResolved;
import static dev.tether.gateway.agents.AgentSessions.assertOnlyPending;
import static dev.tether.gateway.agents.AgentSessions.killWorker;
import static dev.tether.gateway.agents.CodexFrames.agentText;
import static dev.tether.gateway.agents.CodexFrames.item;
import static dev.tether.gateway.agents.CodexFrames.method;
import static dev.tether.gateway.agents.CodexFrames.methods;
import static dev.tether.gateway.agents.CodexFrames.notification;
import static dev.tether.gateway.agents.CodexFrames.turn;
import static dev.tether.gateway.agents.CodexFrames.turnStatus;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.ManualClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code codex-app-server} adapter end to end with the real, pinned Codex app server as the
 * worker ({@link AgentClis}), behind a real gateway on real sockets, its model API an
 * {@link OpenAiStandIn}: a thread and a streamed turn; a command approval as a request to the user
 * that survives a reconnect, accepted and declined; a crash followed by {@code thread/resume}, in
 * which the model sees the earlier turns and commands still ask and may write; an interrupt during a
 * slow stream; an error status and a cut stream, after which the session goes on; a fork; an idle
 * session that sleeps without its app server (contract 8.9) and wakes with {@code thread/resume}.
 * The configuration is the one docs/workers.md gives.
 */
class RealCodexIT {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Duration DEADLINE = Duration.ofSeconds(20);
    /** Every test's own requests, every scripted reply used; closed after the class. */
    @RegisterExtension
    static final SharedStandIn<OpenAiStandIn> SHARED = new SharedStandIn<>(OpenAiStandIn.start());

    private static final OpenAiStandIn STAND_IN = SHARED.standIn();
    private static final Path HOME = RealCliGateways.tempHome("real-codex-home");

    /** Runs last (registered first): after every gateway has stopped, nothing of theirs is left. */
    @RegisterExtension
    @Order(1)
    static final AfterAllCallback noneLeft = RealCliGateways.noneLeft(HOME, "real-codex", "real-codex-sleep");

    @RegisterExtension
    static final GatewayExtension gateway = RealCliGateways.gateway(
            "real-codex", "codex-app-server", RealCodexIT::command, RealCodexIT::environment, "");

    private static final Duration SLEEP_AFTER = Duration.ofMinutes(10);
    private static final ManualClock sleepyClock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    /** Idle sessions sleep after 10 minutes of a clock the test moves (contract 8.9). */
    @RegisterExtension
    static final GatewayExtension sleepy = RealCliGateways.gateway(
                    "real-codex-sleep", "codex-app-server", RealCodexIT::command, RealCodexIT::environment, """
                            limits:
                              hibernate_after: 10m
                            """)
            .withClock(sleepyClock);

    /**
     * docs/workers.md's command, at the stand-in: a provider of its own with no retries (so that
     * failures are quick), a model with the {@code exec_command} tool, and commands that ask first
     * and may write in the working directory.
     */
    private static List<String> command() {
        List<String> config = new ArrayList<>(CodexCli.standInProvider(STAND_IN, 0, 0));
        config.addAll(List.of("-c", "approval_policy=\"on-request\"", "-c", "sandbox_mode=\"workspace-write\""));
        return CodexCli.appServer(config);
    }

    private static Map<String, String> environment() {
        try {
            Files.createDirectories(HOME.resolve(".codex"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of(
                "HOME",
                HOME.toString(),
                "CODEX_HOME",
                HOME.resolve(".codex").toString(),
                "OPENAI_API_KEY",
                "sk-stand-in");
    }

    @Test
    void aThreadAndATurnAreStreamed() {
        STAND_IN.reply(OpenAiStandIn.text("Hello", " from the stand-in"));
        try (SessionClient c = SessionClient.openIdle(gateway, "nora")) {
            List<ServerMessage> turn = turn(c, "m1", "say hello");
            List<String> methods = methods(turn);
            assertEquals(
                    "turn/started",
                    methods.stream()
                            .filter(m -> m.startsWith("turn/"))
                            .findFirst()
                            .orElseThrow(),
                    methods.toString());
            assertEquals("turn/completed", methods.get(methods.size() - 1), methods.toString());
            assertEquals(
                    List.of("Hello", " from the stand-in"),
                    turn.stream()
                            .filter(m -> method(m).equals("item/agentMessage/delta"))
                            .map(m -> ((ServerMessage.Event) m)
                                    .event()
                                    .at("/params/delta")
                                    .asText())
                            .toList());
            assertEquals("Hello from the stand-in", agentText(turn));
            assertEquals("completed", turnStatus(turn));
        }
        List<RecordedRequest> requests = SHARED.newRequests();
        assertEquals(1, requests.size());
        assertEquals(CodexCli.MODEL, requests.get(0).json().path("model").asText());
        assertTrue(requests.get(0).mentions("say hello"), "the client's text reaches the model");
    }

    @Test
    void aCommandApprovalSurvivesAReconnectAndAnAllowRunsIt() {
        STAND_IN.reply(escalated("echo accepted > made-by-codex.txt"));
        STAND_IN.reply(OpenAiStandIn.text("done"));
        String id;
        ServerMessage.Request request;
        Session session;
        try (SessionClient c = SessionClient.openIdle(gateway, "otto")) {
            id = c.sessionId();
            session = gateway.server().registry().get(id).orElseThrow();
            c.send("m1", JSON.textNode("write the file").toString());
            request = c.awaitRequest();
            assertEquals("approval", request.request().path("kind").asText(), request.toString());
            assertEquals("commandExecution", request.request().path("tool").asText(), request.toString());
            assertEquals(
                    "/bin/bash -lc 'echo accepted > made-by-codex.txt'",
                    request.request().path("input").asText(),
                    request.toString());
            assertEquals(
                    "item/commandExecution/requestApproval",
                    request.request().at("/detail/method").asText());
            assertFalse(Files.exists(workDir(session).resolve("made-by-codex.txt")), "nothing runs before the answer");
        }
        try (SessionClient c = SessionClient.resume(gateway, "otto", id, request.seq())) {
            assertOnlyPending(c, request);
            List<ServerMessage> rest = answer(c, request, "allow");
            JsonNode command = item(rest, "commandExecution");
            assertEquals("completed", command.path("status").asText(), command.toString());
            assertEquals(0, command.path("exitCode").asInt(-1), command.toString());
            assertEquals("completed", turnStatus(rest));
            assertEquals(
                    "accepted\n",
                    RealCliGateways.read(workDir(session).resolve("made-by-codex.txt")),
                    "the command ran in the session's directory");

            assertAlreadyResolved(c, request, "allow");
        }
        assertTrue(
                SHARED.newRequests().get(1).mentions("\"function_call_output\""),
                "the command's output goes back to the model");
    }

    @Test
    void aDenyDeclinesTheCommand() {
        STAND_IN.reply(escalated("echo declined > made-by-codex.txt"));
        STAND_IN.reply(OpenAiStandIn.text("understood"));
        try (SessionClient c = SessionClient.openIdle(gateway, "dora")) {
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            c.send("m1", JSON.textNode("write the file").toString());
            ServerMessage.Request request = c.awaitRequest();
            List<ServerMessage> rest = answer(c, request, "deny");
            assertEquals(
                    "declined", item(rest, "commandExecution").path("status").asText());
            assertEquals("understood", agentText(rest));
            assertEquals("completed", turnStatus(rest));
            assertFalse(Files.exists(workDir(session).resolve("made-by-codex.txt")));
        }
        assertTrue(SHARED.newRequests().get(1).mentions("rejected by user"), "the model is told");
    }

    @Test
    void afterACrashTheThreadIsResumedWithItsSettings() {
        STAND_IN.reply(OpenAiStandIn.text("noted: tangerine"));
        STAND_IN.reply(OpenAiStandIn.text("it was tangerine"));
        STAND_IN.reply(OpenAiStandIn.execCommand("echo sandboxed > in-the-sandbox.txt"));
        STAND_IN.reply(OpenAiStandIn.text("written in the sandbox"));
        STAND_IN.reply(escalated("echo resumed > made-by-codex.txt"));
        STAND_IN.reply(OpenAiStandIn.text("written"));
        try (SessionClient c = SessionClient.openIdle(gateway, "rosa")) {
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            List<ServerMessage> first = turn(c, "m1", "remember the word tangerine");
            String threadId =
                    notification(first, "turn/completed").at("/params/threadId").asText();
            killWorker(c, session);

            List<ServerMessage> second = turn(c, "m2", "which word?");
            assertFalse(
                    historyTags(second).contains("notice:worker_protocol_error"),
                    "resumed, not a new thread: " + second);
            assertEquals(
                    threadId,
                    notification(second, "turn/completed")
                            .at("/params/threadId")
                            .asText(),
                    "the same thread");
            assertEquals("it was tangerine", agentText(second));

            // The resumed thread still may write in its directory without asking (sandbox_mode), and
            // still asks before a command that wants more (approval_policy).
            List<ServerMessage> sandboxed = turn(c, "m3", "write in the sandbox");
            assertFalse(
                    sandboxed.stream().anyMatch(m -> m instanceof ServerMessage.Request),
                    "nothing to ask: " + sandboxed);
            JsonNode written = item(sandboxed, "commandExecution");
            assertEquals("completed", written.path("status").asText(), written.toString());
            assertEquals("sandboxed\n", RealCliGateways.read(workDir(session).resolve("in-the-sandbox.txt")));
            c.send("m4", JSON.textNode("write the file").toString());
            List<ServerMessage> rest = answer(c, c.awaitRequest(), "allow");
            assertEquals(
                    "completed", item(rest, "commandExecution").path("status").asText(), rest.toString());
            assertEquals("resumed\n", RealCliGateways.read(workDir(session).resolve("made-by-codex.txt")));
        }
        SHARED.newRequests().get(1).assertResends("remember the word tangerine", "noted: tangerine", "which word?");
    }

    @Test
    void anInterruptDuringASlowStreamEndsTheTurn() throws Exception {
        ServedReply slow = STAND_IN.reply(OpenAiStandIn.slowCount());
        STAND_IN.reply(OpenAiStandIn.text("after the interrupt"));
        try (SessionClient c = SessionClient.openIdle(gateway, "iris")) {
            c.send("m1", JSON.textNode("count slowly").toString());
            c.until(m -> method(m).equals("item/agentMessage/delta"));
            c.send(new ClientMessage.Interrupt());
            List<ServerMessage> rest = c.untilTag("status:idle");
            assertEquals("interrupted", turnStatus(rest));
            assertEquals(
                    ServedReply.Outcome.CLOSED_BY_CLIENT,
                    slow.finished().get(DEADLINE.toSeconds(), TimeUnit.SECONDS),
                    "Codex dropped the stream");
            assertEquals("after the interrupt", agentText(turn(c, "m2", "go on")));
        }
    }

    @Test
    void anErrorStatusFailsTheTurnAndTheSessionGoesOn() {
        STAND_IN.reply(OpenAiStandIn.error(500, "server_error", "stand-in failure"));
        STAND_IN.reply(OpenAiStandIn.text("back again"));
        try (SessionClient c = SessionClient.openIdle(gateway, "fay")) {
            List<ServerMessage> failed = turn(c, "m1", "fail please");
            JsonNode error = notification(failed, "error");
            assertFalse(error.at("/params/willRetry").asBoolean(), error.toString());
            assertEquals(
                    "internalServerError",
                    error.at("/params/error/codexErrorInfo").asText(),
                    error.toString());
            assertEquals("failed", turnStatus(failed));
            assertEquals("back again", agentText(turn(c, "m2", "again")));
        }
        assertEquals(2, SHARED.newRequests().size(), "no retry");
    }

    @Test
    void aCutStreamFailsTheTurnAndTheSessionGoesOn() {
        STAND_IN.reply(OpenAiStandIn.cut("partial "));
        STAND_IN.reply(OpenAiStandIn.text("back again"));
        try (SessionClient c = SessionClient.openIdle(gateway, "cass")) {
            List<ServerMessage> failed = turn(c, "m1", "answer");
            JsonNode error = notification(failed, "error");
            assertTrue(
                    error.at("/params/error/message").asText().startsWith("stream disconnected before completion"),
                    error.toString());
            assertEquals("failed", turnStatus(failed));
            assertEquals("back again", agentText(turn(c, "m2", "again")));
        }
        assertEquals(2, SHARED.newRequests().size(), "no retry");
    }

    /**
     * Codex's {@code exec_command} running {@code cmd} outside the sandbox, as a model asks for it
     * ({@code sandbox_permissions: require_escalated}): with {@code approval_policy = "on-request"}
     * the app server asks the client first.
     */
    private static ModelApiStandIn.Reply escalated(String cmd) {
        return OpenAiStandIn.toolCall(
                "exec_command",
                Map.of(
                        "cmd",
                        cmd,
                        "yield_time_ms",
                        2000,
                        "sandbox_permissions",
                        "require_escalated",
                        "justification",
                        "the test asks for it"));
    }

    private static Path workDir(Session session) {
        return RealCliGateways.workDir(session);
    }

    @Test
    void aForkContinuesTheThreadAsANewThreadAndTheParentGoesOnInItsOwn() {
        STAND_IN.reply(OpenAiStandIn.text("noted: kumquat"));
        STAND_IN.reply(OpenAiStandIn.text("the fork remembers kumquat"));
        STAND_IN.reply(OpenAiStandIn.text("the parent goes on"));
        try (SessionClient parent = SessionClient.openIdle(gateway, "faye")) {
            String parentThread = notification(turn(parent, "m1", "remember the word kumquat"), "turn/completed")
                    .at("/params/threadId")
                    .asText();
            try (SessionClient forked = AgentSessions.fork(gateway, parent, "faye")) {
                List<ServerMessage> second = turn(forked, "f1", "which word?");
                assertFalse(
                        historyTags(second).contains("notice:worker_protocol_error"),
                        "forked, not a new thread: " + second);
                assertNotEquals(
                        parentThread,
                        notification(second, "turn/completed")
                                .at("/params/threadId")
                                .asText(),
                        "a thread of its own");
                assertEquals("the fork remembers kumquat", agentText(second));
            }
            List<ServerMessage> third = turn(parent, "m2", "go on");
            assertEquals(
                    parentThread,
                    notification(third, "turn/completed").at("/params/threadId").asText(),
                    "the parent's own thread");
        }
        List<RecordedRequest> requests = SHARED.newRequests();
        requests.get(1).assertResends("remember the word kumquat", "noted: kumquat", "which word?");
        requests.get(2).assertResends("remember the word kumquat", "noted: kumquat", "go on");
        assertFalse(requests.get(2).mentions("which word?"), "nothing of the fork reaches the parent's thread");
    }

    @Test
    void anIdleThreadSleepsWithoutItsAppServerAndWakesWithThreadResume() {
        STAND_IN.reply(OpenAiStandIn.text("noted: quince"));
        STAND_IN.reply(OpenAiStandIn.text("it was quince"));
        try (SessionClient c = SessionClient.openIdle(sleepy, "sara")) {
            Session session = sleepy.server().registry().get(c.sessionId()).orElseThrow();
            // The thread was checkpointed when it opened, before this turn: the turn's end checkpoints it again.
            String threadId = notification(turn(c, "m1", "remember the word quince"), "turn/completed")
                    .at("/params/threadId")
                    .asText();
            AgentSessions.sleep(c, session, sleepyClock, SLEEP_AFTER);

            List<ServerMessage> woke = AgentSessions.wake(c, session, "m2", "which word?");
            assertFalse(
                    historyTags(woke).contains("notice:worker_protocol_error"), "resumed, not a new thread: " + woke);
            assertEquals(
                    threadId,
                    notification(woke, "turn/completed").at("/params/threadId").asText(),
                    "the same thread");
            assertEquals("it was quince", agentText(woke));
        }
        SHARED.newRequests().get(1).assertResends("remember the word quince", "noted: quince", "which word?");
    }
}
