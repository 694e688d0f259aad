package dev.tether.loadtest.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The engine's connection handler on an embedded channel, with the real HTTP codec in front of it: bytes in, calls out. */
class WsClientHandlerTest {

    private final List<String> calls = new ArrayList<>();

    private final Link.Listener listener = new Link.Listener() {
        @Override
        public void opened(Link link) {
            calls.add("opened");
        }

        @Override
        public void refused(int status, Throwable cause) {
            calls.add("refused " + status);
        }

        @Override
        public void frame(String text, long nanos) {
            calls.add("frame " + text);
        }

        @Override
        public void closed(int code) {
            calls.add("closed " + code);
        }
    };

    private EmbeddedChannel channel() {
        DefaultHttpHeaders headers = new DefaultHttpHeaders();
        headers.set(HttpHeaderNames.AUTHORIZATION, "Bearer t");
        WsClientHandler handler = new WsClientHandler(
                WebSocketClientHandshakerFactory.newHandshaker(
                        URI.create("ws://127.0.0.1:9/ws"),
                        WebSocketVersion.V13,
                        null,
                        false,
                        headers,
                        65536,
                        true,
                        false,
                        -1,
                        false,
                        false),
                listener,
                5_000);
        return new EmbeddedChannel(new HttpClientCodec(), new HttpObjectAggregator(65536), handler);
    }

    /** The upgrade request the handler wrote, as text (released). */
    private static String request(EmbeddedChannel ch) {
        StringBuilder text = new StringBuilder();
        ByteBuf out;
        while ((out = ch.readOutbound()) != null) {
            text.append(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        return text.toString();
    }

    private static String accept(String request) throws Exception {
        String key = request.lines()
                .filter(l -> l.toLowerCase(Locale.ROOT).startsWith("sec-websocket-key:"))
                .findFirst()
                .orElseThrow()
                .substring("sec-websocket-key:".length())
                .trim();
        byte[] sha1 = MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
        return Base64.getEncoder().encodeToString(sha1);
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void upgradesThenHandsEveryTextFrameToItsListener() throws Exception {
        EmbeddedChannel ch = channel();
        String request = request(ch);
        assertTrue(request.startsWith("GET /ws HTTP/1.1"), request);
        assertTrue(request.contains("authorization: Bearer t") || request.contains("Authorization: Bearer t"), request);
        assertFalse(request.toLowerCase(Locale.ROOT).contains("origin:"), "no Origin: not a browser");
        ch.writeInbound(ascii("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept(request) + "\r\n\r\n"));
        byte[] payload = "{\"type\":\"pong\"}".getBytes(StandardCharsets.UTF_8);
        ByteBuf frame =
                Unpooled.buffer().writeByte(0x81).writeByte(payload.length).writeBytes(payload);
        ch.writeInbound(frame);
        ch.writeInbound(Unpooled.buffer().writeByte(0x88).writeByte(2).writeShort(1000));
        assertEquals(List.of("opened", "frame {\"type\":\"pong\"}", "closed 1000"), calls);
        ByteBuf echoedClose;
        while ((echoedClose = ch.readOutbound()) != null) {
            echoedClose.release();
        }
        assertFalse(ch.finish());
    }

    @Test
    void aRefusedUpgradeIsReportedWithItsStatusAndNothingElse() {
        EmbeddedChannel ch = channel();
        request(ch);
        ch.writeInbound(
                ascii("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
        assertEquals(List.of("refused 401"), calls);
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }
}
