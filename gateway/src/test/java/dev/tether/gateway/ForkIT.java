package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.store.RedisSessionStore;
import dev.tether.gateway.store.StoredSession;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.testkit.Poll;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forks (contract 1.2, 8.2) end to end: a real gateway with real demo-worker subprocesses. A fork
 * is a new session whose worker continues from the parent's newest checkpoint (the demo worker's
 * turn count goes on from it, and its {@code session} line said {@code fork}); both sessions then go
 * their own ways. The hostile cases are refused exactly like a resume of an unknown session, or like
 * any new session at a limit, and leave the parent as it was. With the shared store, a node forks a
 * session another node owns by reading it from the store, never claiming it.
 */
class ForkIT {

    private static final String QUICK = "{\"text\":\"x\",\"deltas\":1,\"delay_ms\":0}";
    private static final String WHOAMI = "{\"text\":\"x\",\"deltas\":1,\"delay_ms\":0,\"whoami\":true}";

    @TempDir
    static Path tmp;

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("fork", """
            sessions:
              max_sessions_per_user: 2
            pool:
              min_idle: 3                # most sessions here start warm: no cold start against a 10 s read
            """);

    private static URI forkUri(String parent) {
        return URI.create(gateway.uri() + "?fork=" + parent);
    }

    private static SessionClient fork(String parent, String subject) {
        return SessionClient.open(forkUri(parent), gateway.token(subject));
    }

    /** The turn number of the {@code result} in {@code turn}. */
    private static int turnOf(List<ServerMessage> turn) {
        return event(turn, "result").path("turn").asInt();
    }

    private static long seqOfResult(List<ServerMessage> turn) {
        return SessionClient.seqOfEvent(turn, "result");
    }

    /** Waits until a fork becomes idle, reading what its cold worker's start puts in its history. */
    private static List<ServerMessage> idle(SessionClient forked) {
        return forked.ready.state() == SessionState.IDLE ? List.of() : forked.untilTag("status:idle");
    }

    @Test
    void aForkContinuesFromTheNewestCheckpointAndTheTwoSessionsGoTheirOwnWays() {
        try (SessionClient parent = SessionClient.openIdle(gateway, "fork-alice")) {
            assertEquals(1, turnOf(parent.roundTrip("p1", QUICK)));
            List<ServerMessage> second = parent.roundTrip("p2", QUICK);
            assertEquals(2, turnOf(second));
            // The demo worker checkpoints just before its result: the parent's newest seq then.
            long forkSeq = seqOfResult(second) - 1;

            try (SessionClient forked = fork(parent.sessionId(), "fork-alice")) {
                ServerMessage.SessionReady ready = forked.ready;
                assertNotEquals(parent.sessionId(), ready.sessionId(), "a fork is a new session");
                assertFalse(ready.resumed());
                assertEquals(parent.sessionId(), ready.forkedFrom());
                assertEquals(forkSeq, ready.forkSeqValue());
                List<ServerMessage> start = idle(forked);
                for (ServerMessage m : start) {
                    assertFalse(m instanceof ServerMessage.Event, "none of the parent's history: " + m);
                }

                List<ServerMessage> third = forked.roundTrip("f1", WHOAMI);
                assertEquals(3, turnOf(third), "the fork's worker went on from the parent's checkpoint");
                JsonNode whoami = event(third, "whoami");
                assertTrue(whoami.path("forked").asBoolean(), "its session line said fork: " + whoami);
                assertEquals(ready.sessionId(), whoami.path("session_id").asText());
                assertEquals(1L, ((ServerMessage.Sequenced) (start.isEmpty() ? third.get(0) : start.get(0))).seq());
                assertEquals(4, turnOf(forked.roundTrip("f2", QUICK)));

                // The parent knows nothing of it: its count goes on from its own 2.
                assertTrue(parent.ws.inboxEmpty(), "nothing of the fork reached the parent");
                List<ServerMessage> parentThird = parent.roundTrip("p3", WHOAMI);
                assertEquals(3, turnOf(parentThird));
                assertFalse(event(parentThird, "whoami").path("forked").asBoolean());
                assertEquals(
                        seqOfResult(second) + 2,
                        ((ServerMessage.Sequenced) parentThird.get(0)).seq(),
                        "the parent's seqs go on where they were");
                assertTrue(forked.ws.inboxEmpty(), "nothing of the parent reached the fork");

                // A later resume of the fork is an ordinary resume: no fork fields.
                long seen = forked.lastSeq();
                forked.close();
                try (SessionClient again = SessionClient.resume(gateway, "fork-alice", ready.sessionId(), seen)) {
                    assertTrue(again.ready.resumed());
                    assertNull(again.ready.forkedFrom());
                    assertNull(again.ready.forkSeq());
                }
            }
        }
    }

