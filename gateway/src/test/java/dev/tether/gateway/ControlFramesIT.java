package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * WebSocket control frames from outside, on raw sockets: close frames are answered by RFC 6455
 * (the code echoed when it may be sent, 1002 when it may not or the payload is one byte, 1007 for a
 * reason that is not UTF-8; always exactly one close frame), and pings, pongs and continuation
 * fragments take from the session's frame rate like messages do, so a flood of them is cut with
 * 4008 exactly as a flood of JSON pings is.
 */
class ControlFramesIT {

    private static final WireCodec CODEC = new WireCodec();
    private static final AtomicInteger USERS = new AtomicInteger();

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withDefaults();

    /** Five frames at once, then one a second; the third refused frame within 10 s closes with 4008. */
    @RegisterExtension
    static final GatewayExtension strict = GatewayExtension.withConfig("""
            abuse:
              messages_per_second: 1
              message_burst: 5
              max_strikes: 3
              strike_window: 10s
            """);

    @ParameterizedTest
    @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535})
    void aCloseCodeThatMayNotBeSentIsAnsweredWith1002(int code) throws IOException {
        assertEquals(
                List.of("close " + CloseCode.PROTOCOL_ERROR.code()),
                closeExchange(new byte[] {(byte) (code >> 8), (byte) code}));
    }

    @Test
    void aOneBytePayloadIsAnsweredWith1002Once() throws IOException {
        assertEquals(List.of("close " + CloseCode.PROTOCOL_ERROR.code()), closeExchange(new byte[] {3}));
    }

    @Test
    void aReasonThatIsNotUtf8IsAnsweredWith1007() throws IOException {
        assertEquals(List.of("close 1007"), closeExchange(new byte[] {3, (byte) 0xE8, (byte) 0xC3, (byte) 0x28}));
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1001, 1003, 1011, 1014, 3000, 4000, 4999})
    void aValidCloseCodeIsEchoedOnce(int code) throws IOException {
        byte[] reason = "bye".getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[2 + reason.length];
        payload[0] = (byte) (code >> 8);
        payload[1] = (byte) code;
        System.arraycopy(reason, 0, payload, 2, reason.length);
        assertEquals(List.of("close " + code), closeExchange(payload));
    }

    @Test
    void anEmptyCloseIsAnsweredWithOneClose() throws IOException {
        List<String> answer = closeExchange(new byte[0]);
        assertEquals(1, answer.size(), answer.toString());
        assertTrue(answer.get(0).equals("close") || answer.get(0).equals("close 1000"), answer.toString());
    }

    @Test
    void pingsWithinTheRateAreAnsweredWithTheirPayload() throws IOException {
        try (RawWebSocket raw = connect(gateway)) {
            raw.sendFrame(true, 0, RawWebSocket.OP_PING, new byte[] {7, 8}, true);
            RawWebSocket.Frame pong = raw.readFrame();
            assertEquals(RawWebSocket.OP_PONG, pong.opcode());
            assertArrayEquals(new byte[] {7, 8}, pong.payload());
        }
    }

    @Test
    void aPingFloodTakesFromTheFrameRateAndIsCutWith4008() throws IOException {
        try (RawWebSocket raw = connect(strict)) {
            raw.sendFrames(20, RawWebSocket.OP_PING, new byte[] {7});
            Answers answers = answersUntilClose(raw);
            assertTrue(answers.pongs >= 1 && answers.pongs <= 7, "only pings within the rate are answered: " + answers);
            assertTrue(answers.rateLimited >= 3, answers.toString());
            assertEquals(CloseCode.POLICY_VIOLATION.code(), answers.closeCode, answers.toString());
        }
    }

    @Test
    void aPongFloodIsCutWith4008() throws IOException {
        try (RawWebSocket raw = connect(strict)) {
            raw.sendFrames(20, RawWebSocket.OP_PONG, new byte[0]);
            Answers answers = answersUntilClose(raw);
            assertEquals(0, answers.pongs);
            assertEquals(CloseCode.POLICY_VIOLATION.code(), answers.closeCode, answers.toString());
        }
    }

    @Test
    void aFloodOfEmptyFragmentsIsCutWith4008() throws IOException {
        try (RawWebSocket raw = connect(strict)) {
            raw.sendFrame(false, 0, RawWebSocket.OP_TEXT, "{\"type\":".getBytes(StandardCharsets.UTF_8), true);
            raw.sendFrames(20, RawWebSocket.OP_CONTINUATION, new byte[0]);
            Answers answers = answersUntilClose(raw);
            assertEquals(CloseCode.POLICY_VIOLATION.code(), answers.closeCode, answers.toString());
        }
    }

    @Test
    void jsonPingsAndWebSocketPingsShareOneRate() throws IOException {
        try (RawWebSocket raw = connect(strict)) {
            for (int i = 0; i < 4; i++) {
                raw.sendText("{\"type\":\"ping\"}");
            }
            // One write: the gateway cuts the flood part-way, and a later write of the test's own would fail.
            raw.sendFrames(10, RawWebSocket.OP_PING, new byte[0]);
            Answers answers = answersUntilClose(raw);
            assertEquals(4, answers.jsonPongs, answers.toString());
            assertTrue(answers.pongs <= 3, "the JSON pings took most of the burst: " + answers);
            assertEquals(CloseCode.POLICY_VIOLATION.code(), answers.closeCode, answers.toString());
        }
    }

    // ---- helpers ----

    private static RawWebSocket connect(GatewayExtension target) throws IOException {
        RawWebSocket raw =
                RawWebSocket.connect(target.address(), "/ws", target.token("control-" + USERS.incrementAndGet()));
        assertTrue(CODEC.decodeServer(raw.readFrame().text()) instanceof ServerMessage.SessionReady);
        return raw;
    }

    /** Sends a close frame with {@code payload}; returns every frame the gateway answers with, up to the end of the stream. */
    private static List<String> closeExchange(byte[] payload) throws IOException {
        try (RawWebSocket raw = connect(gateway)) {
            raw.sendFrame(true, 0, RawWebSocket.OP_CLOSE, payload, true);
            List<String> frames = new ArrayList<>();
            while (true) {
                RawWebSocket.Frame frame;
                try {
                    frame = raw.readFrame();
                } catch (IOException endOfStream) {
                    return frames;
                }
                frames.add(
                        frame.isClose()
                                ? (frame.payload().length >= 2 ? "close " + frame.closeCode() : "close")
                                : "opcode " + frame.opcode());
            }
        }
    }

    private static final class Answers {
        int pongs;
        int jsonPongs;
        int rateLimited;
        int closeCode = -1;

        @Override
        public String toString() {
            return "pongs " + pongs + ", json pongs " + jsonPongs + ", rate_limited " + rateLimited + ", close "
                    + closeCode;
        }
    }

    private static Answers answersUntilClose(RawWebSocket raw) throws IOException {
        Answers answers = new Answers();
        while (true) {
            RawWebSocket.Frame frame = raw.readFrame();
            if (frame.isClose()) {
                answers.closeCode = frame.closeCode();
                return answers;
            }
            if (frame.opcode() == RawWebSocket.OP_PONG) {
                answers.pongs++;
                continue;
            }
            ServerMessage message = CODEC.decodeServer(frame.text());
            if (message instanceof ServerMessage.Pong) {
                answers.jsonPongs++;
            } else if (message instanceof ServerMessage.ErrorFrame error && error.code() == ErrorCode.RATE_LIMITED) {
                answers.rateLimited++;
            }
        }
    }
}
