package dev.tether.gateway.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.worker.pool.BreakerState;
import dev.tether.gateway.worker.pool.PoolStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ProbesTest {

    private final ObjectMapper json = new ObjectMapper();

    private static PoolStatus pool(int warm, int live, int maxWorkers, BreakerState breaker, boolean closed) {
        return new PoolStatus(warm, 0, live, 1, maxWorkers, 0, 0, 0, breaker, Duration.ZERO, null, closed);
    }

    @Test
    void readyWithoutAnyReason() {
        assertEquals(List.of(), Probes.notReadyReasons(false, false, null));
        assertEquals(List.of(), Probes.notReadyReasons(false, false, pool(1, 1, 10, BreakerState.CLOSED, false)));
    }

    @Test
    void noWorkerOnlyWhenNoneIsWarmAndNoneCanStart() {
        // Cold starts are still possible: ready.
        assertEquals(List.of(), Probes.notReadyReasons(false, false, pool(0, 3, 10, BreakerState.CLOSED, false)));
        assertEquals(List.of(), Probes.notReadyReasons(false, false, pool(0, 3, 10, BreakerState.HALF_OPEN, false)));
        // A warm worker is handed out even while the breaker is open.
        assertEquals(List.of(), Probes.notReadyReasons(false, false, pool(1, 1, 10, BreakerState.OPEN, false)));

        assertEquals(
                List.of(Probes.NO_WORKER),
                Probes.notReadyReasons(false, false, pool(0, 0, 10, BreakerState.OPEN, false)));
        assertEquals(
                List.of(Probes.NO_WORKER),
                Probes.notReadyReasons(false, false, pool(0, 10, 10, BreakerState.CLOSED, false)));
        assertEquals(
                List.of(Probes.NO_WORKER),
                Probes.notReadyReasons(false, false, pool(0, 0, 10, BreakerState.CLOSED, true)));
    }

    @Test
    void everyReasonInItsOrder() {
        assertEquals(
                List.of(Probes.DRAINING, Probes.NO_WORKER, Probes.AT_CAPACITY),
                Probes.notReadyReasons(true, true, pool(0, 0, 10, BreakerState.OPEN, false)));
        assertEquals(List.of(Probes.DRAINING, Probes.AT_CAPACITY), Probes.notReadyReasons(true, true, null));
    }

    @Test
    void answersFollowTheStateAtEachCall() throws IOException {
        AtomicBoolean draining = new AtomicBoolean();
        AtomicBoolean full = new AtomicBoolean();
        AtomicReference<PoolStatus> status = new AtomicReference<>();
        Probes probes = new Probes(json, draining::get, full::get, status::get);

        HttpAnswer ready = probes.readiness();
        assertEquals(200, ready.status().code());
        assertEquals("application/json", ready.contentType());
        assertEquals(json.readTree("{\"status\":\"ready\"}"), json.readTree(ready.body()));

        full.set(true);
        draining.set(true);
        HttpAnswer notReady = probes.readiness();
        assertEquals(503, notReady.status().code());
        JsonNode body = json.readTree(notReady.body());
        assertEquals(json.readTree("{\"status\":\"not_ready\",\"reasons\":[\"draining\",\"at_capacity\"]}"), body);

        HttpAnswer health = probes.health();
        assertEquals(200, health.status().code());
        assertEquals(json.readTree("{\"status\":\"alive\"}"), json.readTree(health.body()));
    }

    @Test
    void routesBothPaths() {
        Probes probes = new Probes(json, () -> false, () -> false, () -> null);
        HttpRoutes routes = probes.addTo(HttpRoutes.builder()).build();
        assertTrue(routes.paths().contains("/healthz"));
        assertTrue(routes.paths().contains("/readyz"));
    }
}
