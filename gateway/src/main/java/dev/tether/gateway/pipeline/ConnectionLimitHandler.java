package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.metrics.GatewayMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first stage of every connection ({@link GatewayPipeline#CONNECTION_LIMITS}): counts it at the
 * {@link ConnectionGate} the moment it is accepted, before a byte is read, and closes it at once when
 * its address already holds {@code abuse.max_connections_per_address} (no handler after this one
 * ever sees it). A connection admitted while {@code abuse.max_pending_handshakes} are pending makes
 * the gate close the oldest pending one. Every such close is counted by reason
 * ({@code tether_connections_refused_total}).
 *
 * <p>The lease stays on the channel: {@link #upgraded} (called when the WebSocket handshake
 * completes) takes the connection off the pending count, and the close gives its place back.
 * Sharable; runs on each channel's event loop.
 */
@ChannelHandler.Sharable
public final class ConnectionLimitHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimitHandler.class);
    private static final AttributeKey<ConnectionGate.Lease> LEASE = AttributeKey.valueOf("tether.connectionLease");

    private final ConnectionGate gate;
    private final GatewayMetrics metrics;

    public ConnectionLimitHandler(ConnectionGate gate, GatewayMetrics metrics) {
        this.gate = requireNonNull(gate, "gate");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel channel = ctx.channel();
        ConnectionGate.Lease lease = gate.admit(channel.remoteAddress(), outcome -> {
            metrics.connectionRefused(outcome);
            log.debug("closing {}: {}", channel.remoteAddress(), outcome.tag());
            Unwatched.close(channel);
        });
        if (lease == null) {
            metrics.connectionRefused(ConnectionGate.Outcome.ADDRESS_LIMIT);
            log.debug(
                    "closing {} at accept: its address holds abuse.max_connections_per_address",
                    channel.remoteAddress());
            Unwatched.close(ctx);
            return;
        }
        channel.attr(LEASE).set(lease);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ConnectionGate.Lease lease = ctx.channel().attr(LEASE).getAndSet(null);
        if (lease != null) {
            lease.release();
        }
        ctx.fireChannelInactive();
    }

    /** {@code channel} completed its WebSocket upgrade: it is no longer pending. */
    static void upgraded(Channel channel) {
        ConnectionGate.Lease lease = channel.attr(LEASE).get();
        if (lease != null) {
            lease.upgraded();
        }
    }
}
