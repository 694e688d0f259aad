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
import dev.tether.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * In-band token refresh over real sockets: short-lived tokens, refreshed (or not) on an open
 * connection while the session streams.
 *
 * <p>The gateway and its tokens read a {@link ManualClock}: a test moves it to make a token expire
 * rather than waiting. The gateway's timers run on real time, armed when a connection attaches for
 * what the clock then says is left, so a connection that must see its grace end attaches with
 * {@link #GRACE_LEFT} of its token's life left on the clock; every other connection has seconds left,
 * far more than a test takes. (TokenRefreshTest drives the same timers on frozen time.)
 */
class TokenRefreshIT {

    private static final Duration EXPIRED_GRACE = Duration.ofMillis(100);
    private static final Duration GRACE_LEFT = Duration.ofMillis(100);

    private static final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    @RegisterExtension
    static final GatewayExtension gateway =
            GatewayExtension.withConfig("""
            auth:
              clock_skew: 0s
              refresh_lead: 30s
              refresh_interval: 500ms
              expired_grace: %dms
            worker:
              echo:
                deltas: 3
                delta_interval: 10ms
            """.formatted(EXPIRED_GRACE.toMillis())).withClock(clock);

    /** Sends a message and collects everything up to its result, checking seqs follow on. */
    private static long roundTrip(TestClient client, String id, long lastSeq, List<Long> seqs) {
        client.send(new ClientMessage.Message(id, TextNode.valueOf("text of " + id)));
        long seq = lastSeq;
        for (ServerMessage m : client.until(
                m -> m instanceof ServerMessage.Status s && s.state().wire().equals("idle"))) {
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
        Instant start = startOfTest();
        String shortLived = gateway.token("alice", Duration.ofSeconds(60));
        clock.set(start.plusSeconds(40));
        try (TestClient client = TestClient.connect(gateway.uri(), shortLived)) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            assertEquals(start.plusSeconds(60).getEpochSecond(), ready.tokenExpiresAt());
            ServerMessage.RefreshRequired required = client.expect(ServerMessage.RefreshRequired.class);
            assertEquals(ready.tokenExpiresAt(), required.expiresAt(), "within refresh_lead of expiry: asked at once");
            List<Long> seqs = new ArrayList<>();
            long seq = roundTrip(client, "m1", 0, seqs);

            client.send(new ClientMessage.AuthRefresh(gateway.token("alice", Duration.ofHours(1))));
            ServerMessage.AuthOk ok = skipRefreshRequests(client, ServerMessage.AuthOk.class);
            assertTrue(ok.expiresAt() > required.expiresAt());

            // Past the first token's expiry and grace, the connection still works.
            clock.set(Instant.ofEpochSecond(required.expiresAt())
                    .plus(EXPIRED_GRACE)
                    .plusSeconds(1));
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
            ServerMessage.ErrorFrame refused = client.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.AUTH_REFRESH_FAILED, refused.code());
            roundTrip(client, "m1", 0, new ArrayList<>());
        }
    }

    @Test
    void withoutARefreshMessagesAreRefusedThen4010AndTheSessionResumesWithANewToken() {
        Instant start = startOfTest();
        String sessionId;
        long seq;
        try (TestClient client = TestClient.connect(gateway.uri(), gateway.token("alice", Duration.ofSeconds(20)))) {
            ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
            sessionId = ready.sessionId();
            seq = roundTrip(client, "m1", 0, new ArrayList<>());
            clock.set(Instant.ofEpochSecond(ready.tokenExpiresAt()));
            client.send(new ClientMessage.Message("m2", TextNode.valueOf("too late")));
            ServerMessage.ErrorFrame expired = skipRefreshRequests(client, ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.TOKEN_EXPIRED, expired.code());
            assertEquals("m2", expired.id());
        }
        // Not refreshed, a token ends its connection with 4010 once it has been expired for
        // auth.expired_grace: here one attached GRACE_LEFT before its expiry, by the clock.
        clock.set(start.plusSeconds(30));
        String nearlyExpired = gateway.token("alice", Duration.ofSeconds(1));
        clock.set(start.plusSeconds(31).minus(GRACE_LEFT));
        try (TestClient client = TestClient.connect(gateway.resumeUri(sessionId, seq), nearlyExpired)) {
            assertTrue(client.expect(ServerMessage.SessionReady.class).resumed());
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

    /**
     * Moves the clock a minute on to a whole second and returns it: tokens count in whole seconds,
     * and no test goes back to the time of another's sessions.
     */
    private static Instant startOfTest() {
        Instant start = clock.instant().truncatedTo(ChronoUnit.SECONDS).plusSeconds(60);
        clock.set(start);
        return start;
    }
}
