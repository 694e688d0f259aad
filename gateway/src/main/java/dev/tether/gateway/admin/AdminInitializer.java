package dev.tether.gateway.admin;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.AdminConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.pipeline.HttpRouteHandler;
import dev.tether.gateway.tls.CertificateReloader;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds the pipeline of one admin connection, nothing else. Inbound, top to bottom:
 *
 * <ol>
 *   <li>{@link #TLS}: Netty's {@code SslHandler}, only with {@code admin.tls.enabled}; with
 *       {@code admin.tls.client_auth: require} the handshake fails unless the client presents a
 *       certificate signed by {@code admin.tls.client_ca_file}. Within {@code admin.request_timeout}.
 *   <li>{@link #HTTP_CODEC}: bytes to HTTP request parts; request line and headers bounded (room
 *       for an 8 KiB token in {@code Authorization}).
 *   <li>{@link #HTTP_AGGREGATOR}: one full request; the API takes no bodies, so a small bound (413 beyond).
 *   <li>{@link #GUARD}: {@link AdminConnectionGuard}, {@code admin.max_connections} and the request and
 *       idle timeouts.
 *   <li>{@link #AUTH}: {@link AdminAuthHandler}, 401/403 unless the bearer token has the admin role.
 *   <li>{@link #ROUTES}: {@link HttpRouteHandler} with the {@link AdminApi} routes; unknown paths
 *       404, wrong methods 405, all JSON.
 * </ol>
 */
final class AdminInitializer extends ChannelInitializer<SocketChannel> {

    static final String TLS = "tls";
    static final String HTTP_CODEC = "http-codec";
    static final String HTTP_AGGREGATOR = "http-aggregator";
    static final String GUARD = "admin-guard";
    static final String AUTH = "admin-auth";
    static final String ROUTES = "admin-routes";

    static final int MAX_INITIAL_LINE_BYTES = 4 * 1024;
    static final int MAX_HEADER_BYTES = 16 * 1024;
    static final int MAX_CHUNK_BYTES = 8 * 1024;
    static final int MAX_REQUEST_BYTES = 8 * 1024;

    private final AdminConfig config;
    private final GatewayMetrics metrics;
    private final AdminAuthHandler auth;
    private final HttpRouteHandler routes;
    /** The admin listener's certificate (and client CA); null for plain HTTP. */
    private final CertificateReloader tls;
    /** Admin connections open now, across the listener. */
    private final AtomicInteger open = new AtomicInteger();

    AdminInitializer(
            AdminConfig config,
            GatewayMetrics metrics,
            AdminAuthHandler auth,
            HttpRouteHandler routes,
            CertificateReloader tls) {
        this.tls = tls;
        this.config = requireNonNull(config, "config");
        this.metrics = requireNonNull(metrics, "metrics");
        this.auth = requireNonNull(auth, "auth");
        this.routes = requireNonNull(routes, "routes");
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        if (tls != null) {
            pipeline.addLast(TLS, tls.newHandler(channel.alloc(), config.requestTimeout()));
        }
        pipeline.addLast(HTTP_CODEC, new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, MAX_CHUNK_BYTES));
        pipeline.addLast(HTTP_AGGREGATOR, new HttpObjectAggregator(MAX_REQUEST_BYTES));
        pipeline.addLast(GUARD, new AdminConnectionGuard(config, open, metrics));
        pipeline.addLast(AUTH, auth);
        pipeline.addLast(ROUTES, routes);
    }
}
