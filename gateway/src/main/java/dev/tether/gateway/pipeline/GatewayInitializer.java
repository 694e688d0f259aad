package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.http.HttpRoutes;
import dev.tether.gateway.limits.AddressRateLimiter;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * Builds each connection's pipeline in the order {@link GatewayPipeline} documents, and nothing
 * else. Holds what the connections share: the codec, the error handler and the per-address
 * connection rate limiter.
 */
public final class GatewayInitializer extends ChannelInitializer<SocketChannel> {

    private final GatewayConfig config;
    private final TokenVerification verifier;
    private final SessionRegistry registry;
    private final Refusals refusals;
    private final FrameCodec frameCodec;
    private final HttpRouteHandler routes;
    private final ErrorHandler errors = new ErrorHandler();
    private final WebSocketServerProtocolConfig websocket;
    private final AddressRateLimiter addresses;

    /**
     * @param routes the plain HTTP endpoints served on this listener next to the WebSocket
     * @param ticker nanosecond time for the per-address connection rate
     */
    public GatewayInitializer(GatewayConfig config, WireCodec codec, TokenVerification verifier, SessionRegistry registry,
            HttpRoutes routes, Ticker ticker) {
        this.config = requireNonNull(config, "config");
        this.routes = new HttpRouteHandler(routes);
        this.addresses = new AddressRateLimiter(config.abuse(), ticker);
        this.verifier = requireNonNull(verifier, "verifier");
        this.registry = requireNonNull(registry, "registry");
        this.refusals = new Refusals(codec.mapper(), config.sessions().retryAfter().toSeconds());
        this.frameCodec = new FrameCodec(codec, config.abuse().maxMessageBytes());
        this.websocket = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(config.server().path())
                .checkStartsWith(true)
                .subprotocols(GatewayPipeline.SUBPROTOCOL)
                .handshakeTimeoutMillis(config.server().handshakeTimeout().toMillis())
                .handleCloseFrames(true)
                .dropPongFrames(true)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.server().maxFrameBytes())
                        .allowExtensions(false)
                        .closeOnProtocolViolation(true)
                        .withUTF8Validator(true)
                        .build())
                .build();
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast(GatewayPipeline.OUTBOUND_GUARD, new OutboundGuard(config.abuse()));
        pipeline.addLast(GatewayPipeline.HTTP_CODEC, new HttpServerCodec(
                GatewayPipeline.MAX_INITIAL_LINE_BYTES, GatewayPipeline.MAX_HEADER_BYTES, GatewayPipeline.MAX_CHUNK_BYTES));
        pipeline.addLast(GatewayPipeline.HTTP_AGGREGATOR, new HttpObjectAggregator(GatewayPipeline.MAX_UPGRADE_REQUEST_BYTES));
        pipeline.addLast(GatewayPipeline.HTTP_ROUTES, routes);
        pipeline.addLast(GatewayPipeline.UPGRADE,
                new UpgradeHandler(config.server(), config.auth(), verifier, registry, refusals, addresses,
                        config.drain().retryAfter().toSeconds()));
        pipeline.addLast(GatewayPipeline.WEBSOCKET, new WebSocketServerProtocolHandler(websocket));
        pipeline.addLast(GatewayPipeline.FRAME_AGGREGATOR, new WebSocketFrameAggregator(config.server().maxFrameBytes()));
        pipeline.addLast(GatewayPipeline.FRAME_CODEC, frameCodec);
        pipeline.addLast(GatewayPipeline.SESSION, new SessionHandler(registry));
        pipeline.addLast(GatewayPipeline.ERRORS, errors);
    }
}
