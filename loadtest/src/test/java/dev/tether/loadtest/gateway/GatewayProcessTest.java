package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;

/** The text GatewayProcess reads: the listening log line and the warm-workers gauge. */
class GatewayProcessTest {

    @Test
    void findsThePortInTheTextAndJsonLogLinesButNotTheAdminOne() {
        Matcher text = GatewayProcess.LISTENING.matcher(
                "2026-11-22T13:00:00.000Z INFO  [main] d.t.g.s.GatewayServer - listening on 127.0.0.1:41234 (path /ws, transport epoll) ");
        assertTrue(text.find());
        assertEquals("127.0.0.1", text.group(1));
        assertEquals("41234", text.group(2));
        Matcher json = GatewayProcess.LISTENING.matcher(
                "{\"level\":\"INFO\",\"message\":\"listening on 0.0.0.0:8080 (path /ws, transport nio)\"}");
        assertTrue(json.find());
        assertEquals("8080", json.group(2));
        assertFalse(GatewayProcess.LISTENING
                .matcher("INFO AdminServer - admin listening on 127.0.0.1:9091")
                .find());
    }

    @Test
    void tellsATlsGatewayFromAPlainOne() {
        Matcher tls = GatewayProcess.LISTENING.matcher(
                "INFO  [main] d.t.g.s.GatewayServer - listening on 127.0.0.1:41234 (path /ws, transport epoll, TLS wss://) ");
        assertTrue(tls.find());
        assertEquals("41234", tls.group(2));
        assertEquals("TLS wss://", tls.group(3));
        Matcher plain = GatewayProcess.LISTENING.matcher(
                "INFO  [main] d.t.g.s.GatewayServer - listening on 127.0.0.1:41234 (path /ws, transport epoll, plain ws://) ");
        assertTrue(plain.find());
        assertEquals(null, plain.group(3));
    }

    @Test
    void readsTheWarmGaugeFromPrometheusText() {
        String metrics = """
                # HELP tether_pool_workers pool workers
                # TYPE tether_pool_workers gauge
                tether_pool_workers{state="live"} 5.0
                tether_pool_workers{state="starting"} 1.0
                tether_pool_workers{state="warm"} 3.0
                """;
        assertEquals(OptionalInt.of(3), GatewayProcess.warmGauge(PrometheusText.parse(metrics)));
        assertEquals(OptionalInt.empty(), GatewayProcess.warmGauge(PrometheusText.parse("tether_sessions 1.0\n")));
    }

    @Test
    void liveSessionsAreTheSessionGaugesOverEveryState() {
        String metrics = """
                # TYPE tether_sessions gauge
                tether_sessions{state="idle"} 3.0
                tether_sessions{state="preparing"} 1.0
                tether_sessions{state="processing"} 0.0
                tether_sessions_attached 2.0
                tether_sessions_detached 2.0
                """;
        assertEquals(OptionalLong.of(4), GatewayProcess.liveSessions(PrometheusText.parse(metrics)));
        assertEquals(OptionalLong.empty(), GatewayProcess.liveSessions(PrometheusText.parse("up 1\n")));
    }
}
