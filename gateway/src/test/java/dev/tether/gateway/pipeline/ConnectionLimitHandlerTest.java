package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.gateway.metrics.GatewayMetrics;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ConnectionLimitHandler} on embedded channels (each its own address). */
class ConnectionLimitHandlerTest {

    private final List<ConnectionGate.Outcome> refused = new ArrayList<>();
    private final GatewayMetrics metrics = new GatewayMetrics() {
        @Override
        public void connectionRefused(ConnectionGate.Outcome outcome) {
            refused.add(outcome);
        }
    };

    /** Records whether the stages after it saw the connection become active. */
    private static final class ActiveProbe extends ChannelInboundHandlerAdapter {
        boolean active;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active = true;
            ctx.fireChannelActive();
        }
    }

    @Test
    void anAdmittedConnectionGoesOnAndGivesItsPlaceBackWhenItCloses() {
        ConnectionGate gate = new ConnectionGate(10, 10);
        ActiveProbe probe = new ActiveProbe();
        EmbeddedChannel channel = new EmbeddedChannel(new ConnectionLimitHandler(gate, metrics), probe);
        assertTrue(probe.active);
        assertEquals(1, gate.pending());
        ConnectionLimitHandler.upgraded(channel);
        assertEquals(0, gate.pending());
        assertEquals(1, gate.openFrom(channel.remoteAddress()));
        assertTrue(channel.close().isSuccess());
        assertEquals(0, gate.openFrom(channel.remoteAddress()));
        assertFalse(channel.finish());
    }

    @Test
    void theOldestPendingConnectionIsClosedAndCounted() {
        ConnectionGate gate = new ConnectionGate(10, 1);
        EmbeddedChannel oldest = new EmbeddedChannel(new ConnectionLimitHandler(gate, metrics));
        EmbeddedChannel newest = new EmbeddedChannel(new ConnectionLimitHandler(gate, metrics));
        assertFalse(oldest.isOpen());
        assertTrue(newest.isOpen());
        assertEquals(List.of(ConnectionGate.Outcome.PENDING_EVICTED), refused);
        assertFalse(oldest.finish());
        assertFalse(newest.finishAndReleaseAll());
    }
}
