package dev.tether.gateway.agents;

import static dev.tether.gateway.agents.AgentSessions.answer;
import static dev.tether.gateway.agents.AgentSessions.assertAlreadyResolved;
import static dev.tether.gateway.agents.AgentSessions.assertOnlyPending;
import static dev.tether.gateway.agents.AgentSessions.decision;
import static dev.tether.gateway.agents.AgentSessions.killWorker;
import static dev.tether.gateway.agents.ClaudeFrames.assertPlainTurn;
import static dev.tether.gateway.agents.ClaudeFrames.assertStartedToFork;
import static dev.tether.gateway.agents.ClaudeFrames.assertStartedWithResume;
import static dev.tether.gateway.agents.ClaudeFrames.turn;
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
import dev.tether.gateway.testing.Yaml;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code claude-stream-json} adapter end to end with the real, pinned Claude Code as the worker
 * ({@link AgentClis}), behind a real gateway on real sockets, its model API an
 * {@link AnthropicStandIn}: a streamed turn; a Bash approval as a request to the user that survives
 * a reconnect and resolves once, allowed, denied and timed out; a crash and an RSS hard limit, each
 * followed by {@code --resume} in which the model sees the earlier turns; an interrupt during a slow
 * stream; an error status and a cut stream, after which the session goes on; a fork, started with
 * {@code --resume=<id> --fork-session}, whose model sees the parent's conversation while the parent's
 * goes on without the fork's turns; an idle session that sleeps after its second turn without its
 * CLI (contract 8.9) and wakes with {@code --resume}. The configuration is the one docs/workers.md
 * gives.
 */
class RealClaudeIT {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final Duration DEADLINE = Duration.ofSeconds(20);
    /** Every test's own requests, every scripted reply used; closed after the class. */
    @RegisterExtension
    static final SharedStandIn<AnthropicStandIn> SHARED = new SharedStandIn<>(AnthropicStandIn.start());

    private static final AnthropicStandIn STAND_IN = SHARED.standIn();
    private static final Path HOME = RealCliGateways.tempHome("real-claude-home");
    /** Comfortably above what Claude Code uses by itself (about 250 MiB), far below what the test's tool allocates. */
    private static final int RSS_LIMIT_MIB = 900;

    /** Runs last (registered first): after every gateway has stopped, nothing of theirs is left. */
    @RegisterExtension
    @Order(1)
    static final AfterAllCallback noneLeft = RealCliGateways.noneLeft(
            HOME, "real-claude", "real-claude-timeout", "real-claude-rss", "real-claude-sleep");

    @RegisterExtension
    static final GatewayExtension gateway = gateway("real-claude", "");

    /** Approvals time out after 500 ms. */
    @RegisterExtension
    static final GatewayExtension impatient = gateway("real-claude-timeout", """
            limits:
              request_timeout: 500ms
            """);

    /** Process-tree RSS sampled every 100 ms, killed above {@link #RSS_LIMIT_MIB} (polled: no control group). */
    @RegisterExtension
    static final GatewayExtension hard = gateway("real-claude-rss", Yaml.polledRssHardLimit(RSS_LIMIT_MIB));

    private static final Duration SLEEP_AFTER = Duration.ofMinutes(10);
    private static final ManualClock sleepyClock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    /** Idle sessions sleep after 10 minutes of a clock the test moves (contract 8.9). */
    @RegisterExtension
    static final GatewayExtension sleepy = gateway("real-claude-sleep", """
            limits:
              hibernate_after: 10m
            """).withClock(sleepyClock);

    private static GatewayExtension gateway(String marker, String yaml) {
        return RealCliGateways.gateway(
                marker, "claude-stream-json", ClaudeCodeCli::command, RealClaudeIT::environment, yaml);
    }

