package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.RequestOutcome;
import dev.tether.protocol.Role;
import dev.tether.protocol.ServerMessage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Requests from the worker to the user (contract 7.3) end to end: the demo worker asks (its
 * message's {@code ask}), the gateway shows the request in history and in {@code session_ready},
 * the first {@code respond} reaches the worker once (it reports every {@code response} line it
 * reads as an {@code answer} or {@code response_seen} event, so the tests count what it got), and
 * timeouts, interrupts, turn ends, crashes and floods resolve requests as the contract says.
 */
class RequestsIT {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("requests", """
            limits:
              max_pending_requests: 2
            """);

    /** Requests time out after 300 ms. */
    @RegisterExtension
    static final GatewayExtension impatient = DemoWorkers.gateway("requests-timeout", """
            limits:
              request_timeout: 300ms
            """);

    private static final String ASK =
            "{\"ask\":{\"kind\":\"question\",\"text\":\"go on?\"},\"text\":\"done\",\"deltas\":1,\"delay_ms\":0}";

    @Test
    void aRequestSurvivesAReconnectAndTheFirstAnswerReachesTheWorkerOnce() {
        String id;
        long shownAs;
        try (SessionClient c = SessionClient.openIdle(gateway, "rita")) {
            id = c.sessionId();
            c.sendAccepted("m1", ASK, 0);
            ServerMessage.Request request = c.awaitRequest();
            shownAs = request.seq();
            assertEquals("m1-ask-1", request.requestId());
            assertEquals("go on?", request.request().path("text").asText());
        }
        // The client dropped before answering: the request waits, listed in session_ready.
        try (SessionClient c = SessionClient.resume(gateway, "rita", id, shownAs)) {
            assertEquals(Role.OWNER, c.ready.role());
            assertEquals(
                    List.of(new ServerMessage.PendingRequest(
                            "m1-ask-1",
                            JSON.objectNode().put("kind", "question").put("text", "go on?"),
                            shownAs)),
                    c.ready.pendingRequests());

            c.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode().put("answer", "yes")));
            c.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode().put("answer", "again")));
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    List.of(
                            "request_resolved:m1-ask-1:answered",
                            "event:answer:m1",
                            "event:delta:m1",
                            "event:result:m1",
                            "status:idle"),
                    historyTags(turn));
            // The second answer may reach the gateway after the worker's reply to the first: its error
            // comes in the turn or after it.
            ServerMessage.ErrorFrame late = turn.stream()
                    .filter(m -> m instanceof ServerMessage.ErrorFrame)
                    .map(ServerMessage.ErrorFrame.class::cast)
                    .findFirst()
                    .orElseGet(() -> c.expect(ServerMessage.ErrorFrame.class));
            assertEquals(ErrorCode.REQUEST_RESOLVED, late.code());
            JsonNode answer = SessionClient.event(turn, "answer");
            assertEquals("yes", answer.path("data").path("answer").asText(), "the first answer, once");
            assertTrue(
                    turn.stream().noneMatch(m -> SessionClient.tag(m).startsWith("event:response_seen")),
                    "the worker got no second response: " + turn);
        }
        // Resumed again: nothing pending any more; a late answer is told it is too late.
        try (SessionClient c = SessionClient.resume(gateway, "rita", id, 0)) {
            assertEquals(List.of(), c.ready.pendingRequests());
            // The replay, up to the turn's result and the idle after it.
            c.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText()));
            c.untilTag("status:idle");
            c.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode()));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    c.expect(ServerMessage.ErrorFrame.class).code());
        }
    }

    @Test
    void anUnknownRequestOrAnotherSessionsRequestIsNotFound() {
        try (SessionClient asker = SessionClient.openIdle(gateway, "sam");
                SessionClient other = SessionClient.openIdle(gateway, "sam")) {
            asker.sendAccepted("m1", ASK, 0);
            asker.until(m -> m instanceof ServerMessage.Request);

            other.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode().put("answer", "mine?")));
            assertEquals(
                    ErrorCode.REQUEST_NOT_FOUND,
                    other.expect(ServerMessage.ErrorFrame.class).code());
            other.send(new ClientMessage.Respond("nope", JSON.objectNode()));
            ServerMessage.ErrorFrame unknown = other.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.REQUEST_NOT_FOUND, unknown.code());
            assertEquals("nope", unknown.requestId(), "the error names the request it refuses");

            // The asker's request is untouched and still answerable.
            asker.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode().put("answer", "ok")));
            assertEquals(
                    "ok",
                    SessionClient.event(asker.untilTag("status:idle"), "answer")
                            .path("data")
                            .path("answer")
                            .asText());
        }
    }

    @Test
    void anUnansweredRequestTimesOutAndTheWorkerIsToldSo() {
        try (SessionClient c = SessionClient.openIdle(impatient, "tim")) {
            c.sendAccepted("m1", ASK, 0);
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    List.of(
                            "status:processing",
                            "request:m1-ask-1",
                            "request_resolved:m1-ask-1:timeout",
                            "event:answer:m1",
                            "event:delta:m1",
                            "event:result:m1",
                            "status:idle"),
                    historyTags(turn));
            assertTrue(SessionClient.event(turn, "answer").path("timeout").asBoolean(), turn.toString());
        }
    }

    @Test
    void anInterruptCancelsTheTurnsRequest() {
        try (SessionClient c = SessionClient.openIdle(gateway, "ivy")) {
            c.sendAccepted("m1", ASK, 0);
            c.until(m -> m instanceof ServerMessage.Request);
            c.send(new ClientMessage.Interrupt());
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    "request_resolved:m1-ask-1:cancelled", historyTags(turn).get(0));
            assertTrue(
                    SessionClient.event(turn, "answer").path("cancelled").asBoolean(), "the worker was told: " + turn);
            c.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode()));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    c.expect(ServerMessage.ErrorFrame.class).code());
        }
    }

    @Test
    void aFloodOfRequestsIsBoundedAndTheTurnsEndCancelsWhatWaits() {
        try (SessionClient c = SessionClient.openIdle(gateway, "flo")) {
            c.sendAccepted("m1", "{\"request_flood\":3,\"text\":\"x\",\"deltas\":1,\"delay_ms\":0}", 0);
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    List.of(
                            "status:processing",
                            "request:m1-flood-1",
                            "request:m1-flood-2",
                            "notice:request_refused",
                            "event:delta:m1",
                            "event:result:m1",
                            "request_resolved:m1-flood-1:cancelled",
                            "request_resolved:m1-flood-2:cancelled",
                            "status:idle"),
                    historyTags(turn));
            // The worker did not wait for its answers; it reads them once idle: each request got one.
            assertEquals(List.of("m1-flood-3", "m1-flood-1", "m1-flood-2"), responsesSeen(c, 3));
            ServerMessage.Notice refused = notice(turn, "request_refused");
            assertEquals("m1-flood-3", refused.details().path("request_id").asText());
            assertEquals(2, refused.details().path("max_pending_requests").asInt());
        }
    }

    @Test
    void aDuplicateRequestIdIsAProtocolErrorAndChangesNothing() {
        try (SessionClient c = SessionClient.openIdle(gateway, "dup")) {
            c.sendAccepted("m1", "{\"duplicate_request\":true,\"text\":\"x\",\"deltas\":1,\"delay_ms\":0}", 0);
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    List.of(
                            "status:processing",
                            "request:m1-dup",
                            "notice:worker_protocol_error",
                            "event:delta:m1",
                            "event:result:m1",
                            "request_resolved:m1-dup:cancelled",
                            "status:idle"),
                    historyTags(turn));
            assertEquals(List.of("m1-dup"), responsesSeen(c, 1));
            c.roundTrip("m2", "{\"text\":\"y\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    /** The ids of the next {@code n} responses the worker reports it read, each a cancel. */
    private static List<String> responsesSeen(SessionClient c, int n) {
        List<String> ids = new ArrayList<>();
        while (ids.size() < n) {
            ServerMessage m = c.next();
            if (m instanceof ServerMessage.Event e
                    && "response_seen".equals(e.event().path("type").asText())) {
                assertTrue(e.event().path("cancelled").asBoolean(), e.toString());
                ids.add(e.event().path("request_id").asText());
            }
        }
        return ids;
    }

    @Test
    void aCrashCancelsTheRequestsOfTheWorkerThatAsked() throws Exception {
        try (SessionClient c = SessionClient.openIdle(gateway, "cal")) {
            c.sendAccepted("m1", ASK, 0);
            c.until(m -> m instanceof ServerMessage.Request);
            Session session = gateway.server().registry().get(c.sessionId()).orElseThrow();
            ProcessHandle.of(session.currentWorker().pid().orElseThrow())
                    .orElseThrow()
                    .destroyForcibly();
            List<ServerMessage> restarted = c.untilTag("status:idle");
            List<String> tags = historyTags(restarted);
            assertTrue(
                    tags.indexOf("request_resolved:m1-ask-1:cancelled") > tags.indexOf("notice:worker_crashed"),
                    tags.toString());
            c.send(new ClientMessage.Respond("m1-ask-1", JSON.objectNode()));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    c.expect(ServerMessage.ErrorFrame.class).code());
        }
    }

    @Test
    void anApprovalShapedAnswerIsPassedOnVerbatim() {
        try (SessionClient c = SessionClient.openIdle(gateway, "ann")) {
            ObjectNode data = JSON.objectNode();
            data.putObject("ask")
                    .put("kind", "approval")
                    .put("tool", "Bash")
                    .putObject("input")
                    .put("command", "ls");
            data.put("text", "x").put("deltas", 1).put("delay_ms", 0);
            c.sendAccepted("m1", data.toString(), 0);
            ServerMessage.Request request = c.awaitRequest();
            assertEquals("approval", request.request().path("kind").asText());
            c.send(new ClientMessage.Respond(
                    request.requestId(), JSON.objectNode().put("decision", "allow")));
            List<ServerMessage> turn = c.untilTag("status:idle");
            assertEquals(
                    "allow",
                    SessionClient.event(turn, "answer")
                            .path("data")
                            .path("decision")
                            .asText());
            assertEquals(RequestOutcome.ANSWERED, ((ServerMessage.RequestResolved) turn.get(0)).outcome());
        }
    }
}
