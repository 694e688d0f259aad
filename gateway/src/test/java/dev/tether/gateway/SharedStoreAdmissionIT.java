package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisPerClass;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Waiting for capacity (contract 8.1) with the shared store ({@code sessions.store: redis}): gateway
 * nodes in this JVM against one real {@code redis-server}, real demo-worker subprocesses. The line
 * is per node: node {@code a} holds one session at most, and its waiters wait for a's own capacity.
 * A waiter is registered in the store only when it is admitted, so its session then lives in the
 * store like any other (another node can take it over), a user at its limit across the nodes is
 * told to try again later, a drained node's waiters leave nothing behind, and a fork that waits
 * forks a session of another node once admitted.
 */
class SharedStoreAdmissionIT {

    private static final String MARKER = "shared-admission";

    @RegisterExtension
    static final RedisPerClass redis = new RedisPerClass();

    private final List<GatewayServer> nodes = new ArrayList<>();
    private final List<URI> uris = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(GatewayServer::close);
    }

    /** Node {@code id}; {@code full} holds one session at most. */
    private GatewayServer node(String id, boolean full) throws InterruptedException {
        String overlay = full ? """
                sessions:
                  max_sessions: 1
                  admission:
                    max_wait: 1m
                """ : "";
        GatewayServer server =
                new GatewayServer(RedisNodes.config(MARKER, id, redis.uri(), overlay), Clock.systemUTC());
        nodes.add(server);
        uris.add(URI.create("ws://127.0.0.1:" + server.start().getPort() + "/ws"));
        return server;
    }

    private URI uri(GatewayServer server) {
        return uris.get(nodes.indexOf(server));
    }

    private static String token(String subject) {
        return new TokenMinter(GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint(subject, Duration.ofHours(1), Map.of());
    }

    private TestClient waiter(GatewayServer server, String subject) {
        TestClient waiter = TestClient.connect(URI.create(uri(server) + "?wait=1"), token(subject));
        assertEquals(1, waiter.expect(ServerMessage.Queued.class).position());
        return waiter;
    }

    /** Ends the one session of {@code holder} on {@code server} as the idle timeout would. */
    private static void endHeld(GatewayServer server, SessionClient holder) {
        server.registry().get(holder.sessionId()).orElseThrow().end(EndReason.IDLE_TIMEOUT);
    }

    @Test
    void anAdmittedWaitersSessionIsInTheStoreAndAnotherNodeTakesItOver() throws Exception {
        GatewayServer a = node("a", true);
        GatewayServer b = node("b", false);
        String id;
        try (SessionClient holder = SessionClient.openIdle(uri(a), token("ivan"));
                TestClient waiter = waiter(a, "judy")) {
            endHeld(a, holder);
            ServerMessage.SessionReady ready = waiter.expect(ServerMessage.SessionReady.class);
            assertFalse(ready.resumed());
            id = ready.sessionId();
        }
        a.close(); // releases its sessions in the store
        try (TestClient resumed =
                TestClient.connectWithHeader(URI.create(uri(b) + "?session=" + id + "&last_seq=0"), token("judy"))) {
            ServerMessage.SessionReady ready = resumed.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed(), ready::toString);
            assertEquals(id, ready.sessionId());
        }
    }

    @Test
    void aWaiterWhoseUserReachedItsLimitOnTheOtherNodesIsToldToTryAgainLater() throws Exception {
        GatewayServer a = node("a", true);
        GatewayServer b = node("b", false);
        try (SessionClient holder = SessionClient.openIdle(uri(a), token("leo"));
                TestClient waiter = waiter(a, "kim");
                SessionClient one = SessionClient.openIdle(uri(b), token("kim"));
                SessionClient two = SessionClient.openIdle(uri(b), token("kim"))) {
            endHeld(a, holder);
            ServerMessage.ErrorFrame error = waiter.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.ADMISSION_TIMEOUT, error.code());
            assertTrue(error.message().contains("too many sessions for this user"), error::toString);
            assertEquals(CloseCode.TRY_AGAIN_LATER.code(), waiter.awaitCloseCode());
            // The slot it was admitted to is a's again.
            try (SessionClient next = SessionClient.openIdle(uri(a), token("mia"))) {
                assertFalse(next.sessionId().isEmpty());
            }
        }
    }

    @Test
    void aDrainedNodesWaitersAreToldSoAndLeaveNothingInTheStore() throws Exception {
        GatewayServer a = node("a", true);
        GatewayServer b = node("b", false);
        try (SessionClient holder = SessionClient.openIdle(uri(a), token("olga"));
                TestClient waiter = waiter(a, "nina")) {
            var unused = a.drain("test");
            waiter.expect(ServerMessage.ShuttingDown.class);
            assertEquals(CloseCode.GOING_AWAY.code(), waiter.awaitCloseCode());
            a.close(); // its session is released in the store
        }
        // Nothing of nina's wait counts against her two sessions.
        try (SessionClient one = SessionClient.openIdle(uri(b), token("nina"));
                SessionClient two = SessionClient.openIdle(uri(b), token("nina"))) {
            assertFalse(one.sessionId().equals(two.sessionId()));
        }
    }

    @Test
    void aForkThatWaitsForItsNodeForksAnotherNodesSessionWhenAdmitted() throws Exception {
        GatewayServer a = node("a", true);
        GatewayServer b = node("b", false);
        try (SessionClient parent = SessionClient.openIdle(uri(b), token("pia"));
                SessionClient holder = SessionClient.openIdle(uri(a), token("quinn"))) {
            List<ServerMessage> first = parent.roundTrip("p1", "{}");
            assertEquals(1, SessionClient.event(first, "result").path("turn").asInt());
            // The demo worker checkpoints just before its result: the parent's newest seq then.
            long forkSeq = SessionClient.seqOfEvent(first, "result") - 1;
            try (TestClient forked =
                    TestClient.connect(URI.create(uri(a) + "?fork=" + parent.sessionId() + "&wait=1"), token("pia"))) {
                assertEquals(1, forked.expect(ServerMessage.Queued.class).position());
                endHeld(a, holder);
                ServerMessage.SessionReady ready = forked.expect(ServerMessage.SessionReady.class);
                assertNotEquals(parent.sessionId(), ready.sessionId(), "a fork is a new session");
                assertEquals(parent.sessionId(), ready.forkedFrom());
                assertEquals(forkSeq, ready.forkSeqValue(), "from the checkpoint b's session left in the store");
                if (ready.state() != SessionState.IDLE) {
                    forked.until(m -> SessionClient.isStatus(m, SessionState.IDLE));
                }
                forked.send(new ClientMessage.Message("f1", JsonNodeFactory.instance.objectNode()));
                List<ServerMessage> turn = forked.until(m -> m instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").asText()));
                assertEquals(
                        2,
                        SessionClient.event(turn, "result").path("turn").asInt(),
                        "the fork's worker went on from the parent's checkpoint");
            }
            assertEquals(
                    2,
                    SessionClient.event(parent.roundTrip("p2", "{}"), "result")
                            .path("turn")
                            .asInt());
        }
    }
}
