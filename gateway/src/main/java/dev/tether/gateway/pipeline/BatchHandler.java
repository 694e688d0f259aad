package dev.tether.gateway.pipeline;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.session.EncodedFrame;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.PromiseNotifier;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Batched delivery (contract 8.4; pipeline stage {@link GatewayPipeline#BATCH}, only on a connection
 * opened with {@code ?batch=<ms>}): the session's history frames are held briefly and leave together
 * in one {@code batch} frame.
 *
 * <p>What is batched: history frames ({@link EncodedFrame}s: {@code event}, {@code status},
 * {@code notice}, {@code request}, {@code request_resolved}, live or replayed), and only those; the
 * batch holds the very byte arrays the history keeps. Everything else that is written here (the
 * connection's own messages such as {@code session_ready}, {@code accepted}, {@code error},
 * {@code replay_gap}, {@code session_replaced}, pongs, the close frame) first sends what is held,
 * then goes at once, so the order of messages on the connection is the order they were written in.
 * A close does the same.
 *
 * <p>When a batch leaves: {@code delay} after its first frame was held (one timer on the channel's
 * event loop, armed by that frame), or earlier when the next frame would take it over {@code
 * server.max_frame_bytes}; a frame too big to share a frame with anything goes alone, as without
 * batching. A batch of one frame is sent as that frame, never wrapped. Flushes pass through: they
 * send what earlier stages wrote, never the held frames, which the timer flushes.
 *
 * <p>Held bytes are bounded by {@code server.max_frame_bytes} and held time by {@code delay}; the
 * outbound guard and the session's backpressure see a batch once it is written, like any frame.
 * Runs on the channel's event loop; one instance per connection.
 */
final class BatchHandler extends ChannelDuplexHandler {

    /** The handler {@link UpgradeHandler} chose for an accepted upgrade, for {@link #install} at the handshake. */
    static final AttributeKey<BatchHandler> KEY = AttributeKey.valueOf("tether.batch");

    /** The contract's range for {@code ?batch=<ms>}. */
    static final int MIN_DELAY_MILLIS = 1;

    static final int MAX_DELAY_MILLIS = 1000;

    /** The refusal's words for a {@code batch} value out of range or not a number. */
    static final String EXPECTED =
            "batch must be an integer from " + MIN_DELAY_MILLIS + " to " + MAX_DELAY_MILLIS + " (milliseconds)";

    private final long delayNanos;
    private final int maxFrameBytes;
    private final List<byte[]> held = new ArrayList<>();
    /** The promises of held frames that are not void, completed with their batch's write. */
    private final List<ChannelPromise> promises = new ArrayList<>();

    private long heldBytes;
    private ScheduledFuture<?> timer;

    /**
     * @param delayNanos longest time a frame is held, > 0
     * @param maxFrameBytes {@code server.max_frame_bytes}: no batch is larger
     */
    BatchHandler(long delayNanos, int maxFrameBytes) {
        if (delayNanos <= 0) {
            throw new IllegalArgumentException("delayNanos must be > 0: " + delayNanos);
        }
        if (maxFrameBytes < 1) {
            throw new IllegalArgumentException("maxFrameBytes must be >= 1: " + maxFrameBytes);
        }
        this.delayNanos = delayNanos;
        this.maxFrameBytes = maxFrameBytes;
    }

    /**
     * The {@code batch} query value in milliseconds: 0 when absent; -1 when it is not an integer from
     * {@link #MIN_DELAY_MILLIS} to {@link #MAX_DELAY_MILLIS} written in plain digits (hostile or
     * broken input, refused with 400).
     */
    static int parseDelayMillis(String raw) {
        if (raw == null) {
            return 0;
        }
        if (raw.isEmpty() || raw.length() > 4 || !raw.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        int millis = Integer.parseInt(raw);
        return millis < MIN_DELAY_MILLIS || millis > MAX_DELAY_MILLIS ? -1 : millis;
    }

    /**
     * The handler for a connection that asked for {@code requestedMillis} (0: did not ask), capped
     * by {@code maxDelayNanos} ({@code server.max_batch_delay}; 0 turns batching off); null when
     * the connection gets one message per frame.
     */
    static BatchHandler forRequest(int requestedMillis, long maxDelayNanos, int maxFrameBytes) {
        if (requestedMillis <= 0 || maxDelayNanos <= 0) {
            return null;
        }
        return new BatchHandler(Math.min(TimeUnit.MILLISECONDS.toNanos(requestedMillis), maxDelayNanos), maxFrameBytes);
    }

    /**
     * Adds the handler {@link UpgradeHandler} left on the channel, if any, as stage {@link
     * GatewayPipeline#BATCH}: called by {@link SessionHandler} when the handshake completes, before
     * anything is written to the session's connection.
     */
    static void install(ChannelPipeline pipeline) {
        BatchHandler handler = pipeline.channel().attr(KEY).getAndSet(null);
        if (handler != null) {
            GatewayPipeline.add(pipeline, GatewayPipeline.BATCH, handler);
        }
    }

    /** The longest time a frame is held, in nanoseconds. */
    long delayNanos() {
        return delayNanos;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof EncodedFrame frame)) {
            sendHeld(ctx);
            pass(ctx, msg, promise);
            return;
        }
        byte[] json = frame.json();
        if (!held.isEmpty() && WireCodec.batchFrameBytes(held.size() + 1, heldBytes + json.length) > maxFrameBytes) {
            sendHeld(ctx);
        }
        held.add(json);
        heldBytes += json.length;
        if (!promise.isVoid()) {
            promises.add(promise);
        }
        if (timer == null) {
            timer = ctx.executor().schedule(() -> timeUp(ctx), delayNanos, TimeUnit.NANOSECONDS);
            timer.addListener(Unwatched.LOG_FAILURE);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        sendHeld(ctx);
        ctx.flush();
        ChannelFuture closing = ctx.close(promise);
        assert closing == promise; // the caller's promise: whoever closes watches it
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        drop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        drop();
    }

    private void timeUp(ChannelHandlerContext ctx) {
        timer = null;
        sendHeld(ctx);
        ctx.flush();
    }

    /** Writes what is held, as one frame or a batch (not flushed), and disarms the timer. */
    private void sendHeld(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (held.isEmpty()) {
            return;
        }
        Object out = held.size() == 1 ? new EncodedFrame(held.get(0)) : new EncodedBatch(List.copyOf(held));
        ChannelPromise promise = promises.isEmpty() ? ctx.voidPromise() : ctx.newPromise();
        if (!promises.isEmpty()) {
            promise.addListener(new PromiseNotifier<>(false, promises.toArray(new ChannelPromise[0])));
        }
        held.clear();
        promises.clear();
        heldBytes = 0;
        pass(ctx, out, promise);
    }

    /** Writes {@code msg} on with {@code promise}: the writer's own, or one completing the held frames' promises. */
    private static void pass(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ChannelFuture written = ctx.write(msg, promise);
        assert written == promise;
    }

    /** The connection went: what is held is never sent. */
    private void drop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        held.clear();
        heldBytes = 0;
        for (ChannelPromise promise : promises) {
            promise.tryFailure(new ClosedChannelException());
        }
        promises.clear();
    }
}
