package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * In-band token refresh over real sockets: short-lived tokens, refreshed (or not) on an open
 * connection while the session streams.
 */
class TokenRefreshIT {

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            auth:
              clock_skew: 0s
              refresh_lead: 3s
              refresh_interval: 500ms
              expired_grace: 1s
            worker:
              echo:
                deltas: 3
                delta_interval: 10ms
            """);

    /** Sends a message and collects everything up to its result, checking seqs follow on. */
    private static long roundTrip(TestClient client, String id, long lastSeq, List<Long> seqs) {
        client.send(new ClientMessage.Message(id, TextNode.valueOf("text of " + id)));
        long seq = lastSeq;
        for (ServerMessage m : client.until(m -> m instanceof ServerMessage.Status s && s.state().wire().equals("idle"))) {
            if (m instanceof ServerMessage.Sequenced sequenced) {
                assertEquals(seq + 1, sequenced.seq(), "seqs follow on with no gap or repeat");
                seq = sequenced.seq();
                seqs.add(seq);
            }
        }
        return seq;
    }

    @Test
    void aRefreshBeforeExpiryKeepsTheConnectionWithNoReconnectAndNoLostMessage() {
        String shortLived = gateway.token("alice", Duration.ofSeconds(4));
        try (TestClient client = TestClient.connect(gateway.uri(), shortLived)) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            List<Long> seqs = new ArrayList<>();
            long seq = roundTrip(client, "m1", 0, seqs);
            ServerMessage ask = client.next();
            ServerMessage.RefreshRequired required = assertInstanceOf(ServerMessage.RefreshRequired.class, ask);
            assertEquals(ready.tokenExpiresAt(), required.expiresAt());

            client.send(new ClientMessage.AuthRefresh(gateway.token("alice", Duration.ofHours(1))));
            ServerMessage.AuthOk ok = skipRefreshRequests(client, ServerMessage.AuthOk.class);
            assertTrue(ok.expiresAt() > required.expiresAt());

            // Past the first token's expiry and grace, the connection still works.
            awaitWallClockPast(Instant.ofEpochSecond(required.expiresAt()).plusSeconds(2));
            seq = roundTrip(client, "m2", seq, seqs);
            assertTrue(client.isOpen());
            assertEquals(seq, seqs.size(), "every seq once, from 1");
        }
    }

    @Test
    void aTokenForAnotherSubjectIsRefusedAndTheConnectionLivesOn() {
        try (TestClient client = TestClient.connect(gateway.uri(), gateway.token("alice"))) {
            client.expect(ServerMessage.SessionReady.class);
            client.send(new ClientMessage.AuthRefresh(gateway.token("mallory")));
            ServerMessage.Error refused = client.expect(ServerMessage.Error.class);
            assertEquals(ErrorCode.AUTH_REFRESH_FAILED, refused.code());
            roundTrip(client, "m1", 0, new ArrayList<>());
        }
    }

    @Test
    void withoutARefreshMessagesAreRefusedThen4010AndTheSessionResumesWithANewToken() {
        String shortLived = gateway.token("alice", Duration.ofSeconds(2));
        String sessionId;
        long seq;
        try (TestClient client = TestClient.connect(gateway.uri(), shortLived)) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            sessionId = ready.sessionId();
            seq = roundTrip(client, "m1", 0, new ArrayList<>());
            awaitWallClockPast(Instant.ofEpochSecond(ready.tokenExpiresAt()));
            client.send(new ClientMessage.Message("m2", TextNode.valueOf("too late")));
            ServerMessage.Error expired = skipRefreshRequests(client, ServerMessage.Error.class);
            assertEquals(ErrorCode.TOKEN_EXPIRED, expired.code());
            assertEquals("m2", expired.id());
            assertEquals(CloseCode.TOKEN_EXPIRED.code(), client.awaitCloseCode());
        }
        try (TestClient again = TestClient.connect(gateway.resumeUri(sessionId, seq), gateway.token("alice"))) {
            ServerMessage.SessionReady ready = again.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertEquals(seq, ready.lastSeq(), "nothing happened to the session while it had no valid connection");
            roundTrip(again, "m2", seq, new ArrayList<>());
        }
    }

    private static <T extends ServerMessage> T skipRefreshRequests(TestClient client, Class<T> type) {
        while (true) {
            ServerMessage m = client.next();
            if (!(m instanceof ServerMessage.RefreshRequired)) {
                return assertInstanceOf(type, m);
            }
        }
    }

    /** Waits (parking, with a deadline) until the wall clock is past {@code instant}. */
    private static void awaitWallClockPast(Instant instant) {
        Instant deadline = instant.plus(TestClient.TIMEOUT);
        while (!Instant.now().isAfter(instant)) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("clock did not pass " + instant);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }
}
