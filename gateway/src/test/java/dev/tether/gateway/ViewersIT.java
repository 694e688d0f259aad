package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.Role;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Viewers (contract 7.4, docs/protocol.md "Viewers"): read-only connections to a session, by its
 * owner or by a token whose {@code view} claim lists it, against a real gateway.
 */
class ViewersIT {

    private static final WireCodec CODEC = new WireCodec();
    private static final AtomicInteger USERS = new AtomicInteger();

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            sessions:
              max_viewers_per_session: 2
            """);

    /** Demo workers, which can ask the user (contract 7.3). */
    @RegisterExtension
    static final GatewayExtension asking = DemoWorkers.gateway("viewers", "");

    /** A viewer that does not read is cut within a turn or two. */
    @RegisterExtension
    static final GatewayExtension slow = GatewayExtension.forSlowReaders();

    private static String user() {
        return "viewers-" + USERS.incrementAndGet();
    }

    private static URI viewUri(GatewayExtension target, String sessionId, long lastSeq) {
        return URI.create(target.uri() + "?session=" + sessionId + "&role=viewer&last_seq=" + lastSeq);
    }

    /** A viewer of {@code sessionId} with {@code token}, its {@code session_ready} read. */
    private static SessionClient view(String sessionId, long lastSeq, String token) {
        return SessionClient.open(viewUri(gateway, sessionId, lastSeq), token);
    }

    private static String tokenViewing(String subject, Object view) {
        return gateway.minter().mint(subject, Duration.ofHours(1), Map.of("view", view));
    }

    private static Session session(String id) {
        return gateway.server().registry().get(id).orElseThrow();
    }

    /** Sends a ping and reads up to its pong: every frame sent before it has been handled. */
    private static List<ServerMessage> sync(SessionClient client) {
        client.send(new ClientMessage.Ping());
        return client.until(m -> m instanceof ServerMessage.Pong);
    }

    @Test
    void ownerAndViewerSeeTheSameLiveOutputAndTheViewerGetsTheReplay() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            assertEquals(Role.OWNER, owner.ready.role());
            owner.roundTrip("m-1", "\"first\"");
            try (SessionClient viewer = view(owner.sessionId(), 0, gateway.token(alice))) {
                assertEquals(Role.VIEWER, viewer.ready.role());
                assertTrue(viewer.ready.resumed());
                assertEquals(owner.lastSeq(), viewer.ready.lastSeq());
                List<ServerMessage> replay =
                        viewer.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == owner.lastSeq());
                assertTrue(SessionClient.historyTags(replay).contains("event:result:m-1"), replay::toString);

                List<ServerMessage> turn = owner.roundTrip("m-2", "\"second\"");
                List<ServerMessage> seen =
                        viewer.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == owner.lastSeq());
                assertEquals(SessionClient.historyTags(turn), SessionClient.historyTags(seen));
                assertFalse(
                        seen.stream().anyMatch(m -> m instanceof ServerMessage.Accepted),
                        "accepted is the owner's, not history");
            }
        }
    }

    @Test
    void aViewerResumingAfterItsLastSeqGetsOnlyTheRestAndAnAheadLastSeqIsInvalid() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            owner.roundTrip("m-1", "1");
            long half = owner.lastSeq() - 2;
            try (TestClient viewer =
                    TestClient.connect(viewUri(gateway, owner.sessionId(), half), gateway.token(alice))) {
                assertEquals(
                        Role.VIEWER,
                        viewer.expect(ServerMessage.SessionReady.class).role());
                assertEquals(
                        List.of(half + 1, half + 2),
                        List.of(
                                viewer.expect(ServerMessage.Sequenced.class).seq(),
                                viewer.expect(ServerMessage.Sequenced.class).seq()));
            }
            try (TestClient ahead = TestClient.connect(
                    viewUri(gateway, owner.sessionId(), owner.lastSeq() + 5), gateway.token(alice))) {
                assertEquals(
                        ErrorCode.INVALID_SEQUENCE,
                        ahead.expect(ServerMessage.ErrorFrame.class).code());
                assertEquals(4009, ahead.awaitCloseCode());
            }
            owner.roundTrip("m-2", "2"); // the owner was not disturbed
        }
    }

    @Test
    void aViewersWritesAreReadOnlyAndReachNoWorker() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice);
                SessionClient viewer = view(owner.sessionId(), 0, gateway.token(alice))) {
            viewer.send("v-1", "\"from the viewer\"");
            viewer.send(new ClientMessage.Interrupt());
            viewer.send(new ClientMessage.Respond("r-1", TextNode.valueOf("yes")));
            viewer.send(new ClientMessage.End());
            List<ServerMessage> answers = sync(viewer);
            List<ServerMessage.ErrorFrame> errors = answers.stream()
                    .filter(ServerMessage.ErrorFrame.class::isInstance)
                    .map(ServerMessage.ErrorFrame.class::cast)
                    .toList();
            assertEquals(
                    List.of(ErrorCode.READ_ONLY, ErrorCode.READ_ONLY, ErrorCode.READ_ONLY, ErrorCode.READ_ONLY),
                    errors.stream().map(ServerMessage.ErrorFrame::code).toList(),
                    answers::toString);
            assertEquals("v-1", errors.get(0).id(), "the message's id is named");
            assertEquals(4, answers.size() - 1, "nothing but the errors and the pong: " + answers);

            assertEquals(SessionState.IDLE, session(owner.sessionId()).state(), "nothing started, nothing ended");
            assertEquals(List.of(), SessionClient.historyTags(sync(owner)), "the owner saw no history from it");
            List<ServerMessage> turn = owner.roundTrip("m-1", "\"from the owner\"");
            assertFalse(SessionClient.tags(turn).stream().anyMatch(t -> t.contains("v-1")), turn::toString);
        }
    }

    @Test
    void aViewerSeesTheWorkersRequestsButCannotAnswerThem() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(asking, alice)) {
            owner.sendAccepted("m-1", "{\"ask\":{\"kind\":\"question\"},\"deltas\":1,\"delay_ms\":0}", 0);
            ServerMessage.Request request = owner.awaitRequest();
            try (SessionClient viewer =
                    SessionClient.open(viewUri(asking, owner.sessionId(), 0), asking.token(alice))) {
                assertEquals(
                        List.of(request.requestId()),
                        viewer.ready.pendingRequests().stream()
                                .map(ServerMessage.PendingRequest::requestId)
                                .toList(),
                        "listed for the viewer too");
                viewer.until(m -> m instanceof ServerMessage.Request); // the replay
                viewer.send(new ClientMessage.Respond(request.requestId(), TextNode.valueOf("from the viewer")));
                assertEquals(
                        ErrorCode.READ_ONLY,
                        viewer.expect(ServerMessage.ErrorFrame.class).code());

                owner.send(new ClientMessage.Respond(request.requestId(), TextNode.valueOf("from the owner")));
                List<ServerMessage> seen = viewer.until(m -> m instanceof ServerMessage.RequestResolved);
                assertEquals(
                        request.requestId(),
                        ((ServerMessage.RequestResolved) seen.get(seen.size() - 1)).requestId(),
                        "the viewer sees it resolved");
                List<ServerMessage> turn = owner.untilTag("status:idle");
                assertEquals(
                        "from the owner",
                        SessionClient.event(turn, "answer").path("data").asText(),
                        "the worker got the owner's answer, once");
            }
        }
    }

    @Test
    void aTokenWhoseViewClaimListsTheSessionMayWatchIt() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice);
                SessionClient listed =
                        view(owner.sessionId(), 0, tokenViewing(user(), List.of("other", owner.sessionId())));
                SessionClient single = view(owner.sessionId(), 0, tokenViewing(user(), owner.sessionId()))) {
            assertEquals(Role.VIEWER, listed.ready.role());
            assertEquals(Role.VIEWER, single.ready.role(), "a single string is a list of one");
            List<ServerMessage> turn = owner.roundTrip("m-1", "1");
            assertEquals(
                    SessionClient.historyTags(turn),
                    SessionClient.historyTags(
                            listed.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == owner.lastSeq())));
        }
    }

    @Test
    void anyoneElseIsToldWhatAnUnknownSessionGets() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            ServerMessage.ErrorFrame unknown = refusedViewer("unknownSessionIdAAAAAAA", gateway.token(alice));
            ServerMessage.ErrorFrame stranger = refusedViewer(owner.sessionId(), gateway.token(user()));
            ServerMessage.ErrorFrame otherList =
                    refusedViewer(owner.sessionId(), tokenViewing(user(), List.of("another")));
            assertEquals(ErrorCode.SESSION_NOT_FOUND, unknown.code());
            assertEquals(unknown, stranger);
            assertEquals(unknown, otherList);
            owner.roundTrip("m-1", "1"); // and the owner goes on
        }
    }

    private static ServerMessage.ErrorFrame refusedViewer(String sessionId, String token) {
        try (TestClient ws = TestClient.connect(viewUri(gateway, sessionId, 0), token)) {
            ServerMessage.ErrorFrame error = ws.expect(ServerMessage.ErrorFrame.class);
            assertEquals(4004, ws.awaitCloseCode());
            return error;
        }
    }

    @Test
    void beyondMaxViewersTheUpgradeIsRefusedWith429ButOnlyForThoseWhoMaySeeTheSession() throws IOException {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            String target = gateway.config().server().path() + "?session=" + owner.sessionId() + "&role=viewer";
            try (SessionClient first = view(owner.sessionId(), 0, gateway.token(alice));
                    SessionClient second = view(owner.sessionId(), 0, gateway.token(alice))) {
                RawHttp.Response refused = RawHttp.upgrade(
                        gateway.address(), target, Map.of("Authorization", "Bearer " + gateway.token(alice)));
                assertEquals(429, refused.status());
                assertTrue(refused.body().contains("\"too_many_connections\""), refused.body());
                assertTrue(refused.header("Retry-After") != null, "with Retry-After");
                // A stranger learns nothing: the full session is as unknown to it as any other.
                assertEquals(
                        ErrorCode.SESSION_NOT_FOUND,
                        refusedViewer(owner.sessionId(), gateway.token(user())).code());
                // The owner's own connection is not a viewer: it still resumes.
                try (SessionClient resumed = SessionClient.resume(gateway, alice, owner.sessionId(), owner.lastSeq())) {
                    assertEquals(Role.OWNER, resumed.ready.role());
                }
            }
            Poll.until(
                    "both viewers' places are free",
                    () -> session(owner.sessionId()).viewerCount() == 0);
            try (SessionClient again = view(owner.sessionId(), 0, gateway.token(alice))) {
                assertEquals(Role.VIEWER, again.ready.role());
            }
        }
    }

    @Test
    void viewersNeverReplaceOneAnotherNorTheOwnerAndANewOwnerConnectionLeavesThemOpen() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice);
                SessionClient first = view(owner.sessionId(), 0, gateway.token(alice));
                SessionClient second = view(owner.sessionId(), 0, gateway.token(alice))) {
            List<ServerMessage> turn = owner.roundTrip("m-1", "1"); // the owner is still attached
            try (SessionClient resumed = SessionClient.resume(gateway, alice, owner.sessionId(), owner.lastSeq())) {
                assertInstanceOf(ServerMessage.SessionReplaced.class, owner.ws.next());
                assertEquals(4001, owner.ws.awaitCloseCode());
                List<ServerMessage> next = resumed.roundTrip("m-2", "2");
                for (SessionClient viewer : List.of(first, second)) {
                    List<ServerMessage> seen =
                            viewer.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == resumed.lastSeq());
                    List<String> expected = new ArrayList<>(SessionClient.historyTags(turn));
                    expected.addAll(SessionClient.historyTags(next));
                    assertEquals(expected, SessionClient.historyTags(seen));
                    assertTrue(viewer.ws.isOpen());
                }
            }
        }
    }

    @Test
    void aViewersAckDoesNotTrimWhatTheOwnerStillNeeds() {
        String alice = user();
        String sessionId;
        long newest;
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            sessionId = owner.sessionId();
            owner.roundTrip("m-1", "1");
            newest = owner.lastSeq();
            try (SessionClient viewer = view(sessionId, 0, gateway.token(alice))) {
                viewer.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == newest);
                viewer.send(new ClientMessage.Ack(newest));
                sync(viewer);
            }
        }
        try (SessionClient resumed = SessionClient.resume(gateway, alice, sessionId, 0)) {
            ServerMessage first = resumed.next();
            assertEquals(
                    1,
                    assertInstanceOf(ServerMessage.Sequenced.class, first, first::toString)
                            .seq(),
                    "no replay_gap");
            resumed.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == newest);
        }
    }

    @Test
    void aViewersRefreshMustStillGrantTheView() {
        String alice = user();
        String bob = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            try (SessionClient viewer = view(owner.sessionId(), 0, tokenViewing(bob, List.of(owner.sessionId())))) {
                viewer.send(new ClientMessage.AuthRefresh(tokenViewing(bob, owner.sessionId())));
                assertInstanceOf(ServerMessage.AuthOk.class, viewer.next());
                viewer.send(new ClientMessage.AuthRefresh(gateway.token(bob)));
                assertEquals(
                        ErrorCode.AUTH_REFRESH_FAILED,
                        viewer.expect(ServerMessage.ErrorFrame.class).code());
                viewer.send(new ClientMessage.AuthRefresh(tokenViewing(user(), owner.sessionId())));
                assertEquals(
                        ErrorCode.AUTH_REFRESH_FAILED,
                        viewer.expect(ServerMessage.ErrorFrame.class).code(),
                        "another subject");
            }
        }
    }

    @Test
    void theSessionsEndClosesItsViewersWith4011AfterStatusEnded() {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice);
                SessionClient viewer = view(owner.sessionId(), 0, gateway.token(alice))) {
            owner.roundTrip("m-1", "1");
            owner.send(new ClientMessage.End());
            owner.untilTag("status:ended:client_end");
            assertEquals(1000, owner.ws.awaitCloseCode());
            List<ServerMessage> seen = viewer.untilTag("status:ended:client_end");
            assertTrue(SessionClient.historyTags(seen).contains("event:result:m-1"), seen::toString);
            assertEquals(4011, viewer.ws.awaitCloseCode(), "the viewer did not end it: 4011, not 1000");
        }
    }

    @Test
    void theRoleParameterIsOwnerViewerOrABadRequest() throws IOException {
        String alice = user();
        try (SessionClient owner = SessionClient.openIdle(gateway, alice)) {
            try (SessionClient asOwner = SessionClient.open(
                    URI.create(gateway.resumeUri(owner.sessionId(), 0) + "&role=owner"), gateway.token(alice))) {
                assertEquals(Role.OWNER, asOwner.ready.role());
            }
            String path = gateway.config().server().path();
            Map<String, String> auth = Map.of("Authorization", "Bearer " + gateway.token(alice));
            RawHttp.Response badRole =
                    RawHttp.upgrade(gateway.address(), path + "?session=" + owner.sessionId() + "&role=admin", auth);
            assertEquals(400, badRole.status());
            assertTrue(badRole.body().contains("\"bad_request\""), badRole.body());
            assertEquals(
                    400,
                    RawHttp.upgrade(gateway.address(), path + "?role=viewer", auth)
                            .status(),
                    "a viewer needs a session");
        }
    }

    @Test
    void aViewerThatDoesNotReadIsCutWhileTheOwnersTurnsComplete() throws IOException {
        String alice = user();
        String text = "z".repeat(500_000);
        String before = scrape(slow);
        try (SessionClient owner = SessionClient.openIdle(slow, alice);
                RawWebSocket stalled = RawWebSocket.connect(
                        slow.address(),
                        slow.config().server().path() + "?session=" + owner.sessionId() + "&role=viewer",
                        slow.token(alice),
                        4096)) {
            ServerMessage ready = CODEC.decodeServer(stalled.readFrame().text());
            assertEquals(
                    Role.VIEWER,
                    assertInstanceOf(ServerMessage.SessionReady.class, ready).role());
            Session session = slow.server().registry().get(owner.sessionId()).orElseThrow();
            // From here on the viewer reads nothing. The owner's turns go on until the gateway cut it.
            int turns = 0;
            while (session.viewerCount() > 0) {
                turns++;
                if (turns > 20) {
                    throw new AssertionError("the viewer was not cut after 20 turns of 1 MiB");
                }
                owner.sendAccepted("t-" + turns, "\"" + text + "\"", 0);
                owner.untilTag("status:idle");
            }
            assertTrue(stalled.awaitEndOfStream(), "the viewer's connection was closed");
            owner.roundTrip("after", "\"the owner goes on\"");
            assertEquals(SessionState.IDLE, session.state());
        }
        String after = scrape(slow);
        assertTrue(
                MetricsIT.value(after, "tether_viewers_cut_total{reason=\"slow\"")
                                - MetricsIT.value(before, "tether_viewers_cut_total{reason=\"slow\"")
                        >= 1,
                after);
    }

    private static String scrape(GatewayExtension target) {
        try {
            return RawHttp.send(
                            target.address(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