    /** docs/workers.md's environment, at the stand-in; no API retries, so that failures are quick. */
    private static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", HOME.toString());
        env.put("ANTHROPIC_BASE_URL", STAND_IN.baseUrl());
        env.put("ANTHROPIC_API_KEY", "sk-ant-stand-in");
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.put("DISABLE_AUTOUPDATER", "1");
        env.put("CLAUDE_CODE_MAX_RETRIES", "0");
        return env;
    }

    @Test
    void aTurnIsStreamedAndEndsWithTheResult() {
        STAND_IN.reply(AnthropicStandIn.text("Hello", " from the stand-in"));
        try (SessionClient c = SessionClient.openIdle(gateway, "cleo")) {
            List<ServerMessage> turn = turn(c, "m1", "say hello");
            JsonNode init = assertPlainTurn(turn);
            assertEquals(
                    AgentClis.pins().claudeCode(),
                    init.path("claude_code_version").asText());
            assertEquals(
                    "Hello from the stand-in",
                    SessionClient.event(turn, "assistant")
                            .at("/message/content/0/text")
                            .asText());
            JsonNode result = SessionClient.event(turn, "result");
            assertFalse(result.path("is_error").asBoolean(), result.toString());
            assertEquals("Hello from the stand-in", result.path("result").asText());
            assertEquals(init.path("session_id"), result.path("session_id"));
        }
        List<RecordedRequest> requests = SHARED.newRequests();
        assertEquals(1, requests.size());
        assertTrue(requests.get(0).mentions("say hello"), "the client's text reaches the model");
    }

    @Test
    void anApprovalSurvivesAReconnectAndAnAllowRunsTheToolOnce() {
        STAND_IN.reply(AnthropicStandIn.bash("echo allowed > made-by-claude.txt"));
        STAND_IN.reply(AnthropicStandIn.text("done"));
        String id;
        ServerMessage.Request request;
        Session session;
        try (SessionClient c = SessionClient.openIdle(gateway, "alma")) {
            id = c.sessionId();
            session = gateway.server().registry().get(id).orElseThrow();
            c.sendAccepted("m1", JSON.textNode("write the file").toString(), 0);
            request = c.awaitRequest();
            assertEquals("approval", request.request().path("kind").asText(), request.toString());
            assertEquals("Bash", request.request().path("tool").asText(), request.toString());
            assertEquals(
                    "echo allowed > made-by-claude.txt",
                    request.request().at("/input/command").asText(),
                    request.toString());
            assertEquals(
                    "can_use_tool",
                    request.request().at("/detail/request/subtype").asText(),
                    request.toString());
            assertFalse(Files.exists(workDir(session).resolve("made-by-claude.txt")), "nothing runs before the answer");
        }
        try (SessionClient c = SessionClient.resume(gateway, "alma", id, request.seq())) {
            assertOnlyPending(c, request);
            List<ServerMessage> rest = answer(c, request, "allow");
            JsonNode toolResult = SessionClient.event(rest, "user").at("/message/content/0");
            assertEquals("tool_result", toolResult.path("type").asText(), toolResult.toString());
            assertFalse(toolResult.path("is_error").asBoolean(), toolResult.toString());
            JsonNode result = SessionClient.event(rest, "result");
            assertEquals("done", result.path("result").asText(), result.toString());
            assertEquals(0, result.path("permission_denials").size(), result.toString());
            assertEquals(
                    "allowed\n",
                    RealCliGateways.read(workDir(session).resolve("made-by-claude.txt")),
                    "the tool ran in the session's directory");

            assertAlreadyResolved(c, request, "allow");
        }
        List<RecordedRequest> requests = SHARED.newRequests();
        assertEquals(2, requests.size());
        assertTrue(requests.get(1).mentions("\"tool_result\""), "the tool's result goes back to the model");
    }

    @Test
    void aDenyTellsTheModelAndNothingRuns() {
        STAND_IN.reply(AnthropicStandIn.bash("echo denied > made-by-claude.txt"));
        STAND_IN.reply(AnthropicStandIn.text("understood"));
        try (SessionClient c = SessionClient.openIdle(gateway, "dana")) {
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            c.sendAccepted("m1", JSON.textNode("write the file").toString(), 0);
            ServerMessage.Request request = c.awaitRequest();
            List<ServerMessage> rest = answer(c, request, decision("deny").put("message", "not in this repository"));
            JsonNode toolResult = SessionClient.event(rest, "user").at("/message/content/0");
            assertTrue(toolResult.path("is_error").asBoolean(), toolResult.toString());
            assertEquals("not in this repository", toolResult.path("content").asText(), toolResult.toString());
            JsonNode result = SessionClient.event(rest, "result");
            assertEquals("understood", result.path("result").asText(), result.toString());
            assertEquals("Bash", result.at("/permission_denials/0/tool_name").asText(), result.toString());
            assertFalse(Files.exists(workDir(session).resolve("made-by-claude.txt")));
        }
        assertTrue(SHARED.newRequests().get(1).mentions("not in this repository"), "the model is told why");
    }

    @Test
    void anUnansweredApprovalTimesOutAsADeny() {
        STAND_IN.reply(AnthropicStandIn.bash("echo late > made-by-claude.txt"));
        STAND_IN.reply(AnthropicStandIn.text("nobody answered"));
        try (SessionClient c = SessionClient.openIdle(impatient, "tess")) {
            Session session = impatient.server().registry().get(c.sessionId()).orElseThrow();
            List<ServerMessage> turn = turn(c, "m1", "write the file");
            ServerMessage.Request request = turn.stream()
                    .filter(m -> m instanceof ServerMessage.Request)
                    .map(ServerMessage.Request.class::cast)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(turn));
            assertTrue(
                    historyTags(turn).contains("request_resolved:" + request.requestId() + ":timeout"),
                    historyTags(turn).toString());
            JsonNode toolResult = SessionClient.event(turn, "user").at("/message/content/0");
            assertTrue(toolResult.path("is_error").asBoolean(), toolResult.toString());
            assertEquals(
                    "Nobody answered in time: denied.",
                    toolResult.path("content").asText(),
                    toolResult.toString());
            assertEquals(
                    "nobody answered",
                    SessionClient.event(turn, "result").path("result").asText());
            assertFalse(Files.exists(workDir(session).resolve("made-by-claude.txt")));
        }
    }

    @Test
    void afterACrashTheConversationGoesOnWithResume() {
        STAND_IN.reply(AnthropicStandIn.text("noted: tangerine"));
        STAND_IN.reply(AnthropicStandIn.text("it was tangerine"));
        try (SessionClient c = SessionClient.openIdle(gateway, "rory")) {
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            String cliSession = SessionClient.event(turn(c, "m1", "remember the word tangerine"), "result")
                    .path("session_id")
                    .asText();
            killWorker(c, session);

            assertResumed(c, session, cliSession, "m2");
        }
        RecordedRequest resumed = SHARED.newRequests().get(1);
        assertTrue(resumed.mentions("remember the word tangerine"), "the earlier prompt is sent again");
        assertTrue(resumed.mentions("noted: tangerine"), "the earlier answer is sent again");
    }

    @Test
    void overTheRssHardLimitTheWorkerIsKilledAndTheConversationGoesOn() {
        STAND_IN.reply(AnthropicStandIn.text("noted: persimmon"));
        // The tool holds about 1.2 GiB (tail keeps a line with no end in memory) until it is killed.
        STAND_IN.reply(AnthropicStandIn.bash("(head -c 1200M /dev/zero; sleep 60) | tail > hog.out"));
        STAND_IN.reply(AnthropicStandIn.text("it was persimmon"));
        try (SessionClient c = SessionClient.openIdle(hard, "hugo")) {
            Session session = hard.server().registry().get(c.sessionId()).orElseThrow();
            String cliSession = SessionClient.event(turn(c, "m1", "remember the word persimmon"), "result")
                    .path("session_id")
                    .asText();
            long baseline = ProcessTree.rssBytes(RealCliGateways.pid(session));
            assertTrue(
                    baseline < RSS_LIMIT_MIB * 1024L * 1024 / 2,
                    "Claude Code's own RSS (" + baseline / 1024 / 1024
                            + " MiB) leaves too little room below the limit");
            c.sendAccepted("m2", JSON.textNode("use a lot of memory").toString(), 0);
            ServerMessage.Request request = c.awaitRequest();
            List<ServerMessage> killed = answer(c, request, "allow");
            List<String> history = historyTags(killed);
            assertTrue(
                    history.containsAll(List.of(
                            "notice:worker_killed", "status:restarting:rss_hard_limit", "notice:worker_restarted")),
                    history.toString());
            JsonNode details = SessionClient.notice(killed, "worker_killed").details();
            assertTrue(
                    details.path("rss_bytes").asLong()
                            > details.path("limit_bytes").asLong(),
                    details.toString());

            assertResumed(c, session, cliSession, "m3");
        }
        RecordedRequest resumed = SHARED.newRequests().get(2);
        assertTrue(
                resumed.mentions("remember the word persimmon") && resumed.mentions("noted: persimmon"),
                "the earlier turn is sent again");
    }

    @Test
    void anInterruptDuringASlowStreamEndsTheTurn() throws Exception {
        ServedReply slow = STAND_IN.reply(AnthropicStandIn.slowCount());
        STAND_IN.reply(AnthropicStandIn.text("after the interrupt"));
        try (SessionClient c = SessionClient.openIdle(gateway, "ines")) {
            c.sendAccepted("m1", JSON.textNode("count slowly").toString(), 0);
            slow.started().get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            c.send(new ClientMessage.Interrupt());
            List<ServerMessage> rest = c.untilTag("status:idle");
            JsonNode result = SessionClient.event(rest, "result");
            assertEquals("error_during_execution", result.path("subtype").asText(), result.toString());
            assertEquals(
                    ServedReply.Outcome.CLOSED_BY_CLIENT,
                    slow.finished().get(DEADLINE.toSeconds(), TimeUnit.SECONDS),
                    "the CLI dropped the stream");
            assertEquals(
                    "after the interrupt",
                    SessionClient.event(turn(c, "m2", "go on"), "result")
                            .path("result")
                            .asText());
        }
    }

    @Test
    void anErrorStatusReachesTheClientAndTheSessionGoesOn() {
        STAND_IN.reply(AnthropicStandIn.overloaded());
        STAND_IN.reply(AnthropicStandIn.text("back again"));
        try (SessionClient c = SessionClient.openIdle(gateway, "erin")) {
            JsonNode result = SessionClient.event(turn(c, "m1", "fail please"), "result");
            assertTrue(result.path("is_error").asBoolean(), result.toString());
            assertEquals(529, result.path("api_error_status").asInt(), result.toString());
            assertTrue(result.path("result").asText().startsWith("API Error: 529"), result.toString());
            assertEquals(
                    "back again",
                    SessionClient.event(turn(c, "m2", "again"), "result")
                            .path("result")
                            .asText());
        }
        assertEquals(2, SHARED.newRequests().size(), "CLAUDE_CODE_MAX_RETRIES=0: no retry");
    }

    @Test
    void aCutStreamReachesTheClientAndTheSessionGoesOn() {
        // Claude Code retries a cut stream once without streaming; that one is dropped too.
        STAND_IN.reply(AnthropicStandIn.cut("partial "));
        STAND_IN.reply(AnthropicStandIn.cut());
        STAND_IN.reply(AnthropicStandIn.text("back again"));
        try (SessionClient c = SessionClient.openIdle(gateway, "cody")) {
            JsonNode result = SessionClient.event(turn(c, "m1", "answer"), "result");
            assertTrue(result.path("is_error").asBoolean(), result.toString());
            assertEquals("api_error", result.path("terminal_reason").asText(), result.toString());
            assertTrue(result.path("result").asText().startsWith("API Error"), result.toString());
            assertEquals(
                    "back again",
                    SessionClient.event(turn(c, "m2", "again"), "result")
                            .path("result")
                            .asText());
        }
        assertEquals(3, SHARED.newRequests().size());
    }

    /**
     * The next turn, {@code id}, runs in a worker started with {@code --resume=<cliSession>} in the
     * directory of the conversation, and continues it.
     */
    private static void assertResumed(SessionClient c, Session session, String cliSession, String id) {
        assertStartedWithResume(RealCliGateways.pid(session), cliSession);
        JsonNode result = SessionClient.event(turn(c, id, "which word?"), "result");
        assertFalse(result.path("is_error").asBoolean(), result.toString());
        assertEquals(cliSession, result.path("session_id").asText(), "the same conversation");
    }

    private static Path workDir(Session session) {
        return RealCliGateways.workDir(session);
    }

    @Test
    void aForkContinuesTheConversationAsANewCliSessionAndTheParentGoesOnInItsOwn() {
        STAND_IN.reply(AnthropicStandIn.text("noted: kumquat"));
        STAND_IN.reply(AnthropicStandIn.text("the fork remembers kumquat"));
        STAND_IN.reply(AnthropicStandIn.text("the parent goes on"));
        try (SessionClient parent = SessionClient.openIdle(gateway, "fern")) {
            String parentCli = SessionClient.event(turn(parent, "m1", "remember the word kumquat"), "result")
                    .path("session_id")
                    .asText();
            try (SessionClient forked = AgentSessions.fork(gateway, parent, "fern")) {
                Session session =
                        gateway.server().registry().get(forked.sessionId()).orElseThrow();
                assertStartedToFork(RealCliGateways.pid(session), parentCli);
                assertNotEquals(
                        workDir(gateway.server()
                                .registry()
                                .get(parent.sessionId())
                                .orElseThrow()),
                        workDir(session),
                        "the fork's CLI runs in a directory of its own");
                JsonNode result = SessionClient.event(turn(forked, "f1", "which word?"), "result");
                assertFalse(result.path("is_error").asBoolean(), result.toString());
                assertNotEquals(parentCli, result.path("session_id").asText(), "a new CLI session");
            }
            JsonNode again = SessionClient.event(turn(parent, "m2", "go on"), "result");
            assertEquals(parentCli, again.path("session_id").asText(), "the parent's own conversation");
        }
        List<RecordedRequest> requests = SHARED.newRequests();
        assertEquals(3, requests.size());
        RecordedRequest forkTurn = requests.get(1);
        assertTrue(
                forkTurn.mentions("remember the word kumquat") && forkTurn.mentions("noted: kumquat"),
                "the fork's model sees the parent's conversation up to the fork");
        assertTrue(forkTurn.mentions("which word?"));
        RecordedRequest parentTurn = requests.get(2);
        assertTrue(parentTurn.mentions("noted: kumquat") && parentTurn.mentions("go on"));
        assertFalse(parentTurn.mentions("which word?"), "nothing of the fork reaches the parent's conversation");
    }

    @Test
    void anIdleConversationSleepsWithoutItsCliAfterEveryTurnAndWakesWithResume() {
        STAND_IN.reply(AnthropicStandIn.text("noted: quince"));
        STAND_IN.reply(AnthropicStandIn.text("noted again"));
        STAND_IN.reply(AnthropicStandIn.text("it was quince"));
        try (SessionClient c = SessionClient.openIdle(sleepy, "saul")) {
            Session session = sleepy.server().registry().get(c.sessionId()).orElseThrow();
            String cliSession = SessionClient.event(turn(c, "m1", "remember the word quince"), "result")
                    .path("session_id")
                    .asText();
            // A second turn of the same CLI brings no new session id: its result checkpoints again.
            turn(c, "m2", "remember it well");
            AgentSessions.sleep(c, session, sleepyClock, SLEEP_AFTER);

            List<ServerMessage> woke = AgentSessions.wake(c, session, "m3", "which word?");
            assertStartedWithResume(RealCliGateways.pid(session), cliSession);
            JsonNode result = SessionClient.event(woke, "result");
            assertFalse(result.path("is_error").asBoolean(), result.toString());
            assertEquals(cliSession, result.path("session_id").asText(), "the same conversation");
            assertEquals("it was quince", result.path("result").asText());
        }
        List<RecordedRequest> requests = SHARED.newRequests();
        assertEquals(3, requests.size());
        RecordedRequest woken = requests.get(2);
        assertTrue(
                woken.mentions("remember the word quince")
                        && woken.mentions("noted again")
                        && woken.mentions("which word?"),
                "the woken CLI's model sees both earlier turns");
    }
}
