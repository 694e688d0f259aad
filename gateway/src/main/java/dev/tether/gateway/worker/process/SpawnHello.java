package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * The first handler of every connection to the {@link Spawner}'s socket: reads its one-line greeting
 * ({@code control} from the helper, {@code ID stdio} or {@code ID stderr} from a worker) and hands
 * the connection on, then holds everything that follows, end of stream included, until {@link
 * #handOver} puts the real handlers behind it. So a worker that writes its {@code ready} line and
 * closes its stdio at once, before the gateway has set it up, loses nothing. (The spawner's
 * connections allow half-closure: the end of a worker's output is a {@link ChannelInputShutdownEvent},
 * and the channel stays registered and open until the gateway closes it.)
 *
 * <p>One per connection; runs on the connection's loop.
 */
final class SpawnHello extends ChannelInboundHandlerAdapter {

    static final int MAX_HELLO_BYTES = 128;

    /** Gets each greeting: the channel's context and the greeting line (without its newline). */
    private final BiConsumer<ChannelHandlerContext, String> greeted;

    private CompositeByteBuf held;
    private boolean greeting = true;
    private boolean ended;
    private ChannelHandlerContext ctx;

    SpawnHello(BiConsumer<ChannelHandlerContext, String> greeted) {
        this.greeted = requireNonNull(greeted, "greeted");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        held = ctx.alloc().compositeBuffer();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            held.release();
            held = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        held.addComponent(true, (ByteBuf) msg);
        if (!greeting) {
            return;
        }
        int newline = held.indexOf(held.readerIndex(), held.writerIndex(), (byte) '\n');
        if (newline < 0) {
            if (held.readableBytes() > MAX_HELLO_BYTES) {
                Unwatched.close(ctx);
            }
            return;
        }
        String hello = held.readCharSequence(newline - held.readerIndex(), StandardCharsets.US_ASCII)
                .toString();
        held.skipBytes(1);
        greeting = false;
        ctx.channel().config().setAutoRead(false);
        greeted.accept(ctx, hello);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            ended = true; // told to the real handlers once they are there
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ended = true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Unwatched.close(ctx);
    }

    /**
     * Puts {@code handlers} behind this one, gives them what was held (and the end of stream, if it
     * came), leaves the pipeline and lets the channel read. On the channel's loop.
     */
    void handOver(ChannelHandler... handlers) {
        assert ctx.executor().inEventLoop();
        ctx.pipeline().addLast(handlers);
        CompositeByteBuf bytes = held;
        held = null;
        if (bytes.isReadable()) {
            ctx.fireChannelRead(bytes);
        } else {
            bytes.release();
        }
        if (ended) {
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
        ctx.pipeline().remove(this);
        if (ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(true);
        }
    }
}
