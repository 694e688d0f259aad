package dev.tether.gateway.testing;

import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import java.net.URI;
import java.util.List;
import java.util.function.Function;

/**
 * A session moving between two gateway nodes that share a store, as the tests of each kind of
 * Redis deployment check it: the same scenario against a single Redis, a cluster, ...
 */
public final class HandOvers {

    private HandOvers() {}

    /**
     * A user's session on node a ({@code onA}, with {@code tokenA}) runs a slow turn when the user
     * resumes it on node b ({@code resumeOnB}: b's resume URI for a session id, with {@code
     * tokenB}). b asks a to hand the session over, a does once the turn ends: a's connection is
     * replaced (4001), b replays the finished turn with a {@code session_moved} notice from node
     * {@code a}, and b's worker goes on from the checkpoint.
     */
    public static void afterTheRunningTurn(URI onA, String tokenA, Function<String, URI> resumeOnB, String tokenB) {
        try (TestClient clientA = TestClient.connectWithHeader(onA, tokenA)) {
            ServerMessage.SessionReady created = clientA.expect(ServerMessage.SessionReady.class);
            if (created.state() != SessionState.IDLE) { // a cold worker: idle once it is ready
                clientA.until(m -> SessionClient.isStatus(m, SessionState.IDLE));
            }
            clientA.send(new ClientMessage.Message(
                    "slow",
                    JsonNodeFactory.instance
                            .objectNode()
                            .put("text", "abcdef")
                            .put("deltas", 6)
                            .put("delay_ms", 150)));
            clientA.until(m -> m instanceof ServerMessage.Event);

            try (TestClient clientB = TestClient.connectWithHeader(resumeOnB.apply(created.sessionId()), tokenB)) {
                assertEquals(4001, clientA.awaitCloseCode(), "a's connection is replaced");
                assertTrue(clientB.expect(ServerMessage.SessionReady.class).resumed());
                List<ServerMessage> history =
                        clientB.until(m -> m instanceof ServerMessage.Notice n && "worker_restarted".equals(n.code()));
                List<String> tags = SessionClient.tags(history);
                assertTrue(tags.contains("event:result:slow"), "the turn finished on a and b replays it: " + tags);
                assertEquals(
                        6,
                        tags.stream().filter(t -> t.equals("event:delta:slow")).count(),
                        tags::toString);
                assertEquals(
                        "a",
                        notice(history, "session_moved")
                                .details()
                                .path("from_node")
                                .asText());
                clientB.until(m -> SessionClient.isStatus(m, SessionState.IDLE));
                clientB.send(new ClientMessage.Message("next", JsonNodeFactory.instance.textNode("go on")));
                List<ServerMessage> next = clientB.until(m -> SessionClient.isStatus(m, SessionState.IDLE));
                assertEquals(
                        2,
                        SessionClient.event(next, "result").path("turn").asInt(),
                        "the worker went on from the checkpoint");
            }
        }
    }
}
