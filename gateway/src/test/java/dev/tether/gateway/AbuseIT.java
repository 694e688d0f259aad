package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The abuse limits against real gateways over real sockets: a connection flood from one address,
 * a message flood from one session, a message over the size limit, and a client that stops
 * reading. In each case the offender is refused or disconnected with the contract's code while
 * other clients carry on, and a disconnected session can be resumed.
 */
class AbuseIT {

    private static final WireCodec CODEC = new WireCodec();

    /**
     * 20 upgrade attempts per address at once, then one every 2 s; 20 frames per session at once, then
     * 200 a second; the 5th rate-limited frame within 10 s closes; message data up to 4 KiB.
     */
    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            abuse:
              connections_per_second: 0.5
              connection_burst: 20
              messages_per_second: 200
              message_burst: 20
              max_strikes: 5
              strike_window: 10s
              max_message_bytes: 4KiB
            """);

    @RegisterExtension
    static final GatewayExtension slowReaders = GatewayExtension.forSlowReaders();

    // ---- connections ------------------------------------------------------------------------------

    @Test
    void connectionFloodFromOneAddressIsRefusedWith429AndRetryAfterWhileOthersConnect() throws IOException {
        InetAddress flooder = InetAddress.getByName("127.0.0.2");
        for (int i = 0; i < 20; i++) {
            RawHttp.Response response = RawHttp.upgradeFrom(flooder, gateway.address(), "/ws", Map.of());
            assertEquals(401, response.status(), "attempt " + i + " is within the burst and judged as usual");
        }
        RawHttp.Response refused = RawHttp.upgradeFrom(
                flooder, gateway.address(), "/ws", Map.of("Authorization", "Bearer " + gateway.token("flooder")));
        assertEquals(429, refused.status());
        assertTrue(refused.body().contains("\"too_many_connections\""), refused.body());
        long retryAfter = Long.parseLong(refused.header("Retry-After"));
        assertTrue(retryAfter >= 1 && retryAfter <= 2, "one token every 2 s: Retry-After " + retryAfter);

        try (TestClient other = TestClient.connect(gateway.uri(), gateway.token("neighbour"))) {
            assertInstanceOf(ServerMessage.SessionReady.class, other.next(), "another address is not affected");
        }
    }

    // ---- messages ---------------------------------------------------------------------------------

    @Test
    void messageFloodIsRateLimitedThenClosedWith4008AndTheSessionCanBeResumed() throws InterruptedException {
        try (TestClient honest = TestClient.connect(gateway.uri(), gateway.token("honest"));
                TestClient flooder = TestClient.connect(gateway.uri(), gateway.token("flooder"))) {
            honest.expect(ServerMessage.SessionReady.class);
            String sessionId = flooder.expect(ServerMessage.SessionReady.class).sessionId();

            // The burst and the strikes in one go, far faster than 200 a second; then, while the
            // connection lasts, one more frame per answer. (Frames still arriving after the server
            // has closed would make its TCP stack reset the connection, and the client might lose
            // the close frame: a real flooder may well see 1006 instead of 4008.)
            List<ServerMessage.ErrorFrame> limited = new ArrayList<>();
            int sent = 0;
            for (; sent < 25; sent++) {
                flooder.send(new ClientMessage.Message("f-" + sent, TextNode.valueOf("x")));
            }
            awaitAnswers(flooder, 25, limited);
            while (flooder.isOpen()) {
                try {
                    flooder.send(new ClientMessage.Message("f-" + sent++, TextNode.valueOf("x")));
                } catch (RuntimeException closedMeanwhile) {
                    break;
                }
                awaitAnswers(flooder, 1, limited);
            }
            assertEquals(4008, flooder.awaitCloseCode());
            assertEquals(5, limited.size(), "one rate_limited per strike, the 5th with the close: " + limited);
            for (ServerMessage.ErrorFrame error : limited) {
                assertEquals(ErrorCode.RATE_LIMITED, error.code());
                assertTrue(error.id().startsWith("f-"), "a refused message is named by its id: " + error);
            }

            honest.send(new ClientMessage.Message("h-1", TextNode.valueOf("still here")));
            assertFalse(honest.expect(ServerMessage.Accepted.class).duplicate());
            honest.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText()));

            try (TestClient resumed = TestClient.connect(gateway.resumeUri(sessionId, 0), gateway.token("flooder"))) {
                assertTrue(
                        resumed.expect(ServerMessage.SessionReady.class).resumed(), "the session outlived the close");
                String refused = limited.get(0).id();
                ServerMessage.Accepted accepted = Poll.present("the refused message is taken after a resume", () -> {
                    resumed.send(new ClientMessage.Message(refused, TextNode.valueOf("again")));
                    return resumed
                            .until(m -> m instanceof ServerMessage.Accepted || m instanceof ServerMessage.ErrorFrame)
                            .stream()
                            .filter(m -> m instanceof ServerMessage.Accepted)
                            .map(m -> (ServerMessage.Accepted) m)
                            .findFirst();
                });
                assertFalse(accepted.duplicate(), "a rate-limited message was not taken before");
            }
        }
    }

    @Test
    void messageOverTheSizeLimitIsRefusedWithItsIdAndTheConnectionGoesOn() {
        try (TestClient client = TestClient.connect(gateway.uri(), gateway.token("bulky"))) {
            client.expect(ServerMessage.SessionReady.class);
            client.send(new ClientMessage.Message("big", TextNode.valueOf("y".repeat(4 * 1024))));
            ServerMessage.ErrorFrame error = client.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.MESSAGE_TOO_LARGE, error.code());
            assertEquals("big", error.id());

            client.send(new ClientMessage.Message(
                    "small", JsonNodeFactory.instance.objectNode().put("text", "fits")));
            assertEquals("small", client.expect(ServerMessage.Accepted.class).id());
            client.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText()));

            client.send(new ClientMessage.Message("big", TextNode.valueOf("short now")));
            List<ServerMessage> answer = client.until(m -> m instanceof ServerMessage.Accepted);
            assertFalse(
                    ((ServerMessage.Accepted) answer.get(answer.size() - 1)).duplicate(),
                    "a refused id was not remembered");
            assertTrue(client.isOpen());
        }
    }

    /**
     * Waits until {@code client} has answered {@code n} more messages ({@code accepted} or {@code
     * error}, collected into {@code errors}), or has been closed with nothing left to read.
     */
    private static void awaitAnswers(TestClient client, int n, List<ServerMessage.ErrorFrame> errors)
            throws InterruptedException {
        long deadline = System.nanoTime() + TestClient.TIMEOUT.toNanos();
        int answered = 0;
        while (answered < n) {
            ServerMessage message = client.poll(Duration.ofMillis(20));
            if (message instanceof ServerMessage.Accepted) {
                answered++;
            } else if (message instanceof ServerMessage.ErrorFrame error) {
                answered++;
                errors.add(error);
            } else if (message == null && !client.isOpen() && client.inboxEmpty()) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                fail("no answer to " + (n - answered) + " message(s) within " + TestClient.TIMEOUT);
            }
        }
    }

    // ---- clients that do not read -------------------------------------------------------------

    @Test
    void clientThatStopsReadingIsDisconnectedAndItsSessionResumesWithReplay() throws Exception {
        int turns = 12;
        String text = "z".repeat(500_000);
        String sessionId;
        long unsentAtClose;
        int sent = 0;
        try (LogCapture log = LogCapture.of("dev.tether.gateway.pipeline.OutboundGuard");
                RawWebSocket stalled =
                        RawWebSocket.connect(slowReaders.address(), "/ws", slowReaders.token("sleepy"), 4096)) {
            ServerMessage first = CODEC.decodeServer(stalled.readFrame().text());
            sessionId =
                    assertInstanceOf(ServerMessage.SessionReady.class, first).sessionId();
            for (int i = 1; i <= turns; i++) {
                try {
                    stalled.sendText(CODEC.encode(new ClientMessage.Message("t-" + i, TextNode.valueOf(text))));
                    sent = i;
                } catch (SocketException closedMeanwhile) {
                    // On a loaded machine the gateway may give up on this client (the point of the
                    // test) before it has written every message: the rest is not needed.
                    break;
                }
            }
            // From here on the client reads nothing until the gateway has given up on it.
            ILoggingEvent closed = log.await(e -> e.getFormattedMessage().contains("not reading"));
            unsentAtClose = (Long)
                    closed.getArgumentArray()[closed.getFormattedMessage().contains("for ") ? 2 : 1];
            assertTrue(stalled.awaitEndOfStream(), "the gateway closed the connection");
        }
        assertTrue(
                unsentAtClose <= 2L * slowReaders.config().abuse().maxOutboundBytes(),
                "unsent bytes stay near abuse.max_outbound_bytes: " + unsentAtClose);

        String lastTurn = "t-" + sent; // the gateway may have closed before every turn was sent
        assertTrue(sent > 0, "at least one turn was sent before the gateway gave up");
        try (TestClient resumed =
                TestClient.connect(slowReaders.resumeUri(sessionId, 0), slowReaders.token("sleepy"))) {
            assertTrue(resumed.expect(ServerMessage.SessionReady.class).resumed());
            List<ServerMessage> rest = resumed.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText())
                    && lastTurn.equals(e.event().path("id").asText()));
            long expected = -1;
            List<Long> seqs = new ArrayList<>();
            for (ServerMessage message : rest) {
                if (message instanceof ServerMessage.ReplayGap gap) {
                    assertTrue(seqs.isEmpty(), "the gap comes before the replay");
                    assertEquals(1, gap.from());
                    expected = gap.to() + 1;
                } else if (message instanceof ServerMessage.Sequenced sequenced) {
                    if (expected < 0) {
                        expected = 1;
                    }
                    assertEquals(expected, sequenced.seq(), "no seq skipped or repeated");
                    seqs.add(sequenced.seq());
                    expected++;
                }
            }
            if (seqs.isEmpty()) {
                fail("nothing replayed");
            }
        }
    }
}
