package dev.tether.loadtest.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.Inflater;
import org.junit.jupiter.api.Test;

/**
 * The deflate benchmark sends what it claims: with the gateway's default setting every frame from
 * the threshold on leaves compressed and inflates, on a fresh JDK inflater (no context takeover),
 * back to the {@code event} frame of its transcript line; smaller ones leave as they are.
 */
class DeflateCommandTest {

    @Test
    void theDefaultSettingCompressesEachLargeFrameOnItsOwnAndLeavesSmallOnesPlain() throws Exception {
        List<String> frames = DeflateCommand.frames(DeflateCommand.bundled());
        assertEquals(20, frames.size());
        DeflateCommand command = new DeflateCommand();
        command.threshold = 256;
        DeflateCommand.Setting defaults = DeflateCommand.SETTINGS.get(1);
        assertTrue(defaults.name().contains("defaults") && defaults.level() == 1 && defaults.noContextTakeover());
        EmbeddedChannel server = command.channel(defaults);
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(false)
                .allowExtensions(true)
                .maxFramePayloadLength(1 << 20)
                .build()));
        long wire = 0;
        long text = 0;
        int compressed = 0;
        for (String frame : frames) {
            server.writeOutbound(new TextWebSocketFrame(frame));
            for (ByteBuf out = server.readOutbound(); out != null; out = server.readOutbound()) {
                wire += out.readableBytes();
                client.writeInbound(out);
            }
            TextWebSocketFrame received = client.readInbound();
            try {
                byte[] payload = ByteBufUtil.getBytes(received.content());
                text += frame.getBytes(StandardCharsets.UTF_8).length;
                if (received.rsv() == 4) {
                    compressed++;
                    assertEquals(frame, new String(inflate(payload), StandardCharsets.UTF_8));
                } else {
                    assertEquals(0, received.rsv());
                    assertTrue(payload.length < command.threshold, "a plain frame from the threshold on");
                    assertEquals(frame, new String(payload, StandardCharsets.UTF_8));
                }
            } finally {
                received.release();
            }
        }
        assertTrue(compressed >= 15, compressed + " of " + frames.size() + " compressed");
        assertTrue(wire * 2 < text, "agent output compresses better than 2:1: " + wire + " of " + text);
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    private static byte[] inflate(byte[] payload) throws Exception {
        Inflater inflater = new Inflater(true);
        try {
            ByteBuf input =
                    Unpooled.buffer().writeBytes(payload).writeBytes(new byte[] {0, 0, (byte) 0xff, (byte) 0xff});
            inflater.setInput(ByteBufUtil.getBytes(input));
            input.release();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = inflater.inflate(buffer)) > 0 || !inflater.needsInput()) {
                out.write(buffer, 0, n);
                if (n == 0 && !inflater.needsInput()) {
                    throw new IllegalStateException("inflater stuck");
                }
            }
            return out.toByteArray();
        } finally {
            inflater.end();
        }
    }
}
