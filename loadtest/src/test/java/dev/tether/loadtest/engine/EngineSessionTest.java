package dev.tether.loadtest.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.loadtest.audit.SessionAudit;
import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.EndOutcome;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.RunStats.Metric;
import dev.tether.loadtest.token.TokenSource;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A session's frame handling, driven frame by frame through a fake connection on an embedded event
 * loop: what it writes, what it records, how it resumes and ends.
 */
class EngineSessionTest {

    private static final WireCodec CODEC = new WireCodec();
    private static final long MS = 1_000_000;

    private EmbeddedChannel channel;
    private final List<Opened> opens = new ArrayList<>();
    private RunStats stats;

    /** One connection the session asked for. */
    private static final class Opened implements Link {
        final URI uri;
        final String bearer;
        final Link.Listener listener;
        final List<String> sent = new ArrayList<>();
        int closedWith = -1;
        boolean aborted;

        Opened(URI uri, String bearer, Link.Listener listener) {
            this.uri = uri;
            this.bearer = bearer;
            this.listener = listener;
        }

        @Override
        public void send(String text) {
            sent.add(text);
        }

        @Override
        public void close(int code) {
            closedWith = code;
        }

        @Override
        public void abort() {
            aborted = true;
        }

        JsonNode last() {
            return CODEC.mapper().valueToTree(parse(sent.get(sent.size() - 1)));
        }
    }

    private static JsonNode parse(String text) {
        try {
            return CODEC.mapper().readTree(text);
        } catch (Exception e) {
            throw new AssertionError(text, e);
        }
    }

