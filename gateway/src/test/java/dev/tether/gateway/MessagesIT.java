package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.Bytes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Contract sections 2 and 4 over real sockets: messages and turns, queueing, idempotency, acks, bad
 * input, frame limits and close codes, and that one abusive client cannot disturb another session.
 * Every history frame read through {@link Client} is checked to carry exactly the next seq.
 */
class MessagesIT {

    /** Fast turns (3 deltas, no pause) and a small frame limit: bad input, close codes, isolation. */
    @RegisterExtension
    static final GatewayExtension fast = GatewayExtension.withConfig("""
            server:
              max_frame_bytes: 2048
            """);

    /** Turns of 5 deltas 50 ms apart, and a queue of 2: round trips, queueing, idempotency. */
    @RegisterExtension
    static final GatewayExtension paced = GatewayExtension.withConfig("""
            sessions:
              max_queued_messages: 2
            worker:
              echo:
                deltas: 5
                delta_interval: 50ms
            """);

    /**
     * Turns that would take 20 s (first delta at once, the next after 10 s) and no queue: a turn is
     * certainly still running when the test acts, and every test ends its turn with an interrupt.
     */
    @RegisterExtension
    static final GatewayExtension stalled = GatewayExtension.withConfig("""
            sessions:
              max_queued_messages: 0
            worker:
              echo:
                deltas: 3
                delta_interval: 10s
            """);

    /** Like {@link #stalled}, with a queue of 2: queueing without any timing assumption. */
    @RegisterExtension
    static final GatewayExtension stalledQueue = GatewayExtension.withConfig("""
            sessions:
              max_queued_messages: 2
            worker:
              echo:
                deltas: 3
                delta_interval: 10s
            """);

    private static final int FAST_DELTAS = 3;
    private static final int PACED_DELTAS = 5;
    private static final int FRAME_LIMIT = 2048;
    private static final WireCodec CODEC = new WireCodec();
    private static final AtomicInteger USERS = new AtomicInteger();

    // --- messages and turns ---

    @Test
    void messageRoundTrip() {
        try (Client c = Client.open(paced, user())) {
            assertFalse(c.ready.resumed());
            assertEquals(0, c.ready.lastSeq());
            assertEquals(SessionState.IDLE, c.ready.state());
            assertEquals(22, c.ready.sessionId().length());

            c.send(message("m-1", "hello, tether"));
            assertEquals(new ServerMessage.Accepted("m-1", false, 0), c.next());
            assertEquals(new ServerMessage.Status(1, SessionState.PROCESSING, null), c.next());
            StringBuilder streamed = new StringBuilder();
            for (int i = 0; i < PACED_DELTAS; i++) {
                JsonNode delta = c.expectEvent();
                assertEquals("delta", delta.get("type").textValue());
                assertEquals("m-1", delta.get("id").textValue());
                streamed.append(delta.get("text").textValue());
            }
            assertEquals("hello, tether", streamed.toString());
            JsonNode result = c.expectEvent();
            assertEquals("result", result.get("type").textValue());
            assertEquals("m-1", result.get("id").textValue());
            assertEquals("hello, tether", result.get("text").textValue());
            assertFalse(result.has("interrupted"));
            assertEquals(new ServerMessage.Status(PACED_DELTAS + 3, SessionState.IDLE, null), c.next());
            c.assertQuiet();
        }
    }

    @Test
    void pingIsAnsweredWithPong() {
        try (Client c = Client.open(fast, user())) {
            for (int i = 0; i < 3; i++) {
                c.send(new ClientMessage.Ping());
                assertInstanceOf(ServerMessage.Pong.class, c.next());
            }
            assertEquals(0, c.lastSeq(), "a ping is not history");
        }
    }

    @Test
    void interruptEndsARunningTurnWithAnInterruptedResult() {
        try (Client c = Client.open(stalled, user())) {
            assertEquals("a", c.startTurn("m-1", "abc").get("text").textValue());

            c.interruptTurnInProgress("m-1");
            c.assertQuiet();

            // The session takes the next message normally.
            c.send(message("m-2", "xyz"));
            assertEquals(new ServerMessage.Accepted("m-2", false, 0), c.next());
            c.interruptTurn("m-2");
        }
    }

    @Test
    void interruptWhenIdleIsHarmless() {
        try (Client c = Client.open(fast, user())) {
            c.send(new ClientMessage.Interrupt());
            c.assertQuiet();
            c.roundTrip("m-1", "after an idle interrupt", FAST_DELTAS);
            c.send(new ClientMessage.Interrupt());
            c.send(new ClientMessage.Interrupt());
            c.assertQuiet();
            c.roundTrip("m-2", "still fine", FAST_DELTAS);
        }
    }

