package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A {@link TestClient} seen as one session's client: reads {@code session_ready} first, checks that
 * every history frame carries exactly the next seq, and names frames compactly
 * ({@link #tag(ServerMessage)}) so a test can assert a whole sequence in one readable line.
 */
public final class SessionClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    public final TestClient ws;
    public final ServerMessage.SessionReady ready;
    private long lastSeq;

    private SessionClient(TestClient ws, long lastSeq) {
        this.ws = ws;
        this.lastSeq = lastSeq;
        ServerMessage first = ws.next();
        this.ready = assertInstanceOf(ServerMessage.SessionReady.class, first, () -> "first frame: " + first);
    }

    /** The id of the session, from its {@code session_ready}. */
    public String sessionId() {
        return ready.sessionId();
    }

    /** The session's {@code session_ready}. */
    public ServerMessage.SessionReady ready() {
        return ready;
    }

    /** A new session of {@code subject}. */
    public static SessionClient open(GatewayExtension gateway, String subject) {
        return open(gateway.uri(), gateway.token(subject));
    }

    /**
     * A new session of {@code subject} that is idle when this returns: if it had to wait for a cold
     * worker ({@code state: preparing}), its {@code status preparing} and {@code status idle} were
     * read. For tests where warm or cold does not matter.
     */
    public static SessionClient openIdle(GatewayExtension gateway, String subject) {
        return openIdle(gateway.uri(), gateway.token(subject));
    }

    /** Like {@link #openIdle(GatewayExtension, String)}, at {@code uri} with {@code token}. */
    public static SessionClient openIdle(URI uri, String token) {
        SessionClient client = open(uri, token);
        if (client.ready.state() != SessionState.IDLE) {
            assertEquals(SessionState.PREPARING, client.ready.state());
            assertEquals(List.of("status:preparing", "status:idle"), tags(client.untilTag("status:idle")));
        }
        return client;
    }

    /**
     * A new session of {@code subject} served by a warm worker: waits until {@code gateway}'s pool
     * has one, then checks the session got it ({@code state: idle}). For tests whose clock starts
     * with the session (first-message timeout, max duration), where a slow cold start would eat
     * into the time measured.
     */
    public static SessionClient openWarm(GatewayExtension gateway, String subject) {
        var pool = gateway.server().pool().orElseThrow();
        Poll.until("a warm worker", pool::status, status -> status.warm() > 0);
        SessionClient client = open(gateway, subject);
        assertEquals(SessionState.IDLE, client.ready.state(), "served by a warm worker");
        return client;
    }

    /** A new session at {@code uri} with {@code token}. */
    public static SessionClient open(URI uri, String token) {
        return new SessionClient(TestClient.connectWithHeader(uri, token), 0);
    }

    /** A new session at {@code uri} with {@code token}, through {@code client} (one set up for {@code wss://}, say). */
    public static SessionClient open(org.glassfish.tyrus.client.ClientManager client, URI uri, String token) {
        return new SessionClient(TestClient.connectWithHeader(client, uri, token), 0);
    }

    /** Resumes {@code sessionId} after {@code lastSeq}. */
    public static SessionClient resume(GatewayExtension gateway, String subject, String sessionId, long lastSeq) {
        return new SessionClient(
                TestClient.connectWithHeader(gateway.resumeUri(sessionId, lastSeq), gateway.token(subject)), lastSeq);
    }

    /**
     * Resumes a session that is expected to be gone: returns the {@code error} the gateway answers
     * with after checking that it closes with 4004.
     */
    public static ServerMessage.ErrorFrame resumeEnded(GatewayExtension gateway, String subject, String sessionId) {
        try (TestClient ws = TestClient.connectWithHeader(gateway.resumeUri(sessionId, 0), gateway.token(subject))) {
            ServerMessage.ErrorFrame error = ws.expect(ServerMessage.ErrorFrame.class);
            assertEquals(4004, ws.awaitCloseCode());
            return error;
        }
    }

    /** The highest seq received so far. */
    public long lastSeq() {
        return lastSeq;
    }

    /** The next frame; a history frame must carry the next seq. */
    public ServerMessage next() {
        ServerMessage m = ws.next();
        if (m instanceof ServerMessage.Sequenced s) {
            assertEquals(lastSeq + 1, s.seq(), () -> "seq out of order: " + m);
            lastSeq = s.seq();
        } else if (m instanceof ServerMessage.ReplayGap gap) {
            assertEquals(lastSeq + 1, gap.from(), () -> "gap does not start after the last seq: " + m);
            lastSeq = gap.to();
        }
        return m;
    }

    public <T extends ServerMessage> T expect(Class<T> type) {
        ServerMessage m = next();
        return assertInstanceOf(type, m, () -> "expected " + type.getSimpleName() + ", got " + m);
    }

    /** Frames up to and including the first that matches {@code last}. */
    public List<ServerMessage> until(Predicate<ServerMessage> last) {
        List<ServerMessage> messages = new ArrayList<>();
        while (true) {
            ServerMessage m = next();
            messages.add(m);
            if (last.test(m)) {
                return messages;
            }
        }
    }

    /** Reads up to the next {@code request} of the worker (contract 7.3) and returns it. */
    public ServerMessage.Request awaitRequest() {
        List<ServerMessage> asked = until(m -> m instanceof ServerMessage.Request);
        return (ServerMessage.Request) asked.get(asked.size() - 1);
    }

    /** Frames up to and including the first that {@link #tag}s as {@code tag}. */
    public List<ServerMessage> untilTag(String tag) {
        return until(m -> tag(m).equals(tag));
    }

    /** Sends message {@code id} with {@code data} given as JSON text. */
    public void send(String id, String jsonData) {
        try {
            ws.send(new ClientMessage.Message(id, JSON.readTree(jsonData)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void send(ClientMessage message) {
        ws.send(message);
    }

    /** Sends {@code id} and checks that it was accepted with queue position {@code queued}. */
    public void sendAccepted(String id, String jsonData, int queued) {
        send(id, jsonData);
        assertEquals(new ServerMessage.Accepted(id, false, queued), expect(ServerMessage.Accepted.class));
    }

    /**
     * Sends {@code id} to an idle session and waits for its turn to end: every frame up to the
     * result and the {@code status idle} after it.
     */
    public List<ServerMessage> roundTrip(String id, String jsonData) {
        sendAccepted(id, jsonData, 0);
        List<ServerMessage> turn = untilTag("status:idle");
        assertEquals("status:processing", tag(turn.get(0)), () -> tags(turn).toString());
        assertEquals(
                "event:result:" + id,
                tag(turn.get(turn.size() - 2)),
                () -> tags(turn).toString());
        return turn;
    }

    /** The first event of type {@code type} in {@code messages}. */
    public static JsonNode event(List<ServerMessage> messages, String type) {
        return firstEvent(messages, type).event();
    }

    /** The seq of the first event {@code type} in {@code messages}. */
    public static long seqOfEvent(List<ServerMessage> messages, String type) {
        return firstEvent(messages, type).seq();
    }

    private static ServerMessage.Event firstEvent(List<ServerMessage> messages, String type) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Event e
                        && type.equals(e.event().path("type").asText()))
                .map(m -> (ServerMessage.Event) m)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no event " + type + " in " + tags(messages)));
    }

    /** The first notice {@code code} in {@code messages}. */
    public static ServerMessage.Notice notice(List<ServerMessage> messages, String code) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Notice n && n.code().equals(code))
                .map(ServerMessage.Notice.class::cast)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no notice " + code + " in " + tags(messages)));
    }

    /**
     * A compact name of a frame: {@code status:restarting:crash}, {@code notice:worker_crashed},
     * {@code event:delta:m1}, {@code accepted:m2:1}, {@code error:session_expired},
     * {@code request:m1-ask-1}, {@code request_resolved:m1-ask-1:answered}, ...
     */
    public static String tag(ServerMessage m) {
        if (m instanceof ServerMessage.Status s) {
            return "status:" + s.state().wire() + (s.reason() == null ? "" : ":" + s.reason());
        }
        if (m instanceof ServerMessage.Notice n) {
            return "notice:" + n.code();
        }
        if (m instanceof ServerMessage.Event e) {
            String id = e.event().path("id").asText("");
            return "event:" + e.event().path("type").asText() + (id.isEmpty() ? "" : ":" + id);
        }
        if (m instanceof ServerMessage.Accepted a) {
            return "accepted:" + a.id() + ":" + a.queued() + (a.duplicate() ? ":duplicate" : "");
        }
        if (m instanceof ServerMessage.ErrorFrame e) {
            return "error:" + e.code().wire();
        }
        if (m instanceof ServerMessage.Request r) {
            return "request:" + r.requestId();
        }
        if (m instanceof ServerMessage.RequestResolved r) {
            return "request_resolved:" + r.requestId() + ":" + r.outcome().wire();
        }
        return m.getClass().getSimpleName();
    }

    public static List<String> tags(List<ServerMessage> messages) {
        return messages.stream().map(SessionClient::tag).toList();
    }

    /** The tags of the history frames only (no {@code accepted}, {@code pong} ...). */
    public static List<String> historyTags(List<ServerMessage> messages) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Sequenced)
                .map(SessionClient::tag)
                .toList();
    }

    /** Whether the status frame {@code m} is in state {@code state}. */
    public static boolean isStatus(ServerMessage m, SessionState state) {
        return m instanceof ServerMessage.Status s && s.state() == state;
    }

    @Override
    public void close() {
        ws.close();
    }
}
