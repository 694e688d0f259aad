package dev.tether.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class ConnectCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode report(double p50, double p90, double p99) throws Exception {
        return (ObjectNode) JSON.readTree(
                "{\"latency_ms\":{\"ready_warm\":{\"p50\":" + p50 + ",\"p90\":" + p90 + ",\"p99\":" + p99 + "}}}");
    }

    @Test
    void theGatewaysWarmReadyIsSetBesideTheBareHandshakeAtEachPercentile() throws Exception {
        ObjectNode versus = ConnectCommand.versus(report(1.5, 2.0, 9.0), report(1.0, 1.25, 3.0));
        assertEquals(0.5, versus.get("p50_difference_ms").asDouble(), 1e-9);
        assertEquals(0.75, versus.get("p90_difference_ms").asDouble(), 1e-9);
        assertEquals(6.0, versus.get("p99_difference_ms").asDouble(), 1e-9);
        assertEquals(1.0, versus.get("p50_handshake_ms").asDouble(), 1e-9);
        assertEquals(1.5, versus.get("p50_gateway_ms").asDouble(), 1e-9);
    }

    @Test
    void aRunWithoutWarmSessionsHasNoDifferenceRatherThanZero() throws Exception {
        ObjectNode none = (ObjectNode) JSON.readTree("{\"latency_ms\":{}}");
        ObjectNode versus = ConnectCommand.versus(none, report(1.0, 1.0, 1.0));
        assertTrue(Double.isNaN(versus.get("p50_difference_ms").asDouble()), versus.toString());
    }
}
