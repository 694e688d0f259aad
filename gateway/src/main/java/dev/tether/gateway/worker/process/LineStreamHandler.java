package dev.tether.gateway.worker.process;

import dev.tether.gateway.async.Unwatched;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.io.IOException;
import org.slf4j.LoggerFactory;

/**
 * What reading a worker's stdout and stderr have in common: the bytes of each read go through a
 * {@link LineSplitter} into {@link #line}; the end of the stream (the worker closed its side: a
 * {@link ChannelInputShutdownEvent} on the spawner's half-closable connections, or the channel
 * closing) delivers a last unfinished line and calls {@link #ended()}, once.
 *
 * <p>One instance per stream; runs on the stream's channel's loop only.
 */
abstract class LineStreamHandler extends ChannelInboundHandlerAdapter implements LineSplitter.Sink {

    private final LineSplitter splitter;
    private boolean ended;

    LineStreamHandler(int maxLineBytes) {
        this.splitter = new LineSplitter(maxLineBytes);
    }

    /** Called after each read's lines were delivered. */
    void afterRead() {}

    /** The stream ended; its last line, if any, was delivered. */
    abstract void ended();

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf bytes = (ByteBuf) msg;
        try {
            splitter.feed(bytes, this);
        } finally {
            bytes.release();
        }
        afterRead();
    }

    @Override
    public final void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            endOfStream();
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) {
        endOfStream();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A broken pipe or a reset: the worker is gone, and its exit says how. Anything else is a
        // bug of the gateway's own handling, said out loud: closing the socket ends the worker.
        if (!(cause instanceof IOException)) {
            LoggerFactory.getLogger(LineStreamHandler.class)
                    .warn("worker output handling failed; closing its connection", cause);
        }
        Unwatched.close(ctx);
    }

    private void endOfStream() {
        if (!ended) {
            ended = true;
            splitter.finish(this);
            ended();
        }
    }
}
