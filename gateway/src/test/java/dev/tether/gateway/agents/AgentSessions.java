package dev.tether.gateway.agents;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.ManualClock;
import dev.tether.testkit.Poll;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Steps on a gateway session whose worker is an agent CLI, a fake one or the real one, that the
 * adapter tests of both CLIs take alike: a tool approval as a request to the user, still pending
 * after a reconnect, answered once; a worker killed and restarted. Stateless; used on the test's
 * thread.
 */
final class AgentSessions {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private AgentSessions() {}

    /** The answer {@code {"decision": decision}} (allow, deny) to a request to the user. */
    static ObjectNode decision(String decision) {
        return JSON.objectNode().put("decision", decision);
    }

    /** Checks that {@code request} is the one request still pending for the client that has just resumed. */
    static void assertOnlyPending(SessionClient c, ServerMessage.Request request) {
        assertEquals(
                List.of(request.requestId()),
                c.ready.pendingRequests().stream()
                        .map(ServerMessage.PendingRequest::requestId)
                        .toList());
    }

    /** Answers {@code request} with {@link #decision}; see {@link #answer(SessionClient, ServerMessage.Request, ObjectNode)}. */
    static List<ServerMessage> answer(SessionClient c, ServerMessage.Request request, String decision) {
        return answer(c, request, decision(decision));
    }

    /**
     * Answers {@code request} with {@code response} and returns every frame up to the idle after the
     * turn it let go on, checking that the first says the request was resolved by the answer.
     */
    static List<ServerMessage> answer(SessionClient c, ServerMessage.Request request, ObjectNode response) {
        c.send(new ClientMessage.Respond(request.requestId(), response));
        List<ServerMessage> rest = c.untilTag("status:idle");
        assertEquals(
                "request_resolved:" + request.requestId() + ":answered",
                historyTags(rest).get(0),
                () -> historyTags(rest).toString());
        return rest;
    }

    /** Checks that a further answer ({@code decision}) to the resolved {@code request} is refused. */
    static void assertAlreadyResolved(SessionClient c, ServerMessage.Request request, String decision) {
        c.send(new ClientMessage.Respond(request.requestId(), decision(decision)));
        assertEquals(
                ErrorCode.REQUEST_RESOLVED,
                c.expect(ServerMessage.ErrorFrame.class).code());
    }

    /** The longest a CLI's cold start may take here. */
    private static final Duration COLD_START = Duration.ofSeconds(60);

    /** A fork of {@code parent} by {@code subject} on {@code gateway}, idle (its worker started for it) when this returns. */
    static SessionClient fork(GatewayExtension gateway, SessionClient parent, String subject) {
        SessionClient forked =
                SessionClient.open(URI.create(gateway.uri() + "?fork=" + parent.sessionId()), gateway.token(subject));
        assertEquals(parent.sessionId(), forked.ready.forkedFrom());
        if (forked.ready.state() != SessionState.IDLE) {
            // A cold start of the CLI, with --resume: slow on a loaded machine, so not one frame's timeout.
            Session session =
                    gateway.server().registry().get(forked.sessionId()).orElseThrow();
            Poll.until("the fork's worker started", COLD_START, () -> session.state() == SessionState.IDLE);
            forked.untilTag("status:idle");
        }
        return forked;
    }

    /**
     * Kills {@code session}'s worker and waits for the session to be idle again, checking that the
     * client was told of the crash and of the restart.
     */
    static void killWorker(SessionClient c, Session session) {
        ProcessHandle.of(RealCliGateways.pid(session)).orElseThrow().destroyForcibly();
        List<String> restarted = historyTags(c.untilTag("status:idle"));
        assertTrue(
                restarted.contains("notice:worker_crashed") && restarted.contains("notice:worker_restarted"),
                restarted.toString());
    }

    /**
     * Moves {@code clock} past {@code limits.hibernate_after} ({@code after}) with {@code c}'s
     * session idle, and waits until the client is told it sleeps and its CLI process is gone
     * (contract 8.9: only a session whose worker checkpointed since its last turn began may sleep).
     */
    static void sleep(SessionClient c, Session session, ManualClock clock, Duration after) {
        long pid = RealCliGateways.pid(session);
        clock.advance(after);
        c.until(m -> SessionClient.isStatus(m, SessionState.HIBERNATED));
        Poll.until("the sleeping session's CLI process gone", () -> !DemoWorkers.alive(pid));
        assertEquals(null, session.currentWorker(), "no worker while asleep");
    }

    /**
     * Sends {@code text} as message {@code id} to {@code c}'s sleeping session and returns what came
     * up to the idle after its turn: the wake's {@code preparing} first, then a turn on a new
     * worker given the checkpoint (a CLI's cold start, so waited for as one).
     */
    static List<ServerMessage> wake(SessionClient c, Session session, String id, String text) {
        assertEquals(SessionState.HIBERNATED, session.state());
        c.send(id, JSON.textNode(text).toString());
        Poll.until(
                "woken, and the turn over",
                COLD_START,
                () -> session.state() == SessionState.IDLE && session.currentWorker() != null);
        List<ServerMessage> woke = c.untilTag("status:idle");
        List<String> tags = historyTags(woke);
        assertEquals("status:preparing:wake", tags.get(0), tags::toString);
        return woke;
    }
}