    @BeforeEach
    void loop() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        stats = new RunStats();
        stats.begin(0, 0);
    }

    @AfterEach
    void finish() {
        assertFalse(channel.finish());
    }

    private EngineSession session(Dialect dialect, int ackEvery) {
        TokenSource tokens = new TokenSource() {
            @Override
            public String token(int index, String subject) {
                return "token-" + subject;
            }

            @Override
            public boolean canMint() {
                return true;
            }
        };
        // The in-process echo worker with one delta: the audit predicts "<text>" then result "<text>".
        ClientSettings settings = ClientSettings.plain(
                URI.create("ws://127.0.0.1:9/ws"), tokens, stats, ackEvery, Duration.ofSeconds(5), TurnModel.echo(1));
        EngineSession.Connector connector =
                (EventLoop l, URI uri, String bearer, Duration timeout, Link.Listener listener) ->
                        opens.add(new Opened(uri, bearer, listener));
        return new EngineSession(0, "alice", settings, dialect, channel.eventLoop(), connector);
    }

    /**
     * Connects {@code session} and answers its upgrade as the gateway does for a new session S1 that
     * is idle: with {@code session_ready}, which completes the connect.
     */
    private Opened connectNew(EngineSession session) {
        CompletableFuture<Void> ready = session.connect();
        Opened opened = open();
        frame(opened, new ServerMessage.SessionReady("S1", false, 0, 0, SessionState.IDLE), 1 * MS);
        assertTrue(ready.isDone() && !ready.isCompletedExceptionally(), "connected with session_ready");
        return opened;
    }

    private Opened open() {
        channel.runPendingTasks();
        channel.runScheduledPendingTasks();
        Opened c = opens.get(opens.size() - 1);
        c.listener.opened(c);
        return c;
    }

    private static void frame(Opened c, ServerMessage message, long nanos) {
        c.listener.frame(CODEC.encode(message), nanos);
    }

    private static ObjectNode event(String type, String id, String text) {
        return CODEC.mapper().createObjectNode().put("type", type).put("id", id).put("text", text);
    }

    private static SessionAudit audit(EngineSession session) {
        List<SessionAudit> sessions = session.audit().sessions();
        assertEquals(1, sessions.size(), "one session per engine user");
        return sessions.get(0);
    }

    @Test
    void aTurnIsSentAckedAuditedAndMeasuredAndEndEndsTheSession() throws Exception {
        EngineSession session = session(Dialect.TETHER, 2);
        CompletableFuture<Void> ready = session.connect();
        Opened c = open();
        assertEquals("ws://127.0.0.1:9/ws", c.uri.toString());
        assertEquals("token-alice", c.bearer, "a bearer token on the upgrade");
        assertFalse(ready.isDone(), "ready only with session_ready");
        frame(c, new ServerMessage.SessionReady("S1", false, 0, 0, SessionState.IDLE), 1 * MS);
        assertTrue(ready.isDone());
        assertEquals(1, stats.histogram(Metric.READY_WARM).getTotalCount());
        assertTrue(session.workerReady());
        assertEquals("ping", c.last().path("type").asText(), "a ping after session_ready: its pong closes the replay");
        frame(c, new ServerMessage.Pong(), 2 * MS);

        session.send("m1", TextNode.valueOf("hello"), 10 * MS);
        JsonNode message = c.last();
        assertEquals("message", message.path("type").asText());
        assertEquals("m1", message.path("id").asText());
        assertEquals("hello", message.path("data").asText());
        CompletableFuture<Boolean> answered = session.whenAnswered();
        assertFalse(answered.isDone());

        frame(c, new ServerMessage.Accepted("m1", false, 0), 11 * MS);
        frame(c, new ServerMessage.Status(1, SessionState.PROCESSING, null), 11 * MS);
        frame(c, new ServerMessage.Event(2, event("delta", "m1", "hello")), 12 * MS);
        assertEquals("{\"type\":\"ack\",\"seq\":2}", c.sent.get(c.sent.size() - 1), "an ack after 2 new seqs");
        frame(c, new ServerMessage.Event(3, event("result", "m1", "hello")), 14 * MS);
        frame(c, new ServerMessage.Status(4, SessionState.IDLE, null), 14 * MS);
        assertEquals("{\"type\":\"ack\",\"seq\":4}", c.sent.get(c.sent.size() - 1));
        assertTrue(answered.getNow(false));
        assertEquals(
                4_000.0,
                (double) stats.histogram(Metric.ROUND_TRIP).getMaxValue(),
                4.0,
                "from 10 ms (scheduled) to 14 ms");
        assertEquals(2_000.0, (double) stats.histogram(Metric.FIRST_EVENT).getMaxValue(), 2.0);

        CompletableFuture<EndOutcome> end = session.end();
        assertEquals("{\"type\":\"end\"}", c.sent.get(c.sent.size() - 1));
        frame(c, new ServerMessage.Status(5, SessionState.ENDED, "client_end"), 20 * MS);
        c.listener.closed(1000);
        assertEquals(EndOutcome.ENDED, end.getNow(null));
        assertTrue(session.ended());
        session.close().get();
        assertEquals(5, audit(session).events());
        assertEquals(1, audit(session).answeredTurns());
        assertEquals(
                0, audit(session).violationCount(), audit(session).violations().toString());
        assertEquals(0, stats.errorCount(), stats.errors().toString());
        assertEquals(8, session.framesIn());
    }

    @Test
    void aCutSessionResumesWithItsLastSeqAndResendsWhatWasNotAccepted() throws Exception {
        EngineSession session = session(Dialect.TETHER, 0);
        Opened first = connectNew(session);
        frame(first, new ServerMessage.Status(1, SessionState.IDLE, null), 2 * MS);
        session.send("m1", TextNode.valueOf("lost in the cut"), 3 * MS);

        session.cut(false, Duration.ZERO);
        assertEquals(1000, first.closedWith, "a clean close");
        first.listener.closed(1000);
        Opened second = open();
        assertEquals("ws://127.0.0.1:9/ws?session=S1&last_seq=1", second.uri.toString());
        CompletableFuture<Boolean> caughtUp = session.whenCaughtUp();
        frame(second, new ServerMessage.SessionReady("S1", true, 3, 0, SessionState.PROCESSING), 10 * MS);
        assertEquals("m1", second.last().path("id").asText(), "m1 was never accepted: sent again under its id");
        frame(second, new ServerMessage.Status(2, SessionState.PROCESSING, null), 11 * MS);
        frame(second, new ServerMessage.Event(3, event("delta", "m1", "lost in the cut")), 11 * MS);
        frame(second, new ServerMessage.Pong(), 11 * MS);
        frame(second, new ServerMessage.Accepted("m1", true, 0), 11 * MS);
        assertFalse(caughtUp.isDone(), "replayed, but m1 has no result yet");
        frame(second, new ServerMessage.Event(4, event("result", "m1", "lost in the cut")), 12 * MS);
        assertTrue(caughtUp.getNow(false));
        assertEquals(1, stats.counter("resumes"));
        assertEquals(2, stats.counter("missed_events"));
        assertEquals(1, stats.counter("resent"));
        assertEquals(1, stats.histogram(Metric.RESUME).getTotalCount());
        first.listener.frame(CODEC.encode(new ServerMessage.Event(9, event("delta", "m1", "x"))), 13 * MS);
        assertEquals(4, audit(session).lastProcessed(), "frames of the old connection are ignored");
        session.close().get();
        assertEquals(1, audit(session).resumes());
        assertEquals(
                0, audit(session).violationCount(), audit(session).violations().toString());
        assertEquals(0, stats.errorCount(), stats.errors().toString());
    }

    @Test
    void anAbruptCutAbortsTheConnectionInsteadOfClosingIt() {
        EngineSession session = session(Dialect.TETHER, 0);
        CompletableFuture<Void> ready = session.connect();
        Opened c = open();
        frame(c, new ServerMessage.SessionReady("S1", false, 0, 0, SessionState.IDLE), 1 * MS);
        frame(c, new ServerMessage.Status(1, SessionState.IDLE, null), 2 * MS);
        assertTrue(ready.isDone() && !ready.isCompletedExceptionally(), "connected with session_ready");

        session.cut(true, Duration.ofSeconds(1));
        assertTrue(c.aborted, "a TCP close");
        assertEquals(-1, c.closedWith, "no close frame");
        assertEquals(1, stats.counter("cuts_abrupt"));
    }

    @Test
    void anUnexpectedCloseAndAnErrorFrameAreCountedAsErrors() {
        EngineSession session = session(Dialect.TETHER, 0);
        Opened c = connectNew(session);
        session.send("m1", TextNode.valueOf("x"), 2 * MS);
        c.listener.frame(CODEC.encode(new ServerMessage.ErrorFrame(ErrorCode.QUEUE_FULL, "full", "m1", null)), 3 * MS);
        assertTrue(session.whenAnswered().getNow(false), "a refused message is answered: no result will come");
        c.listener.frame("not json", 4 * MS);
        c.listener.closed(1011);
        assertTrue(session.ended(), "no resume without resume-on-drop");
        assertEquals(1, stats.errors().get("error_queue_full"));
        assertEquals(1, stats.errors().get("undecodable_frame"));
        assertEquals(1, stats.errors().get("close_1011"));
        assertTrue(session.close().isDone(), "closed on the loop at once");
    }

    @Test
    void aRefusedUpgradeFailsTheConnectWithItsStatus() {
        EngineSession session = session(Dialect.TETHER, 0);
        CompletableFuture<Void> ready = session.connect();
        channel.runPendingTasks();
        opens.get(0).listener.refused(429, new IllegalStateException("too many"));
        ExecutionException e = assertThrows(ExecutionException.class, ready::get);
        assertEquals(429, ((Refusal) e.getCause()).status());
        assertTrue(session.close().isDone(), "closed on the loop at once");
    }

    @Test
    void linesDialectSendsTheWorkersMessageLineAndReadsItsEventLines() throws Exception {
        EngineSession session = session(Dialect.LINES, 64);
        CompletableFuture<Void> ready = session.connect();
        Opened c = open();
        assertNull(c.bearer, "websocketd gets no token");
        assertTrue(ready.isDone(), "the connection is the session");
        session.send("m1", TextNode.valueOf("abc"), 5 * MS);
        assertEquals(
                "{\"type\":\"message\",\"id\":\"m1\",\"data\":\"abc\"}",
                c.sent.get(0),
                "the same bytes as the gateway's message line to its worker");
        c.listener.frame("{\"type\":\"delta\",\"id\":\"m1\",\"text\":\"a\"}", 6 * MS);
        c.listener.frame("{\"type\":\"result\",\"id\":\"m1\",\"text\":\"abc\"}", 8 * MS);
        assertEquals(3_000.0, (double) stats.histogram(Metric.ROUND_TRIP).getMaxValue(), 3.0);
        assertEquals(1, stats.resultCount());
        CompletableFuture<EndOutcome> end = session.end();
        assertEquals(1000, c.closedWith, "ending a websocketd session is closing its connection");
        c.listener.closed(1000);
        assertTrue(end.getNow(null).ended());
        session.close().get();
        assertEquals(1, c.sent.size(), "no ack, no ping, no end frame");
        assertEquals(0, audit(session).events(), "lines carry no seq: measured, not audited");
        assertEquals(
                0, audit(session).violationCount(), audit(session).violations().toString());
    }

    @Test
    void aResumeWhosePongComesBeforeItsWholeReplayIsAShortTail() throws Exception {
        EngineSession session = session(Dialect.TETHER, 0);
        Opened first = connectNew(session);
        frame(first, new ServerMessage.Status(1, SessionState.IDLE, null), 2 * MS);
        session.cut(true, Duration.ZERO);
        first.listener.closed(1006);
        Opened second = open();
        frame(second, new ServerMessage.SessionReady("S1", true, 3, 0, SessionState.IDLE), 10 * MS);
        frame(second, new ServerMessage.Status(2, SessionState.PROCESSING, null), 11 * MS);
        frame(second, new ServerMessage.Pong(), 12 * MS);
        session.close().get();
        assertEquals(
                1,
                audit(session).violationKinds().get("short_tail"),
                audit(session).violations().toString());
    }

    @Test
    void aTurnThatDoesNotAnswerAsTheWorkerWouldIsAViolation() throws Exception {
        EngineSession session = session(Dialect.TETHER, 0);
        Opened c = connectNew(session);
        session.send("m1", TextNode.valueOf("hello"), 2 * MS);
        frame(c, new ServerMessage.Accepted("m1", false, 0), 3 * MS);
        frame(c, new ServerMessage.Event(1, event("delta", "m1", "hellO")), 4 * MS);
        frame(c, new ServerMessage.Event(2, event("result", "m1", "hello")), 5 * MS);
        session.close().get();
        assertTrue(audit(session).violationCount() > 0, "a delta the echo worker cannot have written");
    }
}
