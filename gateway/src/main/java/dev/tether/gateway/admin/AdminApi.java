package dev.tether.gateway.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpCall;
import dev.tether.gateway.http.HttpRoutes;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.session.SessionSnapshot;
import dev.tether.gateway.worker.pool.PoolStatus;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The admin endpoints, as {@link HttpRoutes} for the admin listener's router. Every answer is JSON;
 * errors are {@code {"error": code, "message": text}}. Nothing here ever writes a token: sessions
 * are described by {@link SessionSnapshot}s, which hold only the token's expiry.
 *
 * <p>Endpoints run on the admin connection's event loop; session snapshots are taken on each
 * session's own loop and the answer is written when all of them are in.
 */
final class AdminApi {

    /** The pool as JSON, or null when workers are not pooled (echo). */
    private final Supplier<Optional<PoolStatus>> pool;

    private final String workerKind;
    private final SessionRegistry registry;
    private final Supplier<? extends CompletionStage<Void>> drain;
    private final ObjectMapper mapper;

    /**
     * @param drain starts a drain of the gateway and returns at once; its stage completes when the
     *     drain is done (the API does not wait for it)
     */
    AdminApi(
            SessionRegistry registry,
            Supplier<Optional<PoolStatus>> pool,
            String workerKind,
            Supplier<? extends CompletionStage<Void>> drain,
            ObjectMapper mapper) {
        this.registry = requireNonNull(registry, "registry");
        this.pool = requireNonNull(pool, "pool");
        this.workerKind = requireNonNull(workerKind, "workerKind");
        this.drain = requireNonNull(drain, "drain");
        this.mapper = requireNonNull(mapper, "mapper");
    }

    HttpRoutes routes() {
        return HttpRoutes.builder()
                .add(HttpMethod.GET, "/admin/sessions", call -> listSessions())
                .add(HttpMethod.GET, "/admin/sessions/{id}", this::showSession)
                .add(HttpMethod.DELETE, "/admin/sessions/{id}", this::endSession)
                .add(HttpMethod.POST, "/admin/sessions/{id}/end", this::endSession)
                .add(HttpMethod.GET, "/admin/pool", call -> done(poolStatus()))
                .add(HttpMethod.POST, "/admin/drain", call -> done(startDrain()))
                .notFound(error(mapper, HttpResponseStatus.NOT_FOUND, "not_found", "no such endpoint"))
                .methodNotAllowed(allow ->
                        error(mapper, HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "use " + allow))
                .build();
    }

    /** A JSON error answer. */
    static HttpAnswer error(ObjectMapper mapper, HttpResponseStatus status, String error, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("message", message);
        return HttpAnswer.json(status, mapper, body);
    }

    private CompletionStage<HttpAnswer> listSessions() {
        List<CompletableFuture<SessionSnapshot>> snapshots = new ArrayList<>();
        for (Session session : registry.all()) {
            // A session that ends meanwhile (its loop gone) is left out rather than failing the list.
            snapshots.add(session.snapshot().toCompletableFuture().exceptionally(error -> null));
        }
        return CompletableFuture.allOf(snapshots.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> {
                    List<Map<String, Object>> sessions = snapshots.stream()
                            .map(CompletableFuture::join)
                            .filter(Objects::nonNull)
                            .sorted(Comparator.comparing(SessionSnapshot::startedAt)
                                    .thenComparing(SessionSnapshot::id))
                            .map(AdminApi::json)
                            .toList();
                    return HttpAnswer.json(HttpResponseStatus.OK, mapper, Map.of("sessions", sessions));
                });
    }

    private CompletionStage<HttpAnswer> showSession(HttpCall call) {
        Optional<Session> session = registry.get(call.param("id"));
        if (session.isEmpty()) {
            return done(notFound());
        }
        return session.get()
                .snapshot()
                .thenApply(snapshot -> HttpAnswer.json(HttpResponseStatus.OK, mapper, json(snapshot)))
                .exceptionally(error -> notFound());
    }

    private CompletionStage<HttpAnswer> endSession(HttpCall call) {
        Optional<Session> session = registry.get(call.param("id"));
        if (session.isEmpty()) {
            return done(notFound());
        }
        session.get().endByOperator();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", session.get().id());
        body.put("status", "ending");
        body.put("reason", "ended_by_operator");
        return done(HttpAnswer.json(HttpResponseStatus.ACCEPTED, mapper, body));
    }

    private HttpAnswer poolStatus() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", workerKind);
        body.put("pool", pool.get().map(AdminApi::json).orElse(null));
        return HttpAnswer.json(HttpResponseStatus.OK, mapper, body);
    }

    private HttpAnswer startDrain() {
        // Answered at once: the drain goes on after the response, and its end is in the logs and /readyz.
        CompletionStage<Void> unusedDrained = drain.get();
        return HttpAnswer.json(HttpResponseStatus.ACCEPTED, mapper, Map.of("status", "draining"));
    }

    private HttpAnswer notFound() {
        return error(mapper, HttpResponseStatus.NOT_FOUND, "not_found", "no live session with that id");
    }

    private static CompletionStage<HttpAnswer> done(HttpAnswer answer) {
        return CompletableFuture.completedFuture(answer);
    }

    static Map<String, Object> json(SessionSnapshot s) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", s.id());
        json.put("subject", s.subject());
        json.put("state", s.state().wire());
        json.put("attached", s.attached());
        json.put("newest_seq", s.newestSeq());
        json.put("worker_pid", s.workerPid());
        json.put("worker_rss_bytes", s.workerRssBytes());
        json.put("started_at", s.startedAt().getEpochSecond());
        json.put("age_seconds", s.age().toSeconds());
        json.put(
                "token_expires_at",
                s.tokenExpiresAt() == null ? null : s.tokenExpiresAt().getEpochSecond());
        json.put("viewers", s.viewers());
        json.put("worker_disk_bytes", s.workerDiskBytes());
        return json;
    }

    static Map<String, Object> json(PoolStatus p) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("warm", p.warm());
        json.put("starting", p.starting());
        json.put("live", p.live());
        json.put("min_idle", p.minIdle());
        json.put("max_workers", p.maxWorkers());
        json.put("spawned", p.spawned());
        json.put("spawn_failures", p.spawnFailures());
        json.put("consecutive_failures", p.consecutiveFailures());
        json.put("breaker", p.breaker().name().toLowerCase(Locale.ROOT));
        json.put("backoff_remaining_ms", p.backoffRemaining().toMillis());
        json.put("last_failure", p.lastFailure());
        json.put("closed", p.closed());
        return json;
    }
}
