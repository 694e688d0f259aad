package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.gateway.session.Connection;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disconnects a client that does not read (pipeline stage {@link GatewayPipeline#OUTBOUND_GUARD}, the
 * first handler, so it sees the bytes that are really queued for the socket). The channel's {@code
 * WriteBufferWaterMark} ({@code abuse.outbound_high_water}, low mark half of it) makes the channel
 * unwritable when that much is unsent; then:
 *
 * <ul>
 *   <li>after every flush, a connection with more than {@code abuse.max_outbound_bytes} still unsent
 *       is closed at once;
 *   <li>a connection that stays unwritable for {@code abuse.outbound_stall_timeout} is closed (the
 *       timer starts when it becomes unwritable and is cancelled when it is writable again).
 * </ul>
 *
 * <p>The check runs after a flush, not after each write, because a resume writes its whole replay
 * (up to {@code sessions.replay_max_bytes}) before flushing it; what counts is what the socket could
 * not take. Between two flushes nothing grows beyond one replay or one frame.
 *
 * <p>The close is a plain TCP close, <b>without a WebSocket close frame</b>: a close frame would be
 * queued behind the very bytes the client does not read, and closing discards it anyway. The client
 * sees an abnormal closure (1006), which tells it to reconnect and resume; its session detaches,
 * keeps buffering within its replay bounds, and replays (or reports a {@code replay_gap}) on resume.
 *
 * <p>Runs on the channel's event loop; one instance per channel.
 */
final class OutboundGuard extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(OutboundGuard.class);

    private final long maxOutboundBytes;
    private final Duration stallTimeout;
    private final ToLongFunction<Channel> pendingBytes;
    private ScheduledFuture<?> stall;

    OutboundGuard(AbuseConfig config) {
        this(config.maxOutboundBytes(), config.outboundStallTimeout(), OutboundGuard::unsentBytes);
    }

    /** With {@code pendingBytes} measuring a channel's unsent bytes (tests replace the transport's count). */
    OutboundGuard(long maxOutboundBytes, Duration stallTimeout, ToLongFunction<Channel> pendingBytes) {
        this.maxOutboundBytes = maxOutboundBytes;
        this.stallTimeout = requireNonNull(stallTimeout, "stallTimeout");
        this.pendingBytes = requireNonNull(pendingBytes, "pendingBytes");
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        long unsent = pendingBytes.applyAsLong(ctx.channel());
        if (unsent > maxOutboundBytes && ctx.channel().isActive()) {
            log.atInfo()
                    .addKeyValue("remote", ctx.channel().remoteAddress())
                    .log(
                            "closing {}: not reading, {} bytes unsent (abuse.max_outbound_bytes {})",
                            ctx.channel(),
                            unsent,
                            maxOutboundBytes);
            cut(ctx);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable()) {
            if (stall == null && ctx.channel().isActive()) {
                stall = ctx.executor().schedule(() -> onStalled(ctx), stallTimeout.toNanos(), TimeUnit.NANOSECONDS);
            }
        } else {
            cancel();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void onStalled(ChannelHandlerContext ctx) {
        stall = null;
        if (ctx.channel().isWritable() || !ctx.channel().isActive()) {
            return;
        }
        log.atInfo()
                .addKeyValue("remote", ctx.channel().remoteAddress())
                .log(
                        "closing {}: not reading for {} ({} bytes unsent, abuse.outbound_stall_timeout)",
                        ctx.channel(),
                        stallTimeout,
                        pendingBytes.applyAsLong(ctx.channel()));
        cut(ctx);
    }

    /** Closes a connection that does not read, marked so its session knows why ({@link Connection#SLOW_CONSUMER}). */
    private static void cut(ChannelHandlerContext ctx) {
        ctx.channel().attr(Connection.SLOW_CONSUMER).set(Boolean.TRUE);
        Unwatched.close(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    private void cancel() {
        if (stall != null) {
            stall.cancel(false);
            stall = null;
        }
    }

    /**
     * Bytes written to the channel and not yet taken by the socket, plus Netty's small bookkeeping
     * overhead per message (0 once it is closed).
     */
    static long unsentBytes(Channel channel) {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }
}