    @Test
    void aForkOfASessionWithoutACheckpointStartsFreshAndSaysSoWithANullForkSeq() {
        try (SessionClient parent = SessionClient.openIdle(gateway, "fork-bob");
                SessionClient forked = fork(parent.sessionId(), "fork-bob")) {
            assertEquals(parent.sessionId(), forked.ready.forkedFrom());
            assertNull(forked.ready.forkSeqValue());
            assertTrue(forked.ready.forkSeq().isNull(), "fork_seq is there, as JSON null");
            idle(forked);
            List<ServerMessage> turn = forked.roundTrip("f1", WHOAMI);
            assertEquals(1, turnOf(turn));
            assertFalse(event(turn, "whoami").path("forked").asBoolean(), "no checkpoint: no resume, no fork");
        }
    }

    @Test
    void forksOfForeignUnknownAndMalformedSessionsAreRefusedLikeAResumeOfAnUnknownSession() {
        try (SessionClient parent = SessionClient.openIdle(gateway, "fork-carol")) {
            parent.roundTrip("c1", QUICK);
            String viewing = gateway.minter()
                    .mint("fork-mallory-viewer", Duration.ofHours(1), Map.of("view", List.of(parent.sessionId())));
            ServerMessage.ErrorFrame unknownResume = refused(
                    URI.create(gateway.uri() + "?session=AAAAAAAAAAAAAAAAAAAAAA"), gateway.token("fork-mallory"));
            for (String[] attempt : new String[][] {
                {parent.sessionId(), gateway.token("fork-mallory")}, // another user's
                {parent.sessionId(), viewing}, // a viewer of it: viewing is not owning
                {"AAAAAAAAAAAAAAAAAAAAAA", gateway.token("fork-carol")}, // unknown
                {"..%2F..%2Fetc", gateway.token("fork-carol")}, // malformed
                {"", gateway.token("fork-carol")}, // empty
            }) {
                ServerMessage.ErrorFrame error = refused(URI.create(gateway.uri() + "?fork=" + attempt[0]), attempt[1]);
                assertEquals(unknownResume.code(), error.code(), "fork=" + attempt[0]);
                assertEquals(unknownResume.message(), error.message(), "nothing tells the sessions apart");
                assertEquals(ErrorCode.SESSION_NOT_FOUND, error.code());
            }
            // The parent went on untouched, and the refused forks gave their slots back.
            assertTrue(parent.ws.inboxEmpty(), "nothing reached the parent");
            assertEquals(2, turnOf(parent.roundTrip("c2", QUICK)));
            assertEquals(
                    1,
                    gateway.server().registry().all().stream()
                            .filter(s -> s.subject().startsWith("fork-mallory")
                                    || s.subject().equals("fork-carol"))
                            .count());
        }
    }

    /** Connects to {@code uri} and reads the {@code error} before a close 4004. */
    private static ServerMessage.ErrorFrame refused(URI uri, String token) {
        try (TestClient ws = TestClient.connectWithHeader(uri, token)) {
            ServerMessage.ErrorFrame error = ws.expect(ServerMessage.ErrorFrame.class);
            assertEquals(4004, ws.awaitCloseCode(), uri.toString());
            return error;
        }
    }

    @Test
    void aForkOfAnEndedSessionIsExpiredLikeItsResume() {
        String id;
        try (SessionClient parent = SessionClient.openIdle(gateway, "fork-dave")) {
            id = parent.sessionId();
            parent.roundTrip("d1", QUICK);
            parent.send(new ClientMessage.End());
            parent.untilTag("status:ended:client_end");
        }
        ServerMessage.ErrorFrame error = refused(forkUri(id), gateway.token("fork-dave"));
        assertEquals(ErrorCode.SESSION_EXPIRED, error.code());
        assertEquals("client_end", error.reason());
    }

    @Test
    void forkTogetherWithSessionOrAsAViewerIsABadRequest() throws Exception {
        String token = gateway.token("fork-erin");
        for (String target : List.of(
                "/ws?fork=AAAAAAAAAAAAAAAAAAAAAA&session=AAAAAAAAAAAAAAAAAAAAAA",
                "/ws?session=AAAAAAAAAAAAAAAAAAAAAA&role=viewer&fork=AAAAAAAAAAAAAAAAAAAAAA",
                "/ws?fork=AAAAAAAAAAAAAAAAAAAAAA&role=viewer")) {
            RawHttp.Response response =
                    RawHttp.upgrade(gateway.address(), target, Map.of("Authorization", "Bearer " + token));
            assertEquals(400, response.status(), target);
            assertTrue(response.body().contains("\"" + UpgradeRefusal.BAD_REQUEST.code() + "\""), response.body());
        }
    }

    @Test
    void aForkCountsAgainstTheUsersSessionLimitAndLeavesTheParentAsItWas() throws Exception {
        try (SessionClient parent = SessionClient.openIdle(gateway, "fork-frank")) {
            parent.roundTrip("f1", QUICK);
            try (SessionClient first = fork(parent.sessionId(), "fork-frank")) {
                assertEquals(parent.sessionId(), first.ready.forkedFrom());
                RawHttp.Response third = RawHttp.upgrade(
                        gateway.address(),
                        "/ws?fork=" + parent.sessionId(),
                        Map.of("Authorization", "Bearer " + gateway.token("fork-frank")));
                assertEquals(429, third.status(), "max_sessions_per_user is 2: " + third.body());
                assertTrue(third.body().contains(UpgradeRefusal.TOO_MANY_CONNECTIONS.code()), third.body());
            }
            assertTrue(parent.ws.inboxEmpty(), "nothing reached the parent");
            assertEquals(2, turnOf(parent.roundTrip("f2", QUICK)));
        }
    }

