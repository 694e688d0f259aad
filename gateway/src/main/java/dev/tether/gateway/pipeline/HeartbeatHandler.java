package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.HeartbeatConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WebSocket heartbeats (stages {@link GatewayPipeline#HEARTBEAT_IDLE} and {@link
 * GatewayPipeline#HEARTBEAT}): keeps an idle connection alive through proxies and closes one whose
 * peer is gone. Netty's {@link IdleStateHandler} measures the silence; this handler acts on its
 * events.
 *
 * <ul>
 *   <li>Nothing <em>written</em> for {@code heartbeat.interval}, or nothing <em>read</em> for
 *       {@code heartbeat.interval}: a ping. Both, because a proxy with a read timeout above the
 *       interval must see traffic in each direction: a ping is server-to-client traffic and the
 *       client's pong is client-to-server traffic, also while the gateway streams a long reply to a
 *       client that sends nothing. While the reader is silent its idle events ping, and the
 *       writer's are ignored, so a silent connection gets one ping per interval, not two.
 *   <li>Nothing read (no frame, not even a pong) for {@code heartbeat.timeout}: the peer is taken
 *       for dead and the connection closed without a close frame (no one would read it). The
 *       session sees the channel go inactive and goes on detached, resumable as after any drop.
 *       The silence is counted in whole intervals of reader idleness, so the close comes at
 *       {@code timeout} rounded up to a multiple of {@code interval}.
 * </ul>
 *
 * <p>Both stages are added by {@link #install} when the WebSocket handshake completes (pings make
 * no sense on an HTTP connection), just before {@link GatewayPipeline#CONTROL_FRAMES}: there they
 * see every decoded frame, pongs included, before pings and pongs are taken off to the session. Runs on the
 * channel's event loop; one instance per connection.
 */
final class HeartbeatHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(HeartbeatHandler.class);

    private final int deadAfterIntervals;
    /** Reader idle intervals in a row; {@code > 0} means reader-idle events are pinging already. */
    private int silentIntervals;

    HeartbeatHandler(HeartbeatConfig config) {
        requireNonNull(config, "config");
        long interval = config.interval().toNanos();
        this.deadAfterIntervals = (int) Math.max(1, (config.timeout().toNanos() + interval - 1) / interval);
    }

    /** Adds both heartbeat stages at their place in {@link GatewayPipeline#ORDER}. */
    static void install(ChannelPipeline pipeline, HeartbeatConfig config) {
        GatewayPipeline.add(pipeline, GatewayPipeline.HEARTBEAT_IDLE, idleStateHandler(config));
        GatewayPipeline.add(pipeline, GatewayPipeline.HEARTBEAT, new HeartbeatHandler(config));
    }

    /** The idle-state stage: reader and writer idleness both after {@code heartbeat.interval}. */
    static IdleStateHandler idleStateHandler(HeartbeatConfig config) {
        long interval = config.interval().toNanos();
        return new IdleStateHandler(interval, interval, 0, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        silentIntervals = 0;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof IdleStateEvent idle)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (idle.state() == IdleState.READER_IDLE) {
            silentIntervals = idle.isFirst() ? 1 : silentIntervals + 1;
            if (silentIntervals >= deadAfterIntervals) {
                // INFO, like the outbound guard's closes: an operator (or a load test) can see half-open connections
                // found.
                log.atInfo()
                        .addKeyValue("remote", ctx.channel().remoteAddress())
                        .log("nothing received for {} heartbeat intervals: closing as dead", silentIntervals);
                Unwatched.close(ctx);
                return;
            }
        } else if (idle.state() == IdleState.WRITER_IDLE && silentIntervals > 0) {
            return; // the reader's silence already pings once per interval
        }
        ctx.writeAndFlush(new PingWebSocketFrame(Unpooled.EMPTY_BUFFER))
                .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }
}
