package dev.tether.gateway.pipeline;

import static dev.tether.gateway.pipeline.GatewayPipeline.COMPRESSION;
import static dev.tether.gateway.pipeline.GatewayPipeline.CONNECTION_LIMITS;
import static dev.tether.gateway.pipeline.GatewayPipeline.CONTROL_FRAMES;
import static dev.tether.gateway.pipeline.GatewayPipeline.ERRORS;
import static dev.tether.gateway.pipeline.GatewayPipeline.FLUSH;
import static dev.tether.gateway.pipeline.GatewayPipeline.FRAME_AGGREGATOR;
import static dev.tether.gateway.pipeline.GatewayPipeline.FRAME_CODEC;
import static dev.tether.gateway.pipeline.GatewayPipeline.HTTP_AGGREGATOR;
import static dev.tether.gateway.pipeline.GatewayPipeline.HTTP_CODEC;
import static dev.tether.gateway.pipeline.GatewayPipeline.HTTP_ROUTES;
import static dev.tether.gateway.pipeline.GatewayPipeline.MAX_CHUNK_BYTES;
import static dev.tether.gateway.pipeline.GatewayPipeline.MAX_HEADER_BYTES;
import static dev.tether.gateway.pipeline.GatewayPipeline.MAX_INITIAL_LINE_BYTES;
import static dev.tether.gateway.pipeline.GatewayPipeline.MAX_UPGRADE_REQUEST_BYTES;
import static dev.tether.gateway.pipeline.GatewayPipeline.OUTBOUND_GUARD;
import static dev.tether.gateway.pipeline.GatewayPipeline.SESSION;
import static dev.tether.gateway.pipeline.GatewayPipeline.SUBPROTOCOL;
import static dev.tether.gateway.pipeline.GatewayPipeline.TLS;
import static dev.tether.gateway.pipeline.GatewayPipeline.UPGRADE;
import static dev.tether.gateway.pipeline.GatewayPipeline.WEBSOCKET;
import static dev.tether.gateway.pipeline.GatewayPipeline.add;
import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.abuse.AddressRateLimiter;
import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.http.HttpRoutes;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.tls.CertificateReloader;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * Builds each connection's pipeline, and nothing else: each stage is added by its name with
 * {@link GatewayPipeline#add}, which places it by {@link GatewayPipeline#ORDER}. Holds what the connections share: the codec, the error handler, the accept-time
 * {@link ConnectionGate} and the per-address connection rate limiter, built from the configuration in force when each connection is accepted
 * (see {@link #apply}).
 */
public final class GatewayInitializer extends ChannelInitializer<SocketChannel> {

    private final WireCodec codec;
    private final Ticker ticker;
    private final TokenVerification verifier;
    private final SessionRegistry registry;
    private final HttpRouteHandler routes;
    private final ErrorHandler errors = new ErrorHandler();
    /** Open and pending connections, counted across reloads (which only change its limits). */
    private final ConnectionGate gate;

    private final ConnectionLimitHandler connectionLimits;
    /** The certificate served to new connections; null with {@code server.tls} off. */
    private final CertificateReloader tls;
    /** What connections accepted from now on are built with; replaced whole by {@link #apply}. */
    private volatile Stage stage;

    /** The handlers and settings built from one configuration, shared by the connections it serves. */
    private record Stage(
            GatewayConfig config,
            Refusals refusals,
            FrameCodec frameCodec,
            WebSocketServerProtocolConfig websocket,
            AddressRateLimiter addresses,
            ControlFrameHandler controlFrames,
            Compression compression) {}

    /**
     * @param routes the plain HTTP endpoints served on this listener next to the WebSocket
     * @param ticker nanosecond time for the per-address connection rate
     * @param tls the certificate of {@code server.tls}, or null to serve plain {@code ws://}
     */
    public GatewayInitializer(
            GatewayConfig config,
            WireCodec codec,
            TokenVerification verifier,
            SessionRegistry registry,
            HttpRoutes routes,
            Ticker ticker,
            CertificateReloader tls) {
        this.tls = tls;
        this.codec = requireNonNull(codec, "codec");
        this.ticker = requireNonNull(ticker, "ticker");
        this.routes = new HttpRouteHandler(routes);
        this.verifier = requireNonNull(verifier, "verifier");
        this.registry = requireNonNull(registry, "registry");
        this.stage = stage(requireNonNull(config, "config"), new AddressRateLimiter(config.abuse(), ticker));
        this.gate = new ConnectionGate(
                config.abuse().maxConnectionsPerAddress(), config.abuse().maxPendingHandshakes());
        this.connectionLimits = new ConnectionLimitHandler(gate, registry.metrics());
    }

    /** The accept-time connection counts (for the listener's accept failures and the metrics). */
    public ConnectionGate gate() {
        return gate;
    }

    /**
     * Builds the connections accepted from now on with a reloaded configuration ({@code server}
     * origins, frame size, handshake timeout and compression, {@code auth.allow_query_token},
     * {@code sessions.retry_after}, the {@code abuse} connection and outbound limits). Connections
     * already accepted keep what they were built with. The per-address connection buckets are kept
     * unless one of the keys that shape them changed; then they start anew, full. Any thread.
     */
    public void apply(GatewayConfig next) {
        Stage now = stage;
        AbuseConfig before = now.config().abuse();
        AbuseConfig after = next.abuse();
        boolean sameBuckets = before.connectionsPerSecond() == after.connectionsPerSecond()
                && before.connectionBurst() == after.connectionBurst()
                && before.maxTrackedAddresses() == after.maxTrackedAddresses();
        stage = stage(next, sameBuckets ? now.addresses() : new AddressRateLimiter(after, ticker));
        gate.limits(after.maxConnectionsPerAddress(), after.maxPendingHandshakes());
    }

    private Stage stage(GatewayConfig config, AddressRateLimiter addresses) {
        WebSocketServerProtocolConfig websocket = WebSocketServerProtocolConfig.newBuilder()
                // UpgradeHandler forwards only requests for exactly this path, rewritten to it.
                .websocketPath(config.server().path())
                .checkStartsWith(false)
                .subprotocols(SUBPROTOCOL)
                .handshakeTimeoutMillis(config.server().handshakeTimeout().toMillis())
                .handleCloseFrames(true)
                .dropPongFrames(true)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.server().maxFrameBytes())
                        // RSV bits pass the frame decoder only when an extension may use them;
                        // ControlFrameHandler refuses those that no negotiated extension consumed.
                        .allowExtensions(config.server().compression().enabled())
                        // Violations are only raised: ErrorHandler writes the one close frame.
                        .closeOnProtocolViolation(false)
                        .withUTF8Validator(true)
                        .build())
                .build();
        return new Stage(
                config,
                new Refusals(codec.mapper(), config.sessions().retryAfter().toSeconds(), registry.metrics()),
                new FrameCodec(codec, config.abuse().maxMessageBytes(), registry.metrics()),
                websocket,
                addresses,
                new ControlFrameHandler(config.server().maxFrameBytes()),
                config.server().compression().enabled()
                        ? new Compression(
                                config.server().compression(), config.server().maxFrameBytes())
                        : null);
    }

    /** At most this many frames wait for a consolidated flush (Netty's default). */
    private static final int FLUSHES_BEFORE_WRITE = FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES;

    @Override
    protected void initChannel(SocketChannel channel) {
        Stage stage = this.stage;
        GatewayConfig config = stage.config();
        // Set per connection (not only as a bootstrap child option) so a reload reaches new ones.
        channel.config()
                .setWriteBufferWaterMark(new WriteBufferWaterMark(
                        config.abuse().outboundHighWater() / 2, config.abuse().outboundHighWater()));
        ChannelPipeline pipeline = channel.pipeline();
        add(pipeline, CONNECTION_LIMITS, connectionLimits);
        if (tls != null) {
            add(pipeline, TLS, tls.newHandler(channel.alloc(), config.server().handshakeTimeout()));
        }
        add(pipeline, OUTBOUND_GUARD, new OutboundGuard(config.abuse()));
        add(pipeline, FLUSH, new FlushConsolidationHandler(FLUSHES_BEFORE_WRITE, true));
        add(pipeline, HTTP_CODEC, new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, MAX_CHUNK_BYTES));
        add(pipeline, HTTP_AGGREGATOR, new HttpObjectAggregator(MAX_UPGRADE_REQUEST_BYTES));
        add(pipeline, HTTP_ROUTES, routes);
        add(
                pipeline,
                UPGRADE,
                new UpgradeHandler(
                        config.server(),
                        config.auth(),
                        verifier,
                        registry,
                        stage.refusals(),
                        stage.addresses(),
                        config.drain().retryAfter().toSeconds()));
        if (stage.compression() != null) {
            add(pipeline, COMPRESSION, stage.compression().newHandler());
        }
        add(pipeline, CONTROL_FRAMES, stage.controlFrames());
        add(pipeline, WEBSOCKET, new WebSocketServerProtocolHandler(stage.websocket()));
        add(
                pipeline,
                FRAME_AGGREGATOR,
                new WebSocketFrameAggregator(config.server().maxFrameBytes()));
        add(pipeline, FRAME_CODEC, stage.frameCodec());
        add(pipeline, SESSION, new SessionHandler(registry, stage.config().heartbeat()));
        add(pipeline, ERRORS, errors);
    }
}
