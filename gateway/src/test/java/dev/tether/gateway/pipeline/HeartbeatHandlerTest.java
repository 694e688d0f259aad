package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.HeartbeatConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.VirtualTimeIdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@link HeartbeatHandler} behind the idle-state stage it installs, on an {@link EmbeddedChannel}
 * with frozen time: the test advances the channel's scheduler and the idle-state handler's clock
 * together, so nothing waits for real time.
 */
class HeartbeatHandlerTest {

    /** Ping after 1s of silence in either direction; dead after 3s without a read. */
    private static final HeartbeatConfig CONFIG = new HeartbeatConfig(Duration.ofSeconds(1), Duration.ofSeconds(3));

    private static final long STEP_MS = 50;

    private final AtomicLong nanos = new AtomicLong();
    private final List<Object> events = new ArrayList<>();
    private final EmbeddedChannel channel = newChannel();

    private EmbeddedChannel newChannel() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        IdleStateHandler idle = HeartbeatHandler.idleStateHandler(CONFIG);
        ch.pipeline().addLast(GatewayPipeline.HEARTBEAT_IDLE, VirtualTimeIdleStateHandler.copyOf(idle, nanos::get));
        ch.pipeline().addLast(GatewayPipeline.HEARTBEAT, new HeartbeatHandler(CONFIG));
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }
        });
        return ch;
    }

    @Test
    void theIdleStageMeasuresBothDirectionsOverTheInterval() {
        IdleStateHandler idle = HeartbeatHandler.idleStateHandler(CONFIG);
        assertEquals(1000, idle.getReaderIdleTimeInMillis());
        assertEquals(1000, idle.getWriterIdleTimeInMillis());
        assertEquals(0, idle.getAllIdleTimeInMillis());
    }

    @Test
    void aSilentConnectionGetsOnePingPerIntervalAndIsClosedAfterTheTimeout() {
        advance(950);
        assertNull(channel.readOutbound(), "nothing before the interval");
        advance(50);
        assertPing();
        assertNull(channel.readOutbound(), "one ping, not one per idle direction");
        advance(1000);
        assertPing();
        assertTrue(channel.isActive());
        advance(950);
        assertTrue(channel.isActive(), "not dead before heartbeat.timeout");
        advance(50);
        assertFalse(channel.isActive(), "nothing read for heartbeat.timeout: closed");
        assertFalse(channel.finish());
    }

    @Test
    void pongsKeepTheConnectionOpen() {
        for (int i = 0; i < 10; i++) {
            advance(1000);
            assertPing();
            assertNull(channel.readOutbound(), "one ping per interval");
            channel.writeInbound(new PongWebSocketFrame());
            ReferenceCountUtil.release(channel.readInbound());
        }
        assertTrue(channel.isActive(), "10s, answered every ping");
        assertFalse(channel.finish());
    }

    /**
     * A client that only listens while the gateway streams: the writer is never idle, but the
     * reader is, so pings still go out (the client's pongs are what a proxy sees upstream), and
     * without pongs the connection is dead after the timeout.
     */
    @Test
    void pingsAlsoWhileOnlyWriting() {
        int pings = 0;
        for (int t = 0; t < 2900; t += 100) {
            assertTrue(channel.writeAndFlush(new TextWebSocketFrame("delta")).isSuccess());
            advance(100);
            Object out;
            while ((out = channel.readOutbound()) != null) {
                if (out instanceof PingWebSocketFrame) {
                    pings++;
                }
                ReferenceCountUtil.release(out);
            }
        }
        assertEquals(2, pings, "one ping per interval of reader silence");
        assertTrue(channel.isActive());
        assertTrue(channel.writeAndFlush(new TextWebSocketFrame("delta")).isSuccess());
        advance(100);
        assertFalse(channel.isActive(), "no pong for heartbeat.timeout while streaming: closed");
        channel.finish();
        releaseAll();
    }

    /** A client that only talks: reads keep it alive, and the writer's silence still gets pings. */
    @Test
    void pingsWhileOnlyReadingAndNoClose() {
        int pings = 0;
        for (int t = 0; t < 10_000; t += 100) {
            channel.writeInbound(new TextWebSocketFrame("hello"));
            ReferenceCountUtil.release(channel.readInbound());
            advance(100);
            Object out;
            while ((out = channel.readOutbound()) != null) {
                assertInstanceOf(PingWebSocketFrame.class, out);
                pings++;
                ReferenceCountUtil.release(out);
            }
        }
        assertEquals(10, pings);
        assertTrue(channel.isActive());
        assertFalse(channel.finish());
    }

    @Test
    void otherEventsPassThrough() {
        Object event = new Object();
        channel.pipeline().fireUserEventTriggered(event);
        assertEquals(1, events.size());
        assertSame(event, events.get(0));
        assertFalse(channel.finish());
    }

    private void assertPing() {
        Object out = channel.readOutbound();
        assertInstanceOf(PingWebSocketFrame.class, out);
        ReferenceCountUtil.release(out);
    }

    /** Advances virtual time in small steps, running what falls due, as a real loop would. */
    private void advance(long millis) {
        for (long done = 0; done < millis; done += STEP_MS) {
            long step = Math.min(STEP_MS, millis - done);
            nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(step));
            channel.advanceTimeBy(step, TimeUnit.MILLISECONDS);
            channel.runPendingTasks();
        }
    }

    private void releaseAll() {
        Object out;
        while ((out = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(out);
        }
        while ((out = channel.readInbound()) != null) {
            ReferenceCountUtil.release(out);
        }
    }
}
