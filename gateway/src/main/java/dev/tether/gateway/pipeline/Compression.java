package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.CompressionConfig;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionFilter;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionFilterProvider;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtension;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketServerExtensionHandshaker;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.util.HashMap;
import java.util.Map;

/**
 * permessage-deflate (RFC 7692) as {@code server.compression} configures it: builds the stage
 * {@link GatewayPipeline#COMPRESSION}, Netty's {@link WebSocketServerExtensionHandler} with Netty's
 * {@link PerMessageDeflateServerExtensionHandshaker}. When the upgrade answer is written, Netty puts
 * the extension's inflater and deflater right after that stage and removes the stage; Netty also
 * does the deflating and the inflating (the JDK's zlib, a 32 KiB window).
 *
 * <p>What this class adds to Netty's handshaker:
 *
 * <ul>
 *   <li>The no-context-takeover flags the configuration asks for are answered even when the
 *       client did not offer them, as RFC 7692 7.1.1.1 and 7.1.1.2 allow a server to (Netty's
 *       handshaker only echoes what was offered). With both, neither zlib stream outlives a message.
 *   <li>{@code threshold}: smaller messages leave without RSV1, uncompressed (Netty's encoder filter).
 *   <li>{@code maxAllocation}: each inflate call stops at {@code server.max_frame_bytes} and fails the
 *       frame, so a decompression bomb never allocates its inflated size ({@link ErrorHandler}
 *       closes with 1009). Netty inflates a frame's bytes and the 4-byte tail RFC 7692 leaves off in
 *       two calls, so a frame may come out a little over the limit: {@link ControlFrameHandler}
 *       refuses it (1009), and the frame aggregator a fragmented message over it.
 * </ul>
 *
 * An offer that asks the server for a window under 15 bits ({@code server_max_window_bits}) is
 * declined, so the client's next offer or no compression is used: the JDK's zlib, which Netty uses,
 * deflates with 15 bits only. Immutable and thread-safe: one instance serves every connection built
 * with one configuration.
 */
final class Compression {

    static final String EXTENSION = "permessage-deflate";
    private static final String SERVER_NO_CONTEXT_TAKEOVER = "server_no_context_takeover";
    private static final String CLIENT_NO_CONTEXT_TAKEOVER = "client_no_context_takeover";

    private final CompressionConfig config;
    private final WebSocketServerExtensionHandshaker handshaker;

    /** @param maxFrameBytes {@code server.max_frame_bytes}: the largest inflated frame */
    Compression(CompressionConfig config, int maxFrameBytes) {
        this.config = requireNonNull(config, "config");
        PerMessageDeflateServerExtensionHandshaker netty = new PerMessageDeflateServerExtensionHandshaker(
                config.level(),
                false,
                config.clientMaxWindowBits(),
                true,
                config.clientNoContextTakeover(),
                new Threshold(config.threshold()),
                maxFrameBytes);
        this.handshaker = offer -> netty.handshakeExtension(withPreferences(offer));
    }

    /** A new {@link GatewayPipeline#COMPRESSION} stage for one connection (Netty's handler keeps per-connection state). */
    WebSocketServerExtensionHandler newHandler() {
        return new WebSocketServerExtensionHandler(handshaker);
    }

    /**
     * The extension Netty's handshaker negotiates for one offer, or null when it declines it.
     * Package-private for the handler test.
     */
    WebSocketServerExtension negotiate(WebSocketExtensionData offer) {
        return handshaker.handshakeExtension(offer);
    }

    /** {@code offer} with the no-context-takeover flags the configuration wants answered added. */
    private WebSocketExtensionData withPreferences(WebSocketExtensionData offer) {
        if (!EXTENSION.equals(offer.name())) {
            return offer;
        }
        Map<String, String> parameters = new HashMap<>(offer.parameters());
        if (config.serverNoContextTakeover()) {
            parameters.put(SERVER_NO_CONTEXT_TAKEOVER, null);
        }
        if (config.clientNoContextTakeover()) {
            parameters.put(CLIENT_NO_CONTEXT_TAKEOVER, null);
        }
        return new WebSocketExtensionData(offer.name(), parameters);
    }

    /** Skips the deflater for messages under the threshold; the inflater sees every frame (RSV1 decides). */
    private record Threshold(int bytes) implements WebSocketExtensionFilterProvider {

        @Override
        public WebSocketExtensionFilter encoderFilter() {
            return this::small;
        }

        @Override
        public WebSocketExtensionFilter decoderFilter() {
            return WebSocketExtensionFilter.NEVER_SKIP;
        }

        private boolean small(WebSocketFrame frame) {
            // Only whole messages are skipped: the rest of a compressed message must be compressed too.
            return !(frame instanceof ContinuationWebSocketFrame)
                    && frame.isFinalFragment()
                    && frame.content().readableBytes() < bytes;
        }
    }
}
