package dev.tether.gateway;

import static dev.tether.gateway.testing.GatewayExtension.runWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Waiting for capacity (contract 8.1) end to end: a real gateway with a small {@code max_sessions}
 * on loopback, Tyrus clients that ask {@code wait=1}. Every test starts a gateway of its own, so the
 * line starts empty.
 */
class AdmissionIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static GatewayExtension gateway(String admission) {
        return GatewayExtension.withConfig("""
                sessions:
                  max_sessions: 2
                  max_sessions_per_user: 10
                  admission:
                %s
                """.formatted(admission.indent(4).stripTrailing()));
    }

    @Test
    void waitersAreQueuedInArrivalOrderAndAdmittedInOrderAsSessionsEnd() throws Exception {
        runWith(gateway("max_waiting: 10\nmax_waiting_per_user: 2\nmax_wait: 1m"), g -> {
            List<Held> holders = List.of(open(g, "h1"), open(g, "h2"));
            TestClient w1 = waiter(g, "w1");
            assertEquals(1, w1.expect(ServerMessage.Queued.class).position());
            TestClient w2 = waiter(g, "w2");
            assertEquals(2, w2.expect(ServerMessage.Queued.class).position());
            TestClient w3 = waiter(g, "w3");
            assertEquals(3, w3.expect(ServerMessage.Queued.class).position());

            end(g, holders.get(0));
            ServerMessage.SessionReady ready = w1.expect(ServerMessage.SessionReady.class);
            assertFalse(ready.resumed(), ready::toString);
            assertEquals(1, w2.expect(ServerMessage.Queued.class).position());
            assertEquals(2, w3.expect(ServerMessage.Queued.class).position());

            end(g, holders.get(1));
            w2.expect(ServerMessage.SessionReady.class);
            assertEquals(1, w3.expect(ServerMessage.Queued.class).position());
            assertEquals(1, g.server().registry().admission().waiting());
        });
    }

    @Test
    void aWaiterIsAdmittedWhenTheWorkerPoolHasRoomAgain() throws Exception {
        runWith(DemoWorkers.gateway("admission-pool", """
                sessions:
                  max_sessions: 10
                  admission:
                    max_wait: 1m
                pool:
                  min_idle: 0
                  max_workers: 1
                """), g -> {
            Held holder = open(g, "h1");
            assertAtCapacity(g, "/ws", "nowait"); // no worker can be had: 503 without wait=1
            TestClient w = waiter(g, "w");
            assertEquals(1, w.expect(ServerMessage.Queued.class).position());
            end(g, holder);
            w.until(m -> m instanceof ServerMessage.SessionReady);
        });
    }

    @Test
    void beyondTheBoundsAndWithoutWaitTheUpgradeIs503AtCapacity() throws Exception {
        runWith(gateway("max_waiting: 2\nmax_waiting_per_user: 1\nmax_wait: 1m"), g -> {
            open(g, "h1");
            open(g, "h2");
            assertAtCapacity(g, "/ws", "nowait");
            waiter(g, "x").expect(ServerMessage.Queued.class);
            assertAtCapacity(g, "/ws?wait=1", "x"); // per user
            waiter(g, "y").expect(ServerMessage.Queued.class);
            assertAtCapacity(g, "/ws?wait=1", "z"); // in all
        });
    }

    @Test
    void aWaitLongerThanMaxWaitEndsWithAdmissionTimeoutAnd1013() throws Exception {
        runWith(gateway("max_wait: 1s"), g -> {
            open(g, "h1");
            open(g, "h2");
            TestClient w = waiter(g, "slow");
            w.expect(ServerMessage.Queued.class);
            ServerMessage.ErrorFrame error = w.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.ADMISSION_TIMEOUT, error.code());
            assertEquals(CloseCode.TRY_AGAIN_LATER.code(), w.awaitCloseCode());
            Poll.until(
                    "the line is empty", () -> g.server().registry().admission().waiting() == 0);
        });
    }

    @Test
    void aWaiterThatClosesLeavesTheLineAndTheOthersMoveUp() throws Exception {
        runWith(gateway("max_wait: 1m"), g -> {
            open(g, "h1");
            open(g, "h2");
            TestClient w1 = waiter(g, "w1");
            w1.expect(ServerMessage.Queued.class);
            TestClient w2 = waiter(g, "w2");
            assertEquals(2, w2.expect(ServerMessage.Queued.class).position());
            w1.close();
            assertEquals(1, w2.expect(ServerMessage.Queued.class).position());
            assertEquals(1, g.server().registry().admission().waiting());
        });
    }

    @Test
    void aDrainSendsEveryWaiterShuttingDownAnd1001() throws Exception {
        runWith(gateway("max_wait: 1m"), g -> {
            open(g, "h1");
            open(g, "h2");
            TestClient w = waiter(g, "w");
            w.expect(ServerMessage.Queued.class);
            var unused = g.server().drain("test");
            w.expect(ServerMessage.ShuttingDown.class);
            assertEquals(CloseCode.GOING_AWAY.code(), w.awaitCloseCode());
        });
    }

    @Test
    void aFloodFromOneUserCannotStarveAnother() throws Exception {
        runWith(gateway("max_waiting: 100\nmax_waiting_per_user: 2\nmax_wait: 1m"), g -> {
            List<Held> holders = List.of(open(g, "h1"), open(g, "h2"));
            List<TestClient> flood = new ArrayList<>();
            flood.add(waiter(g, "flood"));
            flood.add(waiter(g, "flood"));
            flood.forEach(c -> c.expect(ServerMessage.Queued.class));
            for (int i = 0; i < 20; i++) {
                assertAtCapacity(g, "/ws?wait=1", "flood"); // beyond max_waiting_per_user
            }
            TestClient other = waiter(g, "other");
            assertEquals(3, other.expect(ServerMessage.Queued.class).position());

            end(g, holders.get(0));
            end(g, holders.get(1));
            List<Held> admitted = new ArrayList<>();
            for (TestClient c : flood) {
                admitted.add(new Held(
                        c,
                        c.until(m -> m instanceof ServerMessage.SessionReady).stream()
                                .filter(ServerMessage.SessionReady.class::isInstance)
                                .map(m -> ((ServerMessage.SessionReady) m).sessionId())
                                .findFirst()
                                .orElseThrow()));
            }
            // The flood keeps asking while the other user waits: it is refused, and the other is next.
            List<TestClient> late = List.of(waiter(g, "flood"), waiter(g, "flood"));
            assertEquals(2, late.get(0).expect(ServerMessage.Queued.class).position());
            assertEquals(3, late.get(1).expect(ServerMessage.Queued.class).position());
            assertAtCapacity(g, "/ws?wait=1", "flood");
            end(g, admitted.get(0));
            other.until(m -> m instanceof ServerMessage.SessionReady);
            late.get(0).until(m -> m instanceof ServerMessage.Queued q && q.position() == 1);
        });
    }

    private static void assertAtCapacity(GatewayExtension g, String target, String subject) throws Exception {
        RawHttp.Response answer =
                RawHttp.upgrade(g.address(), target, Map.of("Authorization", "Bearer " + g.token(subject)));
        assertEquals(503, answer.status(), answer::toString);
        assertEquals("at_capacity", JSON.readTree(answer.body()).path("error").asText(), answer::body);
    }

    /** A client and the session it holds. */
    private record Held(TestClient client, String sessionId) {}

    private static Held open(GatewayExtension g, String subject) {
        TestClient client = TestClient.connect(g.uri(), g.token(subject));
        return new Held(client, client.expect(ServerMessage.SessionReady.class).sessionId());
    }

    private static TestClient waiter(GatewayExtension g, String subject) {
        return TestClient.connect(URI.create(g.uri() + "?wait=1"), g.token(subject));
    }

    /** Ends {@code held}'s session as the idle timeout would, and waits for its close. */
    private static void end(GatewayExtension g, Held held) {
        g.server().registry().get(held.sessionId()).orElseThrow().end(EndReason.IDLE_TIMEOUT);
        held.client().awaitClose();
    }
}
