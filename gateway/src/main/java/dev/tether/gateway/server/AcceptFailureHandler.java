package dev.tether.gateway.server;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening socket's own handler: what happens when accepting a connection fails because the
 * process has no file descriptor left ({@code EMFILE}, or {@code ENFILE} for the whole system).
 *
 * <p>Each failure is counted ({@code tether_accept_failures_total}); the first of a burst is logged
 * once (a burst ends after {@link #QUIET} without failures, and its end is logged with its count).
 * Then the {@link #SHED} oldest connections that have not completed an upgrade are closed, since
 * those are what a flood of silent sockets holds, and accepting pauses for {@link #PAUSE} (the
 * pending connections stay in the kernel's backlog) before it tries again with the freed
 * descriptors: so {@code /healthz} and honest clients are served again within that pause, and the
 * loop does not spin. Other accept errors are logged and go on to Netty's acceptor.
 *
 * <p>Runs on the listener's event loop only; not sharable.
 */
final class AcceptFailureHandler extends ChannelInboundHandlerAdapter {

    /** Pending connections closed per failed accept. */
    static final int SHED = 16;
    /** How long accepting pauses after a failure. */
    static final Duration PAUSE = Duration.ofMillis(100);
    /** A failure after this long without one starts a new burst (and is logged). */
    static final Duration QUIET = Duration.ofSeconds(10);

    private static final Logger log = LoggerFactory.getLogger(AcceptFailureHandler.class);

    private final ConnectionGate gate;
    private final GatewayMetrics metrics;
    private long lastFailureNanos;
    private long inBurst;
    private boolean burst;

    AcceptFailureHandler(ConnectionGate gate, GatewayMetrics metrics) {
        this.gate = requireNonNull(gate, "gate");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (burst && System.nanoTime() - lastFailureNanos > QUIET.toNanos()) {
            log.info("accepting again: {} accept(s) failed for want of a file descriptor in the last burst", inBurst);
            burst = false;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!outOfDescriptors(cause)) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        metrics.acceptFailed();
        long now = System.nanoTime();
        if (!burst || now - lastFailureNanos > QUIET.toNanos()) {
            burst = true;
            inBurst = 0;
            log.warn(
                    "cannot accept connections: {} (the process's open file limit is reached); closing the oldest "
                            + "connections that have not upgraded, and counting further failures in "
                            + "tether_accept_failures_total instead of logging them",
                    cause.getMessage());
        }
        inBurst++;
        lastFailureNanos = now;
        gate.evictOldest(SHED, ConnectionGate.Outcome.FD_EXHAUSTED);
        ctx.channel().config().setAutoRead(false);
        ctx.executor()
                .schedule(() -> ctx.channel().config().setAutoRead(true), PAUSE.toNanos(), TimeUnit.NANOSECONDS)
                .addListener(Unwatched.LOG_FAILURE);
    }

    /** EMFILE or ENFILE, as Netty's native transport and the JDK both word them. */
    static boolean outOfDescriptors(Throwable cause) {
        String message = cause instanceof IOException ? cause.getMessage() : null;
        return message != null && (message.contains("Too many open files") || message.contains("too many open files"));
    }
}
