package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Parsing the Prometheus text format as the gateway's /metrics writes it. */
class PrometheusTextTest {

    @Test
    void samplesWithAndWithoutLabelsCommentsAndSpecialValues() {
        PrometheusText text = PrometheusText.parse("""
                # HELP tether_sessions Live sessions by state
                # TYPE tether_sessions gauge
                tether_sessions{state="idle"} 3.0
                tether_sessions{state="processing",} 2.0
                tether_connections_active 5.0 1700000000000
                odd{path="a \\\\ \\"b\\" c",le="+Inf"} +Inf
                nan NaN
                not a sample line
                """);
        assertEquals(OptionalDouble.of(5.0), text.sum("tether_sessions"));
        assertEquals(OptionalDouble.of(2.0), text.value("tether_sessions", "state", "processing"));
        assertEquals(OptionalDouble.of(5.0), text.sum("tether_connections_active"), "a timestamp is ignored");
        PrometheusText.Sample odd = text.samples("odd", l -> true).get(0);
        assertEquals(Map.of("path", "a \\ \"b\" c", "le", "+Inf"), odd.labels());
        assertEquals(Double.POSITIVE_INFINITY, odd.value());
        assertTrue(Double.isNaN(text.sum("nan").getAsDouble()));
        assertTrue(text.sum("missing").isEmpty());
    }
}
