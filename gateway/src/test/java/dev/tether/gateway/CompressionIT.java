package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.PerMessageDeflate;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RawWebSocket;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * permessage-deflate (server.compression) against a real gateway, on raw sockets whose client side
 * of RFC 7692 is the JDK's zlib ({@link PerMessageDeflate}), nothing of Netty's: what is
 * negotiated, which frames leave compressed, that they decode to the messages the session sent,
 * and decompression bombs, whole or fragmented, closed with 1009 while other sessions go on.
 */
class CompressionIT {

    private static final WireCodec CODEC = new WireCodec();
    private static final AtomicInteger USERS = new AtomicInteger();
    private static final int MAX_FRAME = 64 * 1024;
    private static final int THRESHOLD = 256;

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            server:
              max_frame_bytes: 64KiB
              compression:
                enabled: true
                threshold: 256
            """);

    @RegisterExtension
    static final GatewayExtension off = GatewayExtension.withDefaults();

    @TempDir
    Path dir;

    @Test
    void anOfferIsAnsweredWithPermessageDeflateAndNoContextTakeoverBothWays() throws IOException {
        try (RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
            String answer = raw.upgradeHeader("Sec-WebSocket-Extensions");
            assertTrue(answer != null && answer.startsWith("permessage-deflate"), String.valueOf(answer));
            assertTrue(answer.contains("server_no_context_takeover"), answer);
            assertTrue(answer.contains("client_no_context_takeover"), answer);
            assertFalse(answer.contains("server_max_window_bits"), answer);
        }
    }

    @Test
    void withoutAnOfferOrWhenOffNothingIsNegotiatedAndFramesAreSentPlain() throws IOException {
        for (GatewayExtension target : List.of(gateway, off)) {
            String offer = target == off ? PerMessageDeflate.OFFER : "";
            try (RawWebSocket raw = connect(target, offer)) {
                assertNull(raw.upgradeHeader("Sec-WebSocket-Extensions"));
                String text = transcriptLike(2_000);
                raw.sendText(message("plain", text));
                List<RawWebSocket.Frame> frames = framesUntilResult(raw, "plain");
                frames.forEach(frame -> assertEquals(0, frame.rsv(), frame.toString()));
                assertEquals(text, resultText(frames.get(frames.size() - 1).text()));
            }
        }
    }

    @Test
    void framesFromTheThresholdOnAreCompressedSmallerOnesNotAndAllDecodeToTheSessionsMessages() throws IOException {
        try (RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
            String text = transcriptLike(3_000);
            // A compressed message in, as a browser sends it.
            raw.sendFrame(
                    true,
                    4,
                    RawWebSocket.OP_TEXT,
                    PerMessageDeflate.deflate(message("big", text).getBytes(StandardCharsets.UTF_8)),
                    true);
            List<RawWebSocket.Frame> frames = framesUntilResult(raw, "big");
            int compressed = 0;
            int plain = 0;
            int wire = 0;
            int inflated = 0;
            for (RawWebSocket.Frame frame : frames) {
                byte[] payload = payload(frame);
                CODEC.decodeServer(new String(payload, StandardCharsets.UTF_8)); // every frame is a whole message
                if (frame.rsv() == 4) {
                    compressed++;
                    assertTrue(payload.length >= THRESHOLD, "compressed below the threshold: " + payload.length);
                    wire += frame.payload().length;
                    inflated += payload.length;
                } else {
                    assertEquals(0, frame.rsv(), frame.toString());
                    plain++;
                    assertTrue(payload.length < THRESHOLD, "sent plain from the threshold on: " + payload.length);
                }
            }
            assertTrue(compressed >= 4, "the deltas and the result: " + compressed);
            assertTrue(plain >= 1, "accepted and status stay small: " + plain);
            assertTrue(
                    wire * 2 < inflated, "JSON text compresses at least 2:1, " + wire + " of " + inflated + " bytes");
            assertEquals(text, resultText(new String(payload(frames.get(frames.size() - 1)), StandardCharsets.UTF_8)));

            // An uncompressed message on the same connection is fine too (RSV1 clear).
            raw.sendText(message("small", "hi"));
            List<RawWebSocket.Frame> small = framesUntilResult(raw, "small");
            small.forEach(frame -> assertEquals(0, frame.rsv(), frame.toString()));
        }
    }

    @Test
    void reservedBitsWithoutANegotiatedExtensionAreAProtocolError() throws IOException {
        for (GatewayExtension target : List.of(gateway, off)) {
            try (RawWebSocket raw = connect(target, "")) {
                raw.sendFrame(
                        true,
                        4,
                        RawWebSocket.OP_TEXT,
                        PerMessageDeflate.deflate(message("x", "x").getBytes(StandardCharsets.UTF_8)),
                        true);
                assertEquals(CloseCode.PROTOCOL_ERROR.code(), raw.awaitCloseCode());
            }
        }
        try (RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
            raw.sendFrame(true, 2, RawWebSocket.OP_TEXT, message("x", "x").getBytes(StandardCharsets.UTF_8), true);
            assertEquals(CloseCode.PROTOCOL_ERROR.code(), raw.awaitCloseCode());
        }
    }

    @Test
    void aFrameInflatingToTheLimitIsAMessageAndOneByteMoreCloses1009() throws IOException {
        try (RawWebSocket bystander = connect(gateway, PerMessageDeflate.OFFER)) {
            try (RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
                raw.sendFrame(
                        true,
                        4,
                        RawWebSocket.OP_TEXT,
                        PerMessageDeflate.deflate(messageOfSize("edge", MAX_FRAME)),
                        true);
                List<RawWebSocket.Frame> frames = framesUntilResult(raw, "edge");
                assertFalse(frames.isEmpty());
            }
            try (RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
                raw.sendFrame(
                        true,
                        4,
                        RawWebSocket.OP_TEXT,
                        PerMessageDeflate.deflate(messageOfSize("over", MAX_FRAME + 1)),
                        true);
                assertEquals(CloseCode.FRAME_TOO_LARGE.code(), raw.awaitCloseCode());
                assertTrue(raw.awaitEndOfStream());
            }
            assertStillServes(bystander, "after-edge");
        }
    }

    @Test
    void aBombOfZerosCloses1009() throws IOException {
        byte[] bomb = PerMessageDeflate.deflateZeros(32L * 1024 * 1024);
        assertTrue(bomb.length < MAX_FRAME, "the compressed frame itself is within the frame limit: " + bomb.length);
        try (RawWebSocket bystander = connect(gateway, PerMessageDeflate.OFFER);
                RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
            raw.sendFrame(true, 4, RawWebSocket.OP_TEXT, bomb, true);
            assertEquals(CloseCode.FRAME_TOO_LARGE.code(), raw.awaitCloseCode());
            assertStillServes(bystander, "after-bomb");
        }
    }

    @Test
    void aFragmentedMessageWhoseFragmentsEachFitButWhoseWholeDoesNotCloses1009() throws IOException {
        byte[] whole = PerMessageDeflate.deflate(messageOfSize("frag", 4 * MAX_FRAME));
        int fragments = 16;
        try (RawWebSocket bystander = connect(gateway, PerMessageDeflate.OFFER);
                RawWebSocket raw = connect(gateway, PerMessageDeflate.OFFER)) {
            int size = (whole.length + fragments - 1) / fragments;
            for (int i = 0; i < fragments; i++) {
                byte[] part = Arrays.copyOfRange(
                        whole, Math.min(whole.length, i * size), Math.min(whole.length, (i + 1) * size));
                boolean first = i == 0;
                raw.sendFrame(
                        i == fragments - 1,
                        first ? 4 : 0,
                        first ? RawWebSocket.OP_TEXT : RawWebSocket.OP_CONTINUATION,
                        part,
                        true);
            }
            assertEquals(CloseCode.FRAME_TOO_LARGE.code(), raw.awaitCloseCode());
            assertStillServes(bystander, "after-fragments");
        }
    }

    /**
     * A 256 MiB bomb at a gateway in its own JVM with a 64 MiB heap: had the inflater allocated what
     * the frame inflates to, the gateway would have run out of memory; it closes with 1009 and goes
     * on serving, and its metrics count the compressed connections.
     */
    /** A 64 MiB heap; the serial collector and C1 only start a small JVM quicker on a loaded machine. */
    private static final String SMALL_HEAP = "-Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

    @Test
    void aBombFourTimesTheHeapNeverAllocatesItsInflatedSize() throws IOException {
        byte[] bomb = PerMessageDeflate.deflateZeros(256L * 1024 * 1024);
        Path config = Files.writeString(dir.resolve("gateway.yaml"), """
                server: {max_frame_bytes: 1MiB, compression: {enabled: true}}
                worker: {kind: echo, echo: {delta_interval: 0ms}}
                admin: {enabled: false}
                """);
        try (GatewayProcess process = GatewayProcess.start(
                dir,
                Map.of(
                        "TETHER_JWT_SECRET",
                        GatewayProcess.TEST_SECRET,
                        "TETHER_PORT",
                        "0",
                        "JAVA_TOOL_OPTIONS",
                        SMALL_HEAP),
                "--config",
                config.toString())) {
            InetSocketAddress address =
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), process.awaitListening());
            TokenMinter minter = new TokenMinter(
                    GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());
            try (RawWebSocket bystander = connect(address, minter, PerMessageDeflate.OFFER)) {
                for (int i = 0; i < 3; i++) {
                    try (RawWebSocket raw = connect(address, minter, PerMessageDeflate.OFFER)) {
                        raw.sendFrame(true, 4, RawWebSocket.OP_TEXT, bomb, true);
                        assertEquals(CloseCode.FRAME_TOO_LARGE.code(), raw.awaitCloseCode(), process::log);
                    }
                }
                assertStillServes(bystander, "after-big-bomb");
            }
            assertFalse(process.logged("OutOfMemoryError"), process::log);
            String metrics = RawHttp.send(
                            address, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .body();
            assertEquals(4, MetricsIT.value(metrics, "tether_connections_compressed_total"), metrics);
        }
    }

    // ---- helpers ----

    private static RawWebSocket connect(GatewayExtension target, String extraHeaders) throws IOException {
        RawWebSocket raw = RawWebSocket.connect(
                target.address(), "/ws", target.token("deflate-" + USERS.incrementAndGet()), extraHeaders);
        return ready(raw);
    }

    private static RawWebSocket connect(InetSocketAddress address, TokenMinter minter, String extraHeaders)
            throws IOException {
        String token = minter.mint("deflate-" + USERS.incrementAndGet(), Duration.ofHours(1), Map.of());
        return ready(RawWebSocket.connect(address, "/ws", token, extraHeaders));
    }

    private static RawWebSocket ready(RawWebSocket raw) throws IOException {
        ServerMessage first = CODEC.decodeServer(new String(payload(raw.readFrame()), StandardCharsets.UTF_8));
        assertTrue(first instanceof ServerMessage.SessionReady, first.toString());
        return raw;
    }

    /** The session still answers a message with its echo. */
    private static void assertStillServes(RawWebSocket raw, String id) throws IOException {
        raw.sendFrame(
                true,
                4,
                RawWebSocket.OP_TEXT,
                PerMessageDeflate.deflate(message(id, transcriptLike(500)).getBytes(StandardCharsets.UTF_8)),
                true);
        assertFalse(framesUntilResult(raw, id).isEmpty());
    }

    /** A frame's message: inflated when RSV1 says it is compressed. */
    private static byte[] payload(RawWebSocket.Frame frame) {
        return frame.rsv() == 4 ? PerMessageDeflate.inflate(frame.payload()) : frame.payload();
    }

    /** Frames up to and including the echo's {@code result} event for message {@code id}; fails on a close. */
    private static List<RawWebSocket.Frame> framesUntilResult(RawWebSocket raw, String id) throws IOException {
        List<RawWebSocket.Frame> frames = new ArrayList<>();
        while (true) {
            RawWebSocket.Frame frame = raw.readFrame();
            if (frame.isClose()) {
                throw new AssertionError("closed with " + frame.closeCode() + " after " + frames);
            }
            frames.add(frame);
            ServerMessage message = CODEC.decodeServer(new String(payload(frame), StandardCharsets.UTF_8));
            if (message instanceof ServerMessage.Event event
                    && "result".equals(event.event().path("type").asText())
                    && id.equals(event.event().path("id").asText())) {
                return frames;
            }
        }
    }

    private static String resultText(String frameText) {
        JsonNode event = ((ServerMessage.Event) CODEC.decodeServer(frameText)).event();
        return event.path("text").asText();
    }

    private static String message(String id, String text) {
        return CODEC.mapper()
                .createObjectNode()
                .put("type", "message")
                .put("id", id)
                .put("data", text)
                .toString();
    }

    /** A {@code message} of exactly {@code bytes} bytes of JSON. */
    private static byte[] messageOfSize(String id, int bytes) {
        String empty = message(id, "");
        String text = transcriptLike(bytes - empty.length());
        byte[] json = message(id, text).getBytes(StandardCharsets.UTF_8);
        assertEquals(bytes, json.length);
        return json;
    }

    /** Words from a small vocabulary: compresses about as well as an agent's output (3:1 to 5:1), not like zeros. */
    private static String transcriptLike(int length) {
        String[] words = {
            "the",
            "file",
            "src/main/java",
            "function",
            "returns",
            "null",
            "when",
            "error",
            "test",
            "passed",
            "failed",
            "import",
            "class",
            "public",
            "void",
            "int",
            "string",
            "config",
            "value",
            "42",
            "Read",
            "Edit",
            "Bash",
            "tool_use",
            "output",
            "line",
            "diff",
            "+",
            "-",
            "{",
            "}"
        };
        Random random = new Random(length);
        StringBuilder text = new StringBuilder(length + 16);
        while (text.length() < length) {
            text.append(words[random.nextInt(words.length)]).append(random.nextInt(8) == 0 ? ". " : " ");
        }
        text.setLength(length);
        return text.toString();
    }
}
