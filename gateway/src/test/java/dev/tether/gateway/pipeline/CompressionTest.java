package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.CompressionConfig;
import dev.tether.gateway.testing.PerMessageDeflate;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Compression}: what is answered to which offer, the threshold, and Netty's inflater with
 * the frame limit, then {@link ControlFrameHandler}'s frame check, in front of {@link ErrorHandler} (1009 for a bomb, 1007 for a corrupt stream),
 * on {@code EmbeddedChannel}s.
 */
class CompressionTest {

    private static final int MAX_FRAME = 64 * 1024;
    private static final CompressionConfig DEFAULTS = CompressionConfig.defaults();

    @Test
    void aBrowsersOfferGetsBothNoContextTakeoverFlagsThoughItAskedForNeither() {
        WebSocketServerExtension extension =
                new Compression(DEFAULTS, MAX_FRAME).negotiate(offer(Map.of("client_max_window_bits", "")));
        WebSocketExtensionData answer = extension.newReponseData();
        assertEquals("permessage-deflate", answer.name());
        assertTrue(
                answer.parameters().containsKey("server_no_context_takeover"),
                answer.parameters().toString());
        assertTrue(
                answer.parameters().containsKey("client_no_context_takeover"),
                answer.parameters().toString());
        assertEquals(WebSocketExtension.RSV1, extension.rsv());
    }

    @Test
    void withContextTakeoverConfiguredNothingIsAddedAndTheClientWindowIsAsked() {
        CompressionConfig config = new CompressionConfig(true, 0, 6, false, false, 10);
        WebSocketExtensionData answer = new Compression(config, MAX_FRAME)
                .negotiate(offer(Map.of("client_max_window_bits", "")))
                .newReponseData();
        assertEquals(Map.of("client_max_window_bits", "10"), answer.parameters());
    }

    @Test
    void anOfferNeedingASmallerServerWindowOrAnotherExtensionIsDeclined() {
        Compression compression = new Compression(DEFAULTS, MAX_FRAME);
        assertNull(compression.negotiate(offer(Map.of("server_max_window_bits", "10"))));
        assertNull(compression.negotiate(new WebSocketExtensionData("x-webkit-deflate-frame", Map.of())));
    }

    @Test
    void messagesUnderTheThresholdLeavePlainTheOthersCompressedAndTheyInflateBack() {
        CompressionConfig config = new CompressionConfig(true, 100, 6, true, true, 15);
        EmbeddedChannel channel = new EmbeddedChannel(
                new Compression(config, MAX_FRAME).negotiate(offer(Map.of())).newExtensionEncoder());
        String small = "x".repeat(99);
        String large = "{\"type\":\"event\",\"text\":\"" + "abc ".repeat(100) + "\"}";
        assertTrue(channel.writeOutbound(new TextWebSocketFrame(small), new TextWebSocketFrame(large)));
        TextWebSocketFrame first = channel.readOutbound();
        TextWebSocketFrame second = channel.readOutbound();
        try {
            assertEquals(0, first.rsv());
            assertEquals(small, first.text());
            assertEquals(WebSocketExtension.RSV1, second.rsv());
            byte[] wire = ByteBufUtil.getBytes(second.content());
            assertTrue(wire.length < large.length() / 4, "compressed to " + wire.length);
            assertEquals(large, new String(PerMessageDeflate.inflate(wire), StandardCharsets.UTF_8));
        } finally {
            first.release();
            second.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void aFrameInflatingToTheLimitPasses() {
        EmbeddedChannel channel = inflating();
        byte[] message = new byte[MAX_FRAME];
        java.util.Arrays.fill(message, (byte) 'a');
        channel.writeInbound(compressed(PerMessageDeflate.deflate(message)));
        TextWebSocketFrame frame = channel.readInbound();
        try {
            assertEquals(0, frame.rsv());
            assertEquals(MAX_FRAME, frame.content().readableBytes());
        } finally {
            frame.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void aBombIsStoppedAtTheLimitAndClosedWith1009() {
        EmbeddedChannel channel = inflating();
        channel.writeInbound(compressed(PerMessageDeflate.deflateZeros(64L * 1024 * 1024)));
        assertClosedWith(channel, 1009);
    }

    @Test
    void oneByteOverTheLimitIsClosedWith1009() {
        // Netty's inflater bounds the frame's bytes and the tail put back after them separately, so
        // a frame just over the limit may leave it whole: the frame check after it closes.
        EmbeddedChannel channel = inflating();
        channel.writeInbound(compressed(PerMessageDeflate.deflate(new byte[MAX_FRAME + 1])));
        assertClosedWith(channel, 1009);
    }

    @Test
    void aCorruptStreamIsClosedWith1007() {
        EmbeddedChannel channel = inflating();
        // Block type 3 is reserved: no deflate stream starts with 0xFF.
        channel.writeInbound(compressed(new byte[] {(byte) 0xFF, 1, 2, 3}));
        assertClosedWith(channel, 1007);
    }

    private static EmbeddedChannel inflating() {
        return new EmbeddedChannel(
                new Compression(DEFAULTS, MAX_FRAME).negotiate(offer(Map.of())).newExtensionDecoder(),
                new ControlFrameHandler(MAX_FRAME),
                new ErrorHandler());
    }

    private static TextWebSocketFrame compressed(byte[] payload) {
        return new TextWebSocketFrame(true, WebSocketExtension.RSV1, Unpooled.wrappedBuffer(payload));
    }

    private static void assertClosedWith(EmbeddedChannel channel, int code) {
        CloseWebSocketFrame close = channel.readOutbound();
        try {
            assertEquals(code, close.statusCode());
        } finally {
            close.release();
        }
        assertNull(channel.readInbound(), "nothing inflated is passed on");
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    private static WebSocketExtensionData offer(Map<String, String> parameters) {
        Map<String, String> copy = new HashMap<>();
        // An offer's parameter without a value is null in Netty's parsed form.
        parameters.forEach((key, value) -> copy.put(key, value.isEmpty() ? null : value));
        return new WebSocketExtensionData("permessage-deflate", copy);
    }
}
