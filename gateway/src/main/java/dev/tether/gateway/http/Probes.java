package dev.tether.gateway.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.worker.pool.BreakerState;
import dev.tether.gateway.worker.pool.PoolStatus;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The unauthenticated probes served on the main listener next to the WebSocket:
 * <ul>
 *   <li>{@code GET /healthz}: 200 {@code {"status":"alive"}} while the process serves HTTP at all
 *       (liveness: restart the process only when this fails).
 *   <li>{@code GET /readyz}: 200 {@code {"status":"ready"}}, or 503
 *       {@code {"status":"not_ready","reasons":[...]}} when a new session would be refused now
 *       (readiness: take the instance out of the load balancer). Reasons, in this order:
 *       {@value #DRAINING} (a drain has begun), {@value #NO_WORKER} (the pool has no warm worker
 *       and cannot start one: breaker open, at {@code pool.max_workers}, or closed) and
 *       {@value #AT_CAPACITY} ({@code sessions.max_sessions} reached).
 * </ul>
 * Bodies never carry session data, pool details or counts: the probes are public.
 *
 * <p>Runs on the probing connection's event loop: every input is a volatile read or a snapshot
 * taken under a lock held only for bookkeeping, so an answer never waits on I/O.
 */
public final class Probes {

    public static final String HEALTH_PATH = "/healthz";
    public static final String READY_PATH = "/readyz";
    public static final String DRAINING = "draining";
    public static final String NO_WORKER = "no_worker_available";
    public static final String AT_CAPACITY = "at_capacity";
    public static final String STORE_UNAVAILABLE = "store_unavailable";

    private final ObjectMapper mapper;
    private final BooleanSupplier draining;
    private final BooleanSupplier atCapacity;
    private final Supplier<PoolStatus> pool;
    private final BooleanSupplier storeUnavailable;

    /**
     * @param draining whether the gateway is draining
     * @param atCapacity whether the session limit is reached
     * @param pool the worker pool's status, or a supplier of null when workers are not pooled
     *     subprocesses (echo workers are always available)
     */
    public Probes(
            ObjectMapper mapper, BooleanSupplier draining, BooleanSupplier atCapacity, Supplier<PoolStatus> pool) {
        this(mapper, draining, atCapacity, pool, () -> false);
    }

    /** Like the above; {@code storeUnavailable}: the shared session store cannot be reached now. */
    public Probes(
            ObjectMapper mapper,
            BooleanSupplier draining,
            BooleanSupplier atCapacity,
            Supplier<PoolStatus> pool,
            BooleanSupplier storeUnavailable) {
        this.storeUnavailable = requireNonNull(storeUnavailable, "storeUnavailable");
        this.mapper = requireNonNull(mapper, "mapper");
        this.draining = requireNonNull(draining, "draining");
        this.atCapacity = requireNonNull(atCapacity, "atCapacity");
        this.pool = requireNonNull(pool, "pool");
    }

    /** Adds {@code /healthz} and {@code /readyz} to {@code routes}. */
    public HttpRoutes.Builder addTo(HttpRoutes.Builder routes) {
        return routes.add(HEALTH_PATH, request -> health()).add(READY_PATH, request -> readiness());
    }

    /** The liveness answer. */
    public HttpAnswer health() {
        return HttpAnswer.json(HttpResponseStatus.OK, mapper, Map.of("status", "alive"));
    }

    /** The readiness answer, from the state right now. */
    public HttpAnswer readiness() {
        List<String> reasons =
                new ArrayList<>(notReadyReasons(draining.getAsBoolean(), atCapacity.getAsBoolean(), pool.get()));
        if (storeUnavailable.getAsBoolean()) {
            reasons.add(STORE_UNAVAILABLE);
        }
        if (reasons.isEmpty()) {
            return HttpAnswer.json(HttpResponseStatus.OK, mapper, Map.of("status", "ready"));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", "not_ready");
        body.put("reasons", reasons);
        return HttpAnswer.json(HttpResponseStatus.SERVICE_UNAVAILABLE, mapper, body);
    }

    /** Why a new session would be refused now; empty when ready. {@code pool} is null without a pool. */
    public static List<String> notReadyReasons(boolean draining, boolean atCapacity, PoolStatus pool) {
        List<String> reasons = new ArrayList<>(3);
        if (draining) {
            reasons.add(DRAINING);
        }
        if (pool != null && noWorkerAvailable(pool)) {
            reasons.add(NO_WORKER);
        }
        if (atCapacity) {
            reasons.add(AT_CAPACITY);
        }
        return reasons;
    }

    /**
     * No warm worker to hand out, and no cold start possible: the breaker is open, the pool is at
     * {@code pool.max_workers} live workers, or it is closed. (A half-open breaker allows a trial
     * spawn, and a mere backoff delays only background refills, not cold starts: both still count
     * as available.)
     */
    static boolean noWorkerAvailable(PoolStatus pool) {
        if (pool.warm() > 0) {
            return false;
        }
        return pool.closed() || pool.breaker() == BreakerState.OPEN || pool.live() >= pool.maxWorkers();
    }
}