    /** Room for two sessions only: a fork waits in line (wait=1) like any new session. */
    @RegisterExtension
    static final GatewayExtension full = DemoWorkers.gateway("fork-full", """
            sessions:
              max_sessions: 2
            """);

    @Test
    void aForkWaitsInLineLikeAnyNewSessionAndForksOnceAdmitted() throws Exception {
        try (SessionClient parent = SessionClient.openIdle(full, "fork-ivy")) {
            long forkSeq = seqOfResult(parent.roundTrip("i1", QUICK)) - 1;
            SessionClient other = SessionClient.openIdle(full, "fork-jack");
            RawHttp.Response refused = RawHttp.upgrade(
                    full.address(),
                    "/ws?fork=" + parent.sessionId(),
                    Map.of("Authorization", "Bearer " + full.token("fork-ivy")));
            assertEquals(503, refused.status(), "without wait=1, refused like a new session: " + refused.body());
            try (TestClient waiting = TestClient.connectWithHeader(
                    URI.create(full.uri() + "?fork=" + parent.sessionId() + "&wait=1"), full.token("fork-ivy"))) {
                assertEquals(1, waiting.expect(ServerMessage.Queued.class).position());
                other.send(new ClientMessage.End()); // a slot is freed
                other.untilTag("status:ended:client_end");
                List<ServerMessage> upTo = waiting.until(m -> m instanceof ServerMessage.SessionReady);
                ServerMessage.SessionReady ready = (ServerMessage.SessionReady) upTo.get(upTo.size() - 1);
                assertEquals(parent.sessionId(), ready.forkedFrom());
                assertEquals(forkSeq, ready.forkSeqValue());
            } finally {
                other.close();
            }
            assertTrue(parent.ws.inboxEmpty(), "nothing reached the parent");
        }
    }

    @Test
    void aForkOfASessionThatAnotherNodeOwnsIsReadFromTheStoreWithoutClaimingIt() throws Exception {
        try (RedisServer redis = RedisServer.start(tmp);
                RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            GatewayServer a = new GatewayServer(RedisNodes.config("fork-redis", "a", redis.uri()), Clock.systemUTC());
            GatewayServer b = new GatewayServer(RedisNodes.config("fork-redis", "b", redis.uri()), Clock.systemUTC());
            try (a;
                    b) {
                URI onA = URI.create("ws://127.0.0.1:" + a.start().getPort() + "/ws");
                URI onB = URI.create("ws://127.0.0.1:" + b.start().getPort() + "/ws");
                TokenMinter minter = new TokenMinter(
                        GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());
                String alice = minter.mint("fork-grace", Duration.ofHours(1), Map.of());
                try (SessionClient parent = SessionClient.openIdle(onA, alice)) {
                    String id = parent.sessionId();
                    parent.roundTrip("g1", QUICK);
                    long forkSeq = seqOfResult(parent.roundTrip("g2", QUICK)) - 1;
                    StoredSession stored = Poll.until(
                            "the checkpoint of turn 2 in the store",
                            () -> store.read(id).toCompletableFuture().join().orElseThrow(),
                            s -> Long.valueOf(forkSeq).equals(s.checkpointSeq()));
                    assertEquals("a", stored.node());

                    try (SessionClient forked = SessionClient.open(URI.create(onB + "?fork=" + id), alice)) {
                        assertEquals(id, forked.ready.forkedFrom());
                        assertEquals(forkSeq, forked.ready.forkSeqValue());
                        assertEquals("b", forked.ready.node(), "the fork lives where it was asked for");
                        idle(forked);
                        List<ServerMessage> turn = forked.roundTrip("h1", WHOAMI);
                        assertEquals(3, turnOf(turn), "b's worker went on from a's checkpoint");
                        assertTrue(event(turn, "whoami").path("forked").asBoolean());

                        // Another user's fork of it, on the node that does not hold it: unknown.
                        ServerMessage.ErrorFrame foreign = refused(
                                URI.create(onB + "?fork=" + id),
                                minter.mint("fork-mallory", Duration.ofHours(1), Map.of()));
                        assertEquals(ErrorCode.SESSION_NOT_FOUND, foreign.code());
                    }
                    // a still owns the parent, never asked to hand it over: its client noticed nothing.
                    StoredSession after =
                            store.read(id).toCompletableFuture().join().orElseThrow();
                    assertEquals("a", after.node());
                    assertEquals(stored.epoch(), after.epoch(), "never claimed");
                    assertTrue(parent.ws.inboxEmpty(), "nothing reached the parent");
                    assertEquals(3, turnOf(parent.roundTrip("g3", QUICK)));
                }
            }
        }
    }
}
