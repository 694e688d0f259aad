package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.session.ControlFrame;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ControlFrameHandler} on an {@link EmbeddedChannel}: what each frame becomes. */
class ControlFrameHandlerTest {

    private static final int MAX_FRAME = 1024;

    private final List<Throwable> errors = new ArrayList<>();
    private final EmbeddedChannel channel =
            new EmbeddedChannel(new ControlFrameHandler(MAX_FRAME), new ChannelInboundHandlerAdapter() {
                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    errors.add(cause);
                }
            });

    @Test
    void aPingBecomesAControlFrameWithItsPayloadAndIsReleased() {
        PingWebSocketFrame ping = new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
        channel.writeInbound(ping);
        ControlFrame frame = channel.readInbound();
        assertEquals(ControlFrame.Kind.PING, frame.kind());
        assertArrayEquals(new byte[] {1, 2, 3}, frame.payload());
        assertEquals(0, ping.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void aPongBecomesAControlFrame() {
        PongWebSocketFrame pong = new PongWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {9}));
        channel.writeInbound(pong);
        assertSame(ControlFrame.PONG, channel.readInbound());
        assertEquals(0, pong.refCnt());
        assertFalse(channel.finish());
    }

    @Test
    void aContinuationIsCountedAndPassedOn() {
        ContinuationWebSocketFrame fragment =
                new ContinuationWebSocketFrame(false, 0, Unpooled.copiedBuffer(new byte[] {'x'}));
        channel.writeInbound(fragment);
        assertSame(ControlFrame.CONTINUATION, channel.readInbound());
        ContinuationWebSocketFrame passed = channel.readInbound();
        assertSame(fragment, passed);
        passed.release();
        assertFalse(channel.finish());
    }

    @Test
    void messagesAndValidClosesPassUnchanged() {
        TextWebSocketFrame text = new TextWebSocketFrame("{}");
        CloseWebSocketFrame close = new CloseWebSocketFrame(4000, "bye");
        channel.writeInbound(text, close);
        assertSame(text, channel.readInbound());
        assertSame(close, channel.readInbound());
        text.release();
        close.release();
        assertTrue(errors.isEmpty());
        assertFalse(channel.finish());
    }

    @Test
    void aCloseWithACodeThatMayNotBeSentIsAProtocolError() {
        for (int code : new int[] {999, 1005, 1006, 1015, 2000, 5000, 65535}) {
            CloseWebSocketFrame close = new CloseWebSocketFrame(
                    true, 0, Unpooled.wrappedBuffer(new byte[] {(byte) (code >> 8), (byte) code}));
            channel.writeInbound(close);
            assertNull(channel.readInbound(), "close " + code + " is not passed on");
            assertEquals(0, close.refCnt());
            CorruptedWebSocketFrameException error =
                    assertInstanceOf(CorruptedWebSocketFrameException.class, errors.remove(0));
            assertEquals(1002, error.closeStatus().code(), "close " + code);
        }
        assertFalse(channel.finish());
    }

    @Test
    void aFrameWithReservedBitsNoExtensionClearedIsAProtocolError() {
        for (int rsv = 1; rsv < 8; rsv++) {
            TextWebSocketFrame frame = new TextWebSocketFrame(true, rsv, Unpooled.copiedBuffer(new byte[] {'x'}));
            channel.writeInbound(frame);
            assertNull(channel.readInbound(), "rsv " + rsv + " is not passed on");
            assertEquals(0, frame.refCnt());
            CorruptedWebSocketFrameException error =
                    assertInstanceOf(CorruptedWebSocketFrameException.class, errors.remove(0));
            assertEquals(1002, error.closeStatus().code(), "rsv " + rsv);
        }
        assertFalse(channel.finish());
    }

    @Test
    void aFrameOverTheFrameLimitIsTooLongAndOneAtTheLimitPasses() {
        TextWebSocketFrame atLimit = new TextWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[MAX_FRAME]));
        channel.writeInbound(atLimit);
        TextWebSocketFrame passed = channel.readInbound();
        assertSame(atLimit, passed);
        passed.release();
        TextWebSocketFrame over = new TextWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[MAX_FRAME + 1]));
        channel.writeInbound(over);
        assertNull(channel.readInbound());
        assertEquals(0, over.refCnt());
        assertInstanceOf(TooLongFrameException.class, errors.remove(0));
        assertFalse(channel.finish());
    }

    @Test
    void sendableCodesAreThoseOfRfc6455() {
        assertTrue(ControlFrameHandler.sendableCode(Unpooled.EMPTY_BUFFER));
        assertFalse(ControlFrameHandler.sendableCode(Unpooled.wrappedBuffer(new byte[] {3})));
        for (int code = 0; code < 65536; code++) {
            boolean expected =
                    (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
            assertEquals(
                    expected,
                    ControlFrameHandler.sendableCode(
                            Unpooled.wrappedBuffer(new byte[] {(byte) (code >> 8), (byte) code})),
                    "code " + code);
        }
    }
}
