package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link OutboundGuard} on an {@link EmbeddedChannel} with frozen time. The embedded transport
 * "sends" everything at a flush, so unwritability comes from unflushed writes over the high-water
 * mark, and the unsent count the hard limit reads is supplied by the test.
 */
class OutboundGuardTest {

    private static final Duration STALL = Duration.ofSeconds(2);
    private static final long MAX_OUTBOUND = 1000;

    private final AtomicLong unsent = new AtomicLong();
    private EmbeddedChannel channel;

    @RegisterExtension
    final FrozenChannels channels = new FrozenChannels();

    private EmbeddedChannel channel(OutboundGuard guard) {
        EmbeddedChannel ch = channels.open(guard);
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        return ch;
    }

    private void advance(Duration by) {
        FrozenChannels.advance(channel, by);
    }

    private static ByteBuf bytes(int n) {
        return Unpooled.wrappedBuffer(new byte[n]);
    }

    @Test
    void unwritableForTheStallTimeoutIsClosedWithoutACloseFrame() {
        channel = channel(new OutboundGuard(MAX_OUTBOUND, STALL, OutboundGuard::unsentBytes));
        ChannelFuture unsent = channel.write(bytes(32));
        assertFalse(channel.isWritable());

        advance(STALL.minusNanos(1));
        assertTrue(channel.isOpen(), "closed before the stall timeout");
        advance(Duration.ofNanos(1));
        assertFalse(channel.isOpen(), "still open at the stall timeout");
        assertTrue(unsent.isDone() && !unsent.isSuccess(), "the write of the unsent bytes failed");
        assertNull(channel.readOutbound(), "the unsent bytes are dropped, and no close frame is written");
        assertFalse(channel.finish());
    }

    @Test
    void becomingWritableAgainCancelsTheStallTimer() {
        channel = channel(new OutboundGuard(MAX_OUTBOUND, STALL, OutboundGuard::unsentBytes));
        ChannelFuture sent = channel.write(bytes(32));
        assertFalse(channel.isWritable());
        advance(STALL.dividedBy(2));
        channel.flush();
        assertTrue(channel.isWritable());
        assertTrue(sent.isSuccess());
        ((ByteBuf) channel.readOutbound()).release();

        advance(STALL.multipliedBy(3));
        assertTrue(channel.isOpen(), "a client that caught up is left alone");

        ChannelFuture unsent = channel.write(bytes(32));
        advance(STALL.minusNanos(1));
        assertTrue(channel.isOpen(), "a new stall gets a whole new timeout");
        advance(Duration.ofNanos(1));
        assertFalse(channel.isOpen());
        assertTrue(unsent.isDone() && !unsent.isSuccess(), "the write of the unsent bytes failed");
        assertFalse(channel.finish());
    }

    @Test
    void moreThanMaxOutboundUnsentAfterAFlushClosesAtOnce() {
        channel = channel(new OutboundGuard(MAX_OUTBOUND, STALL, ch -> unsent.get()));
        unsent.set(MAX_OUTBOUND);
        assertTrue(channel.writeAndFlush(bytes(4)).isSuccess());
        assertTrue(channel.isOpen(), "at the limit is still fine");
        ((ByteBuf) channel.readOutbound()).release();

        unsent.set(MAX_OUTBOUND + 1);
        ChannelFuture flushed = channel.write(bytes(4));
        assertTrue(channel.isOpen(), "unflushed writes are not judged: a replay is written before its flush");
        channel.flush();
        assertFalse(channel.isOpen(), "over the limit after a flush: closed");
        assertTrue(flushed.isSuccess(), "what was flushed went out before the close");
        ((ByteBuf) channel.readOutbound()).release();
        assertFalse(channel.finish());
    }

    @Test
    void realUnsentCountIsThePendingOutboundBytes() {
        channel = channel(new OutboundGuard(MAX_OUTBOUND, STALL, OutboundGuard::unsentBytes));
        ChannelFuture written = channel.write(bytes(100));
        assertTrue(OutboundGuard.unsentBytes(channel) >= 100, "the bytes and Netty's overhead per message");
        channel.flush();
        assertTrue(written.isSuccess());
        assertEquals(0, OutboundGuard.unsentBytes(channel));
        ((ByteBuf) channel.readOutbound()).release();
        assertTrue(channel.close().isSuccess());
        assertEquals(0, OutboundGuard.unsentBytes(channel), "a closed channel has nothing unsent");
        assertFalse(channel.finish());
    }
}
