package dev.tether.gateway.abuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionGateTest {

    private static final InetSocketAddress A1 = new InetSocketAddress("10.0.0.1", 40001);
    private static final InetSocketAddress A2 = new InetSocketAddress("10.0.0.1", 40002);
    private static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 40001);

    private final List<String> closed = new ArrayList<>();

    private ConnectionGate.Closer closer(String name) {
        return outcome -> closed.add(name + ":" + outcome.tag());
    }

    @Test
    void anAddressIsCountedAcrossItsPortsAndRefusedAtItsLimit() {
        ConnectionGate gate = new ConnectionGate(2, 100);
        ConnectionGate.Lease first = gate.admit(A1, closer("a1"));
        assertNotNull(gate.admit(A2, closer("a2")));
        assertNull(gate.admit(A1, closer("a3")), "a third connection from 10.0.0.1");
        assertNotNull(gate.admit(B, closer("b")), "another address is counted apart");
        assertEquals(2, gate.openFrom(A1));
        first.release();
        first.release();
        assertEquals(1, gate.openFrom(A1), "a release counts once");
        assertNotNull(gate.admit(A1, closer("a4")));
        assertEquals(List.of(), closed);
    }

    @Test
    void atThePendingLimitTheOldestPendingConnectionIsClosed() {
        ConnectionGate gate = new ConnectionGate(100, 2);
        ConnectionGate.Lease upgraded = gate.admit(A1, closer("upgraded"));
        upgraded.upgraded();
        gate.admit(A1, closer("oldest"));
        gate.admit(A2, closer("second"));
        assertEquals(2, gate.pending());
        gate.admit(B, closer("newest"));
        assertEquals(List.of("oldest:pending_evicted"), closed, "the upgraded one is not pending, so never evicted");
        assertEquals(2, gate.pending());
    }

    @Test
    void evictOldestClosesPendingConnectionsOldestFirst() {
        ConnectionGate gate = new ConnectionGate(100, 100);
        gate.admit(A1, closer("one"));
        gate.admit(A1, closer("two"));
        gate.admit(A1, closer("three"));
        assertEquals(2, gate.evictOldest(2, ConnectionGate.Outcome.FD_EXHAUSTED));
        assertEquals(List.of("one:fd_exhausted", "two:fd_exhausted"), closed);
        assertEquals(1, gate.evictOldest(5, ConnectionGate.Outcome.FD_EXHAUSTED));
        assertEquals(0, gate.pending());
        assertEquals(3, gate.openFrom(A1), "still open until their channels close and release");
    }

    @Test
    void loweredLimitsApplyToNewConnectionsOnly() {
        ConnectionGate gate = new ConnectionGate(3, 100);
        gate.admit(A1, closer("one"));
        gate.admit(A1, closer("two"));
        gate.limits(1, 100);
        assertNull(gate.admit(A1, closer("three")));
        assertEquals(2, gate.openFrom(A1));
    }
}
