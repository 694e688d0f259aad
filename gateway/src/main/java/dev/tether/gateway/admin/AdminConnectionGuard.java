package dev.tether.gateway.admin;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.AdminConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards an admin connection (stage {@link AdminInitializer#GUARD}, after the request is
 * aggregated): at most {@code admin.max_connections} are open at once (the next is closed at once,
 * counted as {@code admin_limit}); a connection that has not sent a complete request within {@code
 * admin.request_timeout} of its accept is closed; and a keep-alive connection whose next complete
 * request does not come within {@code admin.idle_timeout} of the previous one is closed (so a
 * request trickled in byte by byte is cut too). The admin API is for a few operators' tools, so a
 * handful of slow or silent connections must never hold its descriptors.
 *
 * <p>One instance per connection; runs on its event loop. {@code open} is shared by the listener's
 * connections.
 */
final class AdminConnectionGuard extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AdminConnectionGuard.class);

    private final AdminConfig config;
    private final AtomicInteger open;
    private final GatewayMetrics metrics;
    private boolean counted;
    private ScheduledFuture<?> requestTimer;

    AdminConnectionGuard(AdminConfig config, AtomicInteger open, GatewayMetrics metrics) {
        this.config = requireNonNull(config, "config");
        this.open = requireNonNull(open, "open");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (open.incrementAndGet() > config.maxConnections()) {
            open.decrementAndGet();
            metrics.connectionRefused(ConnectionGate.Outcome.ADMIN_LIMIT);
            log.debug(
                    "closing admin connection {} at accept: admin.max_connections ({}) are open",
                    ctx.channel().remoteAddress(),
                    config.maxConnections());
            Unwatched.close(ctx);
            return;
        }
        counted = true;
        expectRequestWithin(ctx, config.requestTimeout(), "admin.request_timeout");
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpRequest) {
            expectRequestWithin(ctx, config.idleTimeout(), "admin.idle_timeout");
        }
        ctx.fireChannelRead(msg);
    }

    /** (Re)arms the deadline for the next complete request. */
    private void expectRequestWithin(ChannelHandlerContext ctx, Duration within, String key) {
        if (requestTimer != null) {
            requestTimer.cancel(false);
        }
        requestTimer = ctx.executor()
                .schedule(
                        () -> {
                            log.debug(
                                    "closing admin connection {}: no complete request within {} ({})",
                                    ctx.channel().remoteAddress(),
                                    key,
                                    within);
                            Unwatched.close(ctx);
                        },
                        within.toNanos(),
                        TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (requestTimer != null) {
            requestTimer.cancel(false);
        }
        if (counted) {
            counted = false;
            open.decrementAndGet();
        }
        ctx.fireChannelInactive();
    }
}
