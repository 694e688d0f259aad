package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.metrics.PrometheusEndpoint;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code GET /metrics} on a real gateway: a scripted session (connect, a message round trip, an
 * invalid frame, disconnect, resume, a refused upgrade with a bad token) moves the meters it should;
 * with subprocess workers, the pool, session start and RSS meters too. The Prometheus text is parsed
 * simply: a sample is the sum of the lines that start with its name and carry every given label.
 */
class MetricsIT {

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withDefaults();

    @RegisterExtension
    static final GatewayExtension processes = DemoWorkers.gateway("metrics", """
            limits:
              rss_poll_interval: 50ms
            """);

    @Test
    void metricsAreServedAsPrometheusText() throws IOException {
        RawHttp.Response response = RawHttp.send(gateway.address(), get("/metrics"));
        assertEquals(200, response.status());
        assertEquals(PrometheusEndpoint.CONTENT_TYPE, response.header("content-type"));
        assertTrue(response.body().contains("# TYPE tether_connections_opened_total counter"), response.body());
        assertTrue(value(response.body(), "jvm_memory_used_bytes") > 0, "JVM binders are registered");
    }

    @Test
    void aScriptedSessionMovesTheMeters() throws IOException {
        String before = scrape(gateway);
        String sessionId;
        try (SessionClient client = SessionClient.openIdle(gateway, "metrics-alice")) {
            sessionId = client.sessionId();
            client.roundTrip("m-1", "\"hello\"");
            client.ws.sendText("{not json");
            assertEquals(
                    ErrorCode.INVALID_JSON,
                    client.expect(ServerMessage.ErrorFrame.class).code());
        }
        Poll.until("the session detached", () -> value(scrape(gateway), "tether_sessions_detached") == 1);
        try (SessionClient resumed = SessionClient.resume(gateway, "metrics-alice", sessionId, 1)) {
            assertTrue(resumed.ready.resumed());
            Poll.until("the session attached again", () -> value(scrape(gateway), "tether_sessions_attached") == 1);
        }
        RawHttp.Response refused = RawHttp.upgrade(
                gateway.address(), gateway.config().server().path(), Map.of("Authorization", "Bearer not-a-token"));
        assertEquals(UpgradeRefusal.UNAUTHORIZED.status(), refused.status());
        // The client's close reaches the gateway's loop on its own time: wait for it, then read.
        Poll.until("the resumed connection closed", () -> value(scrape(gateway), "tether_connections_active") == 0);
        String after = scrape(gateway);

        assertMoved(before, after, "tether_connections_opened_total", 2);
        assertMoved(before, after, "tether_messages_in_total", 1);
        assertMoved(before, after, "tether_messages_out_total", 5);
        assertMoved(before, after, "tether_frames_rejected_total{code=\"invalid_json\"", 1);
        assertMoved(before, after, "tether_upgrades_refused_total{reason=\"unauthorized\"", 1);
        assertMoved(before, after, "tether_auth_failures_total{reason=\"malformed\",stage=\"upgrade\"", 1);
        assertMoved(before, after, "tether_resumes_total", 1);
        assertMoved(before, after, "tether_resume_replayed_messages_total", 1);
        assertMoved(before, after, "tether_session_start_seconds_count", 1);
        assertMoved(before, after, "tether_turn_first_event_seconds_count", 1);
        assertTrue(value(after, "tether_turn_first_event_seconds_bucket{le=\"+Inf\"") >= 1, "a percentile histogram");
        assertEquals(1, value(after, "tether_sessions{state=\"idle\""), after);
        assertTrue(value(after, "tether_replay_buffer_messages") >= 5, after);
        assertTrue(value(after, "tether_replay_buffer_bytes") > 0, after);
        assertTrue(
                value(after, "tether_netty_memory_bytes{area=\"direct\"") > 0,
                "the connections' buffers came from Netty's pool");
        assertEquals(0, value(after, "tether_connections_active"), after);
    }

    @Test
    void processWorkersShowPoolStartAndRss() throws IOException {
        Poll.until("a warm worker", () -> value(scrape(processes), "tether_pool_workers{state=\"warm\"") == 1);
        String before = scrape(processes);
        assertTrue(value(before, "tether_pool_spawns_total") >= 1, before);
        assertEquals(0, value(before, "tether_pool_breaker_state"), before);
        try (SessionClient client = SessionClient.openWarm(processes, "metrics-bob")) {
            client.roundTrip("m-1", "\"hello\"");
            Poll.until("an RSS sample", () -> value(scrape(processes), "tether_workers_rss_bytes") > 0);
            String during = scrape(processes);
            assertMoved(before, during, "tether_session_start_seconds_count{start=\"warm\"", 1);
            assertMoved(before, during, "tether_turn_first_event_seconds_count", 1);
            assertTrue(value(during, "tether_worker_rss_max_bytes") > 0, during);
            assertTrue(value(during, "tether_pool_workers{state=\"live\"") >= 1, during);
        }
    }

    /** docs/operations.md lists every tether meter the gateway serves (with process workers: all of them). */
    @Test
    void everyServedMeterIsDocumented() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "operations.md"));
        List<String> missing = new ArrayList<>();
        for (String line : scrape(processes).lines().toList()) {
            if (line.startsWith("# TYPE tether_")) {
                String name = line.split(" ", -1)[2];
                String documented = name.endsWith("_max") ? name.substring(0, name.length() - 4) : name;
                if (!doc.contains("`" + documented + "`") && !doc.contains("`" + documented + "_total`")) {
                    missing.add(name);
                }
            }
        }
        assertEquals(List.of(), missing, "meters missing from docs/operations.md");
    }

    private static void assertMoved(String before, String after, String sample, double atLeast) {
        double moved = value(after, sample) - value(before, sample);
        assertTrue(
                moved >= atLeast,
                () -> sample + " moved by " + moved + ", expected at least " + atLeast + "\n" + after);
    }

    /** The text {@code target} serves at {@code /metrics}. */
    static String scrape(GatewayExtension target) {
        try {
            RawHttp.Response response = RawHttp.send(target.address(), get("/metrics"));
            assertEquals(200, response.status());
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    }

    /**
     * The sum of the samples whose line starts with {@code prefix}: a metric name, or a name, an
     * opening brace and the first labels in the order Prometheus writes them (alphabetical).
     */
    static double value(String scrape, String prefix) {
        double sum = 0;
        for (String line : scrape.lines().toList()) {
            if (line.startsWith("#") || !line.startsWith(prefix)) {
                continue;
            }
            String rest = line.substring(prefix.length());
            if (!(rest.startsWith(" ") || rest.startsWith("{") || rest.startsWith(",") || rest.startsWith("}"))) {
                continue; // a longer name that merely starts the same
            }
            String[] parts = line.trim().split(" ", -1);
            sum += Double.parseDouble(parts[parts.length - 1]);
        }
        return sum;
    }
}