    // --- queueing ---

    @Test
    void messagesDuringATurnAreQueuedInOrderUpToTheBound() {
        try (Client c = Client.open(stalledQueue, user())) {
            assertEquals("m-1", c.startTurn("m-1", "abc").get("id").textValue());
            // m-1's turn now waits 10 s for its next delta: everything below happens during it.
            for (int i = 2; i <= 4; i++) {
                c.send(message("m-" + i, "text " + i));
            }
            assertEquals(new ServerMessage.Accepted("m-2", false, 1), c.next());
            assertEquals(new ServerMessage.Accepted("m-3", false, 2), c.next());
            ServerMessage.ErrorFrame full = c.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.QUEUE_FULL, full.code());
            assertEquals("m-4", full.id());

            // Each interrupt ends one turn; the next queued message starts at once, in order.
            for (String id : List.of("m-1", "m-2", "m-3")) {
                if (!id.equals("m-1")) {
                    JsonNode first = c.expectEvent();
                    assertEquals("delta", first.get("type").textValue());
                    assertEquals(id, first.get("id").textValue(), "turns run in queue order and never interleave");
                }
                c.send(new ClientMessage.Interrupt());
                JsonNode result = c.expectEvent();
                assertEquals("result", result.get("type").textValue());
                assertEquals(id, result.get("id").textValue());
            }
            assertEquals(SessionState.IDLE, c.expect(ServerMessage.Status.class).state());

            // The refused id was not taken: sent again it is a new message, not a duplicate.
            c.send(message("m-4", "text 4"));
            assertEquals(new ServerMessage.Accepted("m-4", false, 0), c.next());
            c.interruptTurn("m-4");
        }
    }

    @Test
    void withoutAQueueAMessageDuringATurnIsSessionBusy() {
        try (Client c = Client.open(stalled, user())) {
            assertEquals("a", c.startTurn("m-1", "abc").get("text").textValue());

            c.send(message("m-2", "def"));
            ServerMessage.ErrorFrame busy = c.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.SESSION_BUSY, busy.code());
            assertEquals("m-2", busy.id());
            c.assertQuiet();

            c.interruptTurnInProgress("m-1");
            // Refused, so not remembered: once idle, the same id is taken.
            c.send(message("m-2", "def"));
            assertEquals(new ServerMessage.Accepted("m-2", false, 0), c.next());
            c.interruptTurn("m-2");
        }
    }

    // --- idempotency ---

    @Test
    void aResentIdOnTheSameConnectionIsADuplicateAndNotRunAgain() {
        try (Client c = Client.open(paced, user())) {
            c.send(message("m-1", "once"));
            c.send(message("m-1", "once"));
            List<ServerMessage> turn = c.until(MessagesIT::isIdle);
            assertEquals(
                    List.of(new ServerMessage.Accepted("m-1", false, 0), new ServerMessage.Accepted("m-1", true, 0)),
                    turn.stream()
                            .filter(ServerMessage.Accepted.class::isInstance)
                            .toList());
            assertEquals(1, countResults(turn, "m-1"));

            // After the turn, too: answered at once, nothing runs.
            c.send(message("m-1", "once"));
            assertEquals(new ServerMessage.Accepted("m-1", true, 0), c.next());
            c.assertQuiet();
        }
    }

    @Test
    void aResentIdAfterReconnectAndResumeIsADuplicateAndNotRunAgain() {
        String subject = user();
        String sessionId;
        long lastSeq;
        try (Client c = Client.open(paced, subject)) {
            sessionId = c.ready.sessionId();
            c.roundTrip("m-1", "first", PACED_DELTAS);
            // m-2 is taken, then the connection drops before the client has seen anything about it.
            c.send(message("m-2", "second"));
            lastSeq = c.lastSeq();
        }
        try (Client c = Client.resume(paced, subject, sessionId, lastSeq)) {
            assertTrue(c.ready.resumed());
            c.send(message("m-1", "first"));
            c.send(message("m-2", "second"));
            // m-2's turn may be replayed, still running, or both; read until both answers are in and
            // the session has gone idle after m-2's result.
            List<ServerMessage> seen = new ArrayList<>();
            List<ServerMessage> accepted = new ArrayList<>();
            boolean resultSeen = false;
            boolean idleAfterResult = false;
            while (accepted.size() < 2 || !idleAfterResult) {
                ServerMessage m = c.next();
                seen.add(m);
                if (m instanceof ServerMessage.Accepted) {
                    accepted.add(m);
                }
                resultSeen |= isResult(m, "m-2");
                idleAfterResult |= resultSeen && isIdle(m);
            }
            assertEquals(
                    List.of(new ServerMessage.Accepted("m-1", true, 0), new ServerMessage.Accepted("m-2", true, 0)),
                    accepted);
            assertEquals(1, countResults(seen, "m-2"));
            assertEquals(0, countResults(seen, "m-1"));
            c.assertQuiet();
        }
        // The whole history, replayed from the start: each id ran exactly once.
        try (Client c = Client.resume(paced, subject, sessionId, 0)) {
            List<ServerMessage> history = new ArrayList<>();
            while (c.lastSeq() < c.ready.lastSeq()) {
                history.add(c.next());
            }
            assertEquals(1, countResults(history, "m-1"));
            assertEquals(1, countResults(history, "m-2"));
            c.assertQuiet();
        }
    }

    // --- ack ---

    @Test
    void ackTrimsSilentlyAndIsCheckedAgainstTheNewestSeq() {
        String subject = user();
        String sessionId;
        try (Client c = Client.open(fast, subject)) {
            sessionId = c.ready.sessionId();
            c.roundTrip("m-1", "acked in part", FAST_DELTAS);
            long newest = c.lastSeq();
            assertEquals(FAST_DELTAS + 3, newest);

            c.send(new ClientMessage.Ack(3));
            c.send(new ClientMessage.Ack(3));
            c.send(new ClientMessage.Ack(1));
            c.send(new ClientMessage.Ack(0));
            c.assertQuiet();

            c.send(new ClientMessage.Ack(newest + 1));
            ServerMessage.ErrorFrame beyond = c.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.INVALID_SEQUENCE, beyond.code());
            assertNull(beyond.id());
            c.assertQuiet();

            for (String bad : List.of(
                    "{\"type\":\"ack\",\"seq\":-1}",
                    "{\"type\":\"ack\",\"seq\":\"3\"}",
                    "{\"type\":\"ack\",\"seq\":1.5}",
                    "{\"type\":\"ack\",\"seq\":1e3}",
                    "{\"type\":\"ack\",\"seq\":9223372036854775808}",
                    "{\"type\":\"ack\",\"seq\":null}",
                    "{\"type\":\"ack\"}")) {
                c.sendText(bad);
                ServerMessage.ErrorFrame error = c.expect(ServerMessage.ErrorFrame.class);
                assertEquals(ErrorCode.INVALID_FIELD, error.code(), bad);
                c.assertQuiet();
            }
            c.roundTrip("m-2", "still works", FAST_DELTAS);
        }
        // The ack really trimmed: a resume from 0 learns that 1..3 are gone and gets 4 onwards.
        try (Client c = Client.resume(fast, subject, sessionId, 0)) {
            assertEquals(new ServerMessage.ReplayGap(1, 3), c.next());
            while (c.lastSeq() < c.ready.lastSeq()) {
                c.next();
            }
            c.assertQuiet();
        }
    }

    // --- bad input ---

    static Stream<Arguments> badFrames() {
        String id257 = "i".repeat(257);
        return Stream.of(
                Arguments.of("not JSON", "hello", ErrorCode.INVALID_JSON),
                Arguments.of(
                        "truncated JSON",
                        "{\"type\":\"message\",\"id\":\"t\",\"data\":{\"text\":",
                        ErrorCode.INVALID_JSON),
                Arguments.of("empty frame", "", ErrorCode.INVALID_JSON),
                Arguments.of("JSON array", "[{\"type\":\"ping\"}]", ErrorCode.INVALID_JSON),
                Arguments.of("JSON scalar", "42", ErrorCode.INVALID_JSON),
                Arguments.of("trailing data", "{\"type\":\"ping\"} {\"type\":\"ping\"}", ErrorCode.INVALID_JSON),
                Arguments.of(
                        "duplicate top-level key", "{\"type\":\"ping\",\"type\":\"ping\"}", ErrorCode.INVALID_JSON),
                Arguments.of(
                        "duplicate nested key",
                        "{\"type\":\"message\",\"id\":\"dup\",\"data\":{\"a\":1,\"a\":2}}",
                        ErrorCode.INVALID_JSON),
                Arguments.of("nesting of 65", nested(65), ErrorCode.INVALID_JSON),
                Arguments.of(
                        "number literal of 65 digits",
                        "{\"type\":\"message\",\"id\":\"num\",\"data\":1" + "0".repeat(64) + "}",
                        ErrorCode.INVALID_JSON),
                Arguments.of("unknown type", "{\"type\":\"teleport\"}", ErrorCode.UNKNOWN_TYPE),
                Arguments.of("missing type", "{\"id\":\"x\",\"data\":\"y\"}", ErrorCode.INVALID_FIELD),
                Arguments.of("type not a string", "{\"type\":7}", ErrorCode.INVALID_FIELD),
                Arguments.of("message without id", "{\"type\":\"message\",\"data\":\"x\"}", ErrorCode.INVALID_FIELD),
                Arguments.of("empty id", "{\"type\":\"message\",\"id\":\"\",\"data\":\"x\"}", ErrorCode.INVALID_FIELD),
                Arguments.of(
                        "id of 257 characters",
                        "{\"type\":\"message\",\"id\":\"" + id257 + "\",\"data\":\"x\"}",
                        ErrorCode.INVALID_FIELD),
                Arguments.of("id a number", "{\"type\":\"message\",\"id\":5,\"data\":\"x\"}", ErrorCode.INVALID_FIELD),
                Arguments.of(
                        "id an object",
                        "{\"type\":\"message\",\"id\":{\"a\":1},\"data\":\"x\"}",
                        ErrorCode.INVALID_FIELD),
                Arguments.of("ack seq a string", "{\"type\":\"ack\",\"seq\":\"1\"}", ErrorCode.INVALID_FIELD),
                Arguments.of(
                        "auth_refresh token a number",
                        "{\"type\":\"auth_refresh\",\"token\":1}",
                        ErrorCode.INVALID_FIELD));
    }

    @Test
    void everyBadFrameIsAnsweredAndTheSessionGoesOn() {
        try (Client c = Client.open(fast, user())) {
            int n = 0;
            for (Arguments bad : badFrames().toList()) {
                String label = (String) bad.get()[0];
                c.sendText((String) bad.get()[1]);
                ServerMessage.ErrorFrame error = c.expect(ServerMessage.ErrorFrame.class);
                assertEquals(bad.get()[2], error.code(), label);
                assertNull(error.id(), label + ": an undecodable frame has no id to refer to");
                assertTrue(c.ws.isOpen(), label);
                c.roundTrip("good-" + ++n, "after " + label, FAST_DELTAS);
            }
            c.ws.sendBinary(new byte[] {'{', '}'});
            ServerMessage.ErrorFrame binary = c.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.BINARY_NOT_SUPPORTED, binary.code());
            assertTrue(c.ws.isOpen());
            c.roundTrip("good-binary", "after a binary frame", FAST_DELTAS);
            // Nothing bad reached the worker: only the good messages ran.
            assertEquals((long) (n + 1) * (FAST_DELTAS + 3), c.lastSeq());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFrames")
    void eachBadFrameAloneIsAnsweredWithItsCode(String label, String frame, ErrorCode code) {
        try (Client c = Client.open(fast, user())) {
            c.sendText(frame);
            assertEquals(code, c.expect(ServerMessage.ErrorFrame.class).code());
            c.send(new ClientMessage.Ping());
            assertInstanceOf(ServerMessage.Pong.class, c.next());
        }
    }

    @Test
    void limitsAreInclusive() {
        try (Client c = Client.open(fast, user())) {
            String id256 = "i".repeat(256);
            c.sendText("{\"type\":\"message\",\"id\":\"" + id256 + "\",\"data\":\"x\"}");
            assertEquals(new ServerMessage.Accepted(id256, false, 0), c.next());
            c.until(MessagesIT::isIdle);

            c.sendText(nested(64));
            assertEquals(new ServerMessage.Accepted("deep", false, 0), c.next());
            c.until(MessagesIT::isIdle);

            c.sendText("{\"type\":\"message\",\"id\":\"num\",\"data\":1" + "0".repeat(63) + "}");
            assertEquals(new ServerMessage.Accepted("num", false, 0), c.next());
            c.until(MessagesIT::isIdle);

            // Unknown fields are ignored; data may be omitted.
            c.sendText("{\"type\":\"message\",\"id\":\"extra\",\"from_the_future\":true}");
            assertEquals(new ServerMessage.Accepted("extra", false, 0), c.next());
            c.until(MessagesIT::isIdle);
        }
    }

    // --- frame limits and close codes ---

    @Test
    void aFrameOverTheLimitClosesWith1009AndTheSessionSurvives() {
        String subject = user();
        try (Client bystander = Client.open(fast, user())) {
            String sessionId;
            long lastSeq;
            try (Client c = Client.open(fast, subject)) {
                sessionId = c.ready.sessionId();
                c.roundTrip("m-1", "before", FAST_DELTAS);
                lastSeq = c.lastSeq();
                c.sendText(messageText("big", "x".repeat(FRAME_LIMIT)));
                assertEquals(1009, c.ws.awaitCloseCode());
            }
            bystander.roundTrip("b-1", "unaffected", FAST_DELTAS);
            try (Client again = Client.resume(fast, subject, sessionId, lastSeq)) {
                assertTrue(again.ready.resumed());
                assertEquals(lastSeq, again.ready.lastSeq(), "the oversized frame reached nothing");
                again.roundTrip("m-2", "after", FAST_DELTAS);
            }
        }
    }

    @Test
    void aFragmentedMessageWithinTheLimitIsReassembled() {
        try (Client c = Client.open(fast, user())) {
            String text = "y".repeat(FRAME_LIMIT - 200);
            String json = messageText("frag", text);
            assertTrue(json.length() <= FRAME_LIMIT);
            int third = json.length() / 3;
            c.ws.sendPartial(json.substring(0, third), false);
            c.ws.sendPartial(json.substring(third, 2 * third), false);
            c.ws.sendPartial(json.substring(2 * third), true);
            assertEquals(new ServerMessage.Accepted("frag", false, 0), c.next());
            List<ServerMessage> turn = c.until(MessagesIT::isIdle);
            JsonNode result = ((ServerMessage.Event) turn.get(turn.size() - 2)).event();
            assertEquals(text, result.get("text").textValue());
        }
    }

    @Test
    void aMessageOfExactlyTheLimitIsTakenWholeOrInFragments() {
        try (Client c = Client.open(fast, user())) {
            String whole = messageOfLength("exact", FRAME_LIMIT);
            c.sendText(whole);
            assertEquals(new ServerMessage.Accepted("exact", false, 0), c.next());
            c.until(MessagesIT::isIdle);

            String fragmented = messageOfLength("exact-fragments", FRAME_LIMIT);
            c.ws.sendPartial(fragmented.substring(0, 1000), false);
            c.ws.sendPartial(fragmented.substring(1000), true);
            assertEquals(new ServerMessage.Accepted("exact-fragments", false, 0), c.next());
            c.until(MessagesIT::isIdle);
        }
    }

    @Test
    void aFragmentedMessageOverTheLimitClosesWith1009() {
        String subject = user();
        String sessionId;
        try (Client c = Client.open(fast, subject)) {
            sessionId = c.ready.sessionId();
            String json = messageText("frag", "z".repeat(FRAME_LIMIT));
            int half = json.length() / 2;
            assertTrue(half < FRAME_LIMIT, "each fragment alone is within the limit");
            c.ws.sendPartial(json.substring(0, half), false);
            c.ws.sendPartial(json.substring(half), true);
            assertEquals(1009, c.ws.awaitCloseCode());
        }
        try (Client again = Client.resume(fast, subject, sessionId, 0)) {
            assertEquals(0, again.ready.lastSeq());
            again.roundTrip("m-1", "after", FAST_DELTAS);
        }
    }

    @Test
    void textThatIsNotUtf8ClosesWith1007AndTheSessionSurvives() throws IOException {
        String subject = user();
        String sessionId;
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(subject))) {
            sessionId = readyOf(raw).sessionId();
            byte[] invalid = {'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
            raw.sendFrame(true, 0, RawWebSocket.OP_TEXT, invalid, true);
            assertEquals(1007, raw.awaitCloseCode());
            assertTrue(raw.awaitEndOfStream(), "the server closes the TCP connection after its close frame");
        }
        try (Client again = Client.resume(fast, subject, sessionId, 0)) {
            again.roundTrip("m-1", "after", FAST_DELTAS);
        }
    }

    @Test
    void invalidUtf8SplitAcrossFragmentsClosesWith1007() throws IOException {
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
            readyOf(raw);
            raw.sendFrame(false, 0, RawWebSocket.OP_TEXT, "{\"type\":\"".getBytes(StandardCharsets.UTF_8), true);
            raw.sendFrame(true, 0, RawWebSocket.OP_CONTINUATION, new byte[] {(byte) 0xFF, '"', '}'}, true);
            assertEquals(1007, raw.awaitCloseCode());
        }
    }

    record Violation(String label, boolean fin, int rsv, int opcode, Bytes data, boolean masked) {
        Violation(String label, boolean fin, int rsv, int opcode, byte[] payload, boolean masked) {
            this(label, fin, rsv, opcode, Bytes.of(payload), masked);
        }

        byte[] payload() {
            return data.toArray();
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Violation> protocolViolations() {
        byte[] ping = "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
        return Stream.of(
                new Violation("reserved bit 1 set", true, 4, RawWebSocket.OP_TEXT, ping, true),
                new Violation("reserved bits 2 and 3 set", true, 3, RawWebSocket.OP_TEXT, ping, true),
                new Violation("unmasked client frame", true, 0, RawWebSocket.OP_TEXT, ping, false),
                new Violation("reserved opcode 3", true, 0, 0x3, ping, true),
                new Violation("reserved control opcode 0xB", true, 0, 0xB, new byte[0], true),
                new Violation("continuation without a start", true, 0, RawWebSocket.OP_CONTINUATION, ping, true),
                new Violation("fragmented ping", false, 0, RawWebSocket.OP_PING, new byte[0], true),
                new Violation("control frame over 125 bytes", true, 0, RawWebSocket.OP_PING, new byte[126], true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("protocolViolations")
    void rfc6455ViolationsCloseWith1002(Violation violation) throws IOException {
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
            readyOf(raw);
            raw.sendFrame(
                    violation.fin(), violation.rsv(), violation.opcode(), violation.payload(), violation.masked());
            assertEquals(1002, raw.awaitCloseCode());
            assertTrue(raw.awaitEndOfStream());
        }
    }

    @Test
    void aPingBetweenFragmentsIsAnsweredAndTheMessageStillArrives() throws IOException {
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
            readyOf(raw);
            byte[] json = messageText("split", "around a ping").getBytes(StandardCharsets.UTF_8);
            int half = json.length / 2;
            raw.sendFrame(false, 0, RawWebSocket.OP_TEXT, Arrays.copyOfRange(json, 0, half), true);
            raw.sendFrame(true, 0, RawWebSocket.OP_PING, new byte[] {42}, true);
            raw.sendFrame(true, 0, RawWebSocket.OP_CONTINUATION, Arrays.copyOfRange(json, half, json.length), true);
            RawWebSocket.Frame pong = raw.readFrame();
            assertEquals(RawWebSocket.OP_PONG, pong.opcode());
            assertEquals(
                    new ServerMessage.Accepted("split", false, 0),
                    CODEC.decodeServer(raw.readFrame().text()));
        }
    }

    @Test
    void aNewTextFrameInsideAFragmentedMessageClosesWith1002() throws IOException {
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
            readyOf(raw);
            raw.sendFrame(false, 0, RawWebSocket.OP_TEXT, "{\"type\":".getBytes(StandardCharsets.UTF_8), true);
            raw.sendFrame(true, 0, RawWebSocket.OP_TEXT, "{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8), true);
            assertEquals(1002, raw.awaitCloseCode());
        }
    }

    @Test
    void aClientThatDropsInTheMiddleOfAMessageIsNotAServerError() throws Exception {
        try (LogCapture logs = LogCapture.of("dev.tether.gateway.pipeline", Session.class.getName())) {
            String sessionId;
            try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
                sessionId = readyOf(raw).sessionId();
                raw.sendFrame(false, 0, RawWebSocket.OP_TEXT, "{\"type\":".getBytes(StandardCharsets.UTF_8), true);
                // The pong proves the gateway has read the first fragment.
                raw.sendFrame(true, 0, RawWebSocket.OP_PING, new byte[0], true);
                assertEquals(RawWebSocket.OP_PONG, raw.readFrame().opcode());
            } // the socket closes without a close frame, the message half sent
            logs.await(
                    e -> "detached".equals(e.getFormattedMessage()) && LogCapture.hasKeyValue(e, "session", sessionId));
            assertEquals(List.of(), logs.warnings(), "a peer going away is not worth a warning");
        }
    }

    @Test
    void rawBinaryFrameIsAnErrorAndTheConnectionStaysOpen() throws IOException {
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
            readyOf(raw);
            raw.sendBinary(new byte[] {0, 1, 2, 3});
            RawWebSocket.Frame frame = raw.readFrame();
            assertEquals(RawWebSocket.OP_TEXT, frame.opcode());
            ServerMessage.ErrorFrame error =
                    assertInstanceOf(ServerMessage.ErrorFrame.class, CODEC.decodeServer(frame.text()));
            assertEquals(ErrorCode.BINARY_NOT_SUPPORTED, error.code());

            raw.sendText("{\"type\":\"ping\"}");
            assertInstanceOf(
                    ServerMessage.Pong.class, CODEC.decodeServer(raw.readFrame().text()));

            // A WebSocket ping is answered at the WebSocket level, with the same payload.
            raw.sendFrame(true, 0, RawWebSocket.OP_PING, new byte[] {7, 8}, true);
            RawWebSocket.Frame pong = raw.readFrame();
            assertEquals(RawWebSocket.OP_PONG, pong.opcode());
            assertArrayEquals(new byte[] {7, 8}, pong.payload());

            // A normal close is echoed with 1000.
            raw.sendFrame(true, 0, RawWebSocket.OP_CLOSE, new byte[] {0x03, (byte) 0xE8}, true);
            assertEquals(1000, raw.awaitCloseCode());
        }
    }

    // --- isolation ---

    @Test
    void anAbusiveClientDoesNotDisturbAnotherSession() throws Exception {
        AtomicBoolean honestDone = new AtomicBoolean();
        AtomicInteger attackRounds = new AtomicInteger();
        ExecutorService attackerThread = Executors.newSingleThreadExecutor();
        try (Client honest = Client.open(fast, user())) {
            String honestSession = honest.ready.sessionId();
            CompletableFuture<Void> attacker = CompletableFuture.runAsync(
                    () -> {
                        try {
                            do {
                                attackOnce(honestSession);
                                attackRounds.incrementAndGet();
                            } while (!honestDone.get());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    },
                    attackerThread);

            int messages = 0;
            // At least 40 turns, and on until the attacker has gone through two full rounds.
            while (messages < 40 || (attackRounds.get() < 2 && !attacker.isDone())) {
                messages++;
                honest.roundTrip("h-" + messages, "honest " + messages, FAST_DELTAS);
                if (messages % 10 == 0) {
                    honest.send(new ClientMessage.Ack(honest.lastSeq()));
                }
            }
            honestDone.set(true);
            attacker.get(TestClient.TIMEOUT.toMillis() * 4, TimeUnit.MILLISECONDS);
            assertEquals((long) messages * (FAST_DELTAS + 3), honest.lastSeq(), "every seq exactly once");
            honest.assertQuiet();
        } finally {
            honestDone.set(true);
            attackerThread.shutdownNow();
        }
        assertTrue(attackRounds.get() >= 2);
    }

    /** One round of everything the gateway must survive, each on a fresh connection as needed. */
    private static void attackOnce(String victimSession) throws IOException {
        try (Client c = Client.open(fast, user())) {
            for (Arguments bad : badFrames().toList()) {
                c.sendText((String) bad.get()[1]);
            }
            c.ws.sendBinary(new byte[] {1, 2, 3});
            c.send(new ClientMessage.Ack(1_000_000));
            c.send(new ClientMessage.Interrupt());
            for (int i = 0; i < badFrames().count() + 2; i++) {
                c.expect(ServerMessage.ErrorFrame.class);
            }
            c.sendText(messageText("big", "x".repeat(FRAME_LIMIT)));
            assertEquals(1009, c.ws.awaitCloseCode());
        }
        try (Client c = Client.open(fast, user())) {
            String json = messageText("frag", "z".repeat(FRAME_LIMIT));
            c.ws.sendPartial(json.substring(0, json.length() / 2), false);
            c.ws.sendPartial(json.substring(json.length() / 2), true);
            assertEquals(1009, c.ws.awaitCloseCode());
        }
        try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
            readyOf(raw);
            raw.sendFrame(true, 0, RawWebSocket.OP_TEXT, new byte[] {(byte) 0xC3, (byte) 0x28}, true);
            assertEquals(1007, raw.awaitCloseCode());
        }
        for (Violation violation : protocolViolations().toList()) {
            try (RawWebSocket raw = RawWebSocket.connect(fast.address(), "/ws", fast.token(user()))) {
                readyOf(raw);
                raw.sendFrame(
                        violation.fin(), violation.rsv(), violation.opcode(), violation.payload(), violation.masked());
                assertEquals(1002, raw.awaitCloseCode(), violation.label());
            }
        }
        // Somebody else's session cannot be resumed, and trying does not disturb its owner.
        TestClient thief = TestClient.connectWithHeader(fast.resumeUri(victimSession, 0), fast.token(user()));
        try {
            assertEquals(
                    ErrorCode.SESSION_NOT_FOUND,
                    thief.expect(ServerMessage.ErrorFrame.class).code());
            assertEquals(4004, thief.awaitCloseCode());
        } finally {
            thief.close();
        }
    }

    // --- helpers ---

    private static String user() {
        return "messages-it-" + USERS.incrementAndGet();
    }

    private static ClientMessage.Message message(String id, String text) {
        return new ClientMessage.Message(
                id, JsonNodeFactory.instance.objectNode().put("text", text));
    }

    private static String messageText(String id, String text) {
        return CODEC.encode(message(id, text));
    }

    /** A message frame of exactly {@code length} bytes (ASCII text padded to fit). */
    private static String messageOfLength(String id, int length) {
        String empty = messageText(id, "");
        String json = messageText(id, "p".repeat(length - empty.length()));
        assertEquals(length, json.getBytes(StandardCharsets.UTF_8).length);
        return json;
    }

    /** A message frame whose {@code data} nests so the whole frame reaches {@code depth} levels. */
    private static String nested(int depth) {
        int arrays = depth - 1;
        return "{\"type\":\"message\",\"id\":\"deep\",\"data\":" + "[".repeat(arrays) + "]".repeat(arrays) + "}";
    }

    private static boolean isIdle(ServerMessage m) {
        return m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE;
    }

    private static boolean isResult(ServerMessage m, String id) {
        return m instanceof ServerMessage.Event e
                && "result".equals(e.event().path("type").textValue())
                && id.equals(e.event().path("id").textValue());
    }

    private static long countResults(List<ServerMessage> messages, String id) {
        return messages.stream().filter(m -> isResult(m, id)).count();
    }

    private static ServerMessage.SessionReady readyOf(RawWebSocket raw) throws IOException {
        RawWebSocket.Frame first = raw.readFrame();
        assertEquals(RawWebSocket.OP_TEXT, first.opcode(), first::toString);
        return assertInstanceOf(ServerMessage.SessionReady.class, CODEC.decodeServer(first.text()));
    }

    /**
     * A {@link SessionClient} (which checks that every history frame's seq is exactly one more than
     * the previous) with the turns and checks these tests repeat.
     */
    private static final class Client implements AutoCloseable {
        final SessionClient session;
        final TestClient ws;
        final ServerMessage.SessionReady ready;

        private Client(SessionClient session) {
            this.session = session;
            this.ws = session.ws;
            this.ready = session.ready;
        }

        static Client open(GatewayExtension gateway, String subject) {
            return new Client(SessionClient.open(gateway, subject));
        }

        static Client resume(GatewayExtension gateway, String subject, String sessionId, long lastSeq) {
            return new Client(SessionClient.resume(gateway, subject, sessionId, lastSeq));
        }

        long lastSeq() {
            return session.lastSeq();
        }

        ServerMessage next() {
            return session.next();
        }

        <T extends ServerMessage> T expect(Class<T> type) {
            return session.expect(type);
        }

        JsonNode expectEvent() {
            return expect(ServerMessage.Event.class).event();
        }

        List<ServerMessage> until(Predicate<ServerMessage> last) {
            return session.until(last);
        }

        void send(ClientMessage message) {
            ws.send(message);
        }

        void sendText(String text) {
            ws.sendText(text);
        }

        /**
         * Sends {@code id} on an idle session and checks the whole turn: accepted at once, status
         * processing, {@code deltas} deltas that spell {@code text}, the result, status idle.
         */
        void roundTrip(String id, String text, int deltas) {
            send(message(id, text));
            assertEquals(new ServerMessage.Accepted(id, false, 0), next());
            assertEquals(
                    SessionState.PROCESSING, expect(ServerMessage.Status.class).state());
            StringBuilder streamed = new StringBuilder();
            for (int i = 0; i < deltas; i++) {
                JsonNode delta = expectEvent();
                assertEquals("delta", delta.get("type").textValue(), delta::toString);
                assertEquals(id, delta.get("id").textValue());
                streamed.append(delta.get("text").textValue());
            }
            assertEquals(text, streamed.toString());
            JsonNode result = expectEvent();
            assertEquals("result", result.get("type").textValue());
            assertEquals(id, result.get("id").textValue());
            assertEquals(text, result.get("text").textValue());
            assertEquals(SessionState.IDLE, expect(ServerMessage.Status.class).state());
        }

        /** After {@code accepted} for {@code id}: its turn starts, is interrupted, and the session goes idle. */
        void interruptTurn(String id) {
            assertEquals(
                    SessionState.PROCESSING, expect(ServerMessage.Status.class).state());
            assertEquals(id, expectEvent().get("id").textValue());
            interruptTurnInProgress(id);
        }

        /**
         * Sends message {@code id} with {@code text} to an idle session and sees it accepted and its
         * turn start; the turn's first event.
         */
        JsonNode startTurn(String id, String text) {
            send(message(id, text));
            assertEquals(new ServerMessage.Accepted(id, false, 0), next());
            assertEquals(
                    SessionState.PROCESSING, expect(ServerMessage.Status.class).state());
            return expectEvent();
        }

        /** Interrupts the running turn of {@code id}, whose first delta has been read. */
        void interruptTurnInProgress(String id) {
            send(new ClientMessage.Interrupt());
            JsonNode result = expectEvent();
            assertEquals("result", result.get("type").textValue());
            assertEquals(id, result.get("id").textValue());
            assertTrue(result.get("interrupted").booleanValue());
            assertEquals(SessionState.IDLE, expect(ServerMessage.Status.class).state());
        }

        /**
         * Asserts that nothing is on its way: a ping sent now must be answered by the very next
         * frame (the session handles a connection's frames in order, so anything the earlier ones
         * caused would come first).
         */
        void assertQuiet() {
            send(new ClientMessage.Ping());
            ServerMessage m = next();
            assertInstanceOf(ServerMessage.Pong.class, m, () -> "expected nothing before the pong, got " + m);
        }

        @Override
        public void close() {
            ws.close();
        }
    }
}
