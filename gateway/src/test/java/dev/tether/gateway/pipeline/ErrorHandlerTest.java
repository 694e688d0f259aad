package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ErrorHandlerTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new ErrorHandler());

    @Test
    void oversizedMessageClosesWith1009() {
        channel.pipeline().fireExceptionCaught(new TooLongFrameException("too long"));
        CloseWebSocketFrame close = channel.readOutbound();
        try {
            assertEquals(1009, close.statusCode());
        } finally {
            close.release();
        }
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void protocolViolationClosesWithTheCodeItCarriesInOneCloseFrame() {
        channel.pipeline()
                .fireExceptionCaught(
                        new CorruptedWebSocketFrameException(WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "bad utf-8"));
        CloseWebSocketFrame close = channel.readOutbound();
        try {
            assertEquals(1007, close.statusCode());
        } finally {
            close.release();
        }
        assertNull(channel.readOutbound(), "one close frame");
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void protocolErrorClosesWith1002() {
        channel.pipeline()
                .fireExceptionCaught(new CorruptedWebSocketFrameException(
                        WebSocketCloseStatus.PROTOCOL_ERROR, "invalid close code 5000"));
        CloseWebSocketFrame close = channel.readOutbound();
        try {
            assertEquals(1002, close.statusCode());
        } finally {
            close.release();
        }
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void ioErrorClosesQuietly() {
        channel.pipeline().fireExceptionCaught(new IOException("connection reset by peer"));
        assertNull(channel.readOutbound());
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void connectionEndingMidMessageClosesQuietly() {
        channel.pipeline()
                .fireExceptionCaught(
                        new PrematureChannelClosureException("Channel closed while still aggregating message"));
        assertNull(channel.readOutbound(), "the peer is gone: no 1011, it is not a server error");
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void unexpectedErrorClosesWith1011() {
        channel.pipeline().fireExceptionCaught(new IllegalStateException("bug"));
        CloseWebSocketFrame close = channel.readOutbound();
        try {
            assertEquals(1011, close.statusCode());
        } finally {
            close.release();
        }
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }
}
