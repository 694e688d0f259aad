package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.session.EncodedFrame;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    private final WireCodec codec = new WireCodec();
    private final EmbeddedChannel channel = new EmbeddedChannel(new FrameCodec(codec));

    @Test
    void textFrameBecomesATypedClientMessage() {
        channel.writeInbound(new TextWebSocketFrame("{\"type\":\"ack\",\"seq\":7}"));
        assertEquals(new ClientMessage.Ack(7), channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void undecodableTextBecomesAFailureWithItsCode() {
        channel.writeInbound(new TextWebSocketFrame("{\"type\":"));
        channel.writeInbound(new TextWebSocketFrame("{\"type\":\"teleport\"}"));
        channel.writeInbound(new TextWebSocketFrame("{\"type\":\"message\"}"));
        assertEquals(
                ErrorCode.INVALID_JSON, channel.<InboundFailure>readInbound().code());
        assertEquals(
                ErrorCode.UNKNOWN_TYPE, channel.<InboundFailure>readInbound().code());
        assertEquals(
                ErrorCode.INVALID_FIELD, channel.<InboundFailure>readInbound().code());
        assertFalse(channel.finish());
    }

    @Test
    void binaryFrameIsRefusedAsNotSupported() {
        channel.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));
        InboundFailure failure = assertInstanceOf(InboundFailure.class, channel.readInbound());
        assertEquals(ErrorCode.BINARY_NOT_SUPPORTED, failure.code());
        assertFalse(channel.finish());
    }

    @Test
    void strayContinuationFrameIsAFailureNotACrash() {
        channel.writeInbound(new ContinuationWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {'x'})));
        assertInstanceOf(InboundFailure.class, channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void serverMessagesAndEncodedFramesBecomeTextFrames() {
        channel.writeOutbound(new ServerMessage.Pong());
        byte[] history = codec.encodeToBytes(new ServerMessage.ReplayGap(1, 2));
        channel.writeOutbound(new EncodedFrame(history));
        TextWebSocketFrame pong = channel.readOutbound();
        TextWebSocketFrame gap = channel.readOutbound();
        try {
            assertEquals("{\"type\":\"pong\"}", pong.text());
            assertEquals(new String(history, StandardCharsets.UTF_8), gap.text());
        } finally {
            pong.release();
            gap.release();
        }
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void messageWhoseDataIsOverTheLimitIsMessageTooLargeWithItsId() {
        EmbeddedChannel limited = new EmbeddedChannel(new FrameCodec(codec, 32));
        String data30 = "\"" + "x".repeat(28) + "\"";
        String data33 = "\"" + "x".repeat(31) + "\"";
        limited.writeInbound(new TextWebSocketFrame("{\"type\":\"message\",\"id\":\"ok\",\"data\":" + data30 + "}"));
        limited.writeInbound(new TextWebSocketFrame("{\"type\":\"message\",\"id\":\"big\",\"data\":" + data33 + "}"));
        // Whitespace the client wrote is not data: this one is 31 bytes as compact JSON.
        limited.writeInbound(
                new TextWebSocketFrame(
                        "{\"type\":\"message\",\"id\":\"spaced\",\"data\":[1,   2,   3,     4,   5,     6, 7, 8, 9, 10, 11, 12, 13]}"));
        limited.writeInbound(new TextWebSocketFrame("{\"type\":\"ping\",\"padding\":\"" + "y".repeat(100) + "\"}"));

        assertEquals("ok", limited.<ClientMessage.Message>readInbound().id());
        InboundFailure tooLarge = limited.readInbound();
        assertEquals(
                new InboundFailure(ErrorCode.MESSAGE_TOO_LARGE, "message data is 33 bytes; the limit is 32", "big"),
                tooLarge);
        assertEquals("spaced", limited.<ClientMessage.Message>readInbound().id());
        assertInstanceOf(ClientMessage.Ping.class, limited.readInbound(), "only message data is limited");
        assertFalse(limited.finish());
    }

    @Test
    void anEncodedBatchIsOneBatchFrameCountedAsABatchAndItsMessages() {
        AtomicInteger messages = new AtomicInteger();
        AtomicInteger batches = new AtomicInteger();
        GatewayMetrics metrics = new GatewayMetrics() {
            @Override
            public void messageOut() {
                messages.incrementAndGet();
            }

            @Override
            public void batchOut() {
                batches.incrementAndGet();
            }
        };
        EmbeddedChannel counted = new EmbeddedChannel(new FrameCodec(codec, 1024, metrics));
        List<ServerMessage> inside = List.of(new ServerMessage.Pong(), new ServerMessage.ReplayGap(1, 2));
        counted.writeOutbound(
                new EncodedBatch(inside.stream().map(codec::encodeToBytes).toList()));

        TextWebSocketFrame frame = counted.readOutbound();
        try {
            assertEquals(
                    new ServerMessage.Batch(inside),
                    codec.decodeServer(frame.content().toString(StandardCharsets.UTF_8)));
        } finally {
            frame.release();
        }
        assertEquals(2, messages.get());
        assertEquals(1, batches.get());
        assertFalse(counted.finish());
    }
}
