package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.gateway.PrometheusHistogram;
import dev.tether.loadtest.gateway.PrometheusText;
import dev.tether.loadtest.report.ReportBuilder;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * What happens before a run's sessions open, so that its ready times measure the gateway: the
 * client is warmed with real sessions that it then ends ({@link Fleet#warmUpClient}), a launched
 * gateway's pool is given time to be as warm as before, and the gateway's own session-start
 * histogram ({@code tether_session_start_seconds}, label {@code start} warm or cold) is read; after
 * the run, {@link #gatewayFigures()} is that histogram's growth since, i.e. the gateway's figure for
 * exactly the run's sessions, to show beside the client's {@code ready_warm} and {@code ready_cold}.
 * Used on the scenario's thread.
 */
final class WarmStart {

    /** The gateway's timer: from session creation to its first worker being ready. */
    static final String SESSION_START = "tether_session_start_seconds";

    private static final Duration WARMUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration REFILL_TIMEOUT = Duration.ofSeconds(90);

    private final Target target;
    private final Optional<PrometheusText> before;
    private final ObjectNode summary;

    private WarmStart(Target target, Optional<PrometheusText> before, ObjectNode summary) {
        this.target = target;
        this.before = before;
        this.summary = summary;
    }

    /** Warms the client with {@code sessions} real sessions, waits for the pool, reads the gateway's histogram. */
    static WarmStart prepare(Fleet fleet, Target target, int sessions, PrintStream log) throws InterruptedException {
        return prepare(Clients.tyrus(requireNonNull(fleet, "fleet"), target.uri()), target, sessions, log);
    }

    /** As {@link #prepare(Fleet, Target, int, PrintStream)}, for either client. */
    static WarmStart prepare(Clients.Users fleet, Target target, int sessions, PrintStream log)
            throws InterruptedException {
        requireNonNull(fleet, "fleet");
        requireNonNull(target, "target");
        OptionalInt warmBefore = target.warmWorkers();
        long start = System.nanoTime();
        int ready = fleet.warmUpClient(sessions, WARMUP_TIMEOUT);
        ObjectNode summary = ReportBuilder.object()
                .put("sessions", sessions)
                .put("ready", ready)
                .put("took_s", (System.nanoTime() - start) / 1e9);
        if (sessions > 0 && warmBefore.isPresent() && warmBefore.getAsInt() > 0) {
            boolean refilled = target.awaitWarm(warmBefore.getAsInt(), REFILL_TIMEOUT);
            summary.put("pool_warm_before", warmBefore.getAsInt()).put("pool_refilled", refilled);
            if (!refilled) {
                log.printf(
                        "client warm-up: the gateway's pool did not get back to %d warm workers within %ss%n",
                        warmBefore.getAsInt(), REFILL_TIMEOUT.toSeconds());
            }
        }
        summary.put("total_s", (System.nanoTime() - start) / 1e9);
        return new WarmStart(target, target.gatewayMetrics(), summary);
    }

    /** Adds {@code client_warmup} and, when the gateway's figures can be read, {@code gateway_session_start_ms}. */
    void addTo(ReportBuilder report) {
        report.section("client_warmup", summary());
        gatewayFigures().ifPresent(figures -> report.section("gateway_session_start_ms", figures));
    }

    /** The report's {@code client_warmup}: sessions asked and ready, and whether the pool refilled. */
    ObjectNode summary() {
        return summary.deepCopy();
    }

    /**
     * The report's {@code gateway_session_start_ms}: per {@code start} label ({@code warm},
     * {@code cold}) the gateway's count, mean, p50, p90 and p99 (estimated from its buckets) of the
     * sessions started since {@link #prepare}; empty when the gateway's {@code /metrics} cannot be
     * read (not launched here, or without that histogram).
     */
    Optional<ObjectNode> gatewayFigures() {
        Optional<PrometheusText> after = target.gatewayMetrics();
        if (before.isEmpty() || after.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode node = ReportBuilder.object()
                .put("source", SESSION_START + " on the gateway's /metrics, since the client's warm-up");
        boolean any = false;
        for (String kind : new String[] {"warm", "cold"}) {
            Optional<ObjectNode> m = growth(before.get(), after.get(), SESSION_START, l -> kind.equals(l.get("start")));
            m.ifPresent(figures -> node.set(kind, figures));
            any |= m.isPresent();
        }
        return any ? Optional.of(node) : Optional.empty();
    }

    /**
     * The growth of the gateway's histogram {@code name} (seconds, its series whose labels pass
     * {@code labels}) from {@code before} to {@code after}: count, and in ms mean, p50, p90 and p99
     * (estimated from its buckets) when it counted anything; empty when {@code after} lacks it.
     */
    static Optional<ObjectNode> growth(
            PrometheusText before, PrometheusText after, String name, Predicate<Map<String, String>> labels) {
        Optional<PrometheusHistogram> now = PrometheusHistogram.read(after, name, labels);
        if (now.isEmpty()) {
            return Optional.empty();
        }
        PrometheusHistogram h = PrometheusHistogram.read(before, name, labels)
                .map(now.get()::minus)
                .orElse(now.get());
        ObjectNode m = ReportBuilder.object().put("count", h.count());
        if (h.count() > 0) {
            m.put("mean", h.mean() * 1000)
                    .put("p50", h.quantile(0.5) * 1000)
                    .put("p90", h.quantile(0.9) * 1000)
                    .put("p99", h.quantile(0.99) * 1000);
        }
        return Optional.of(m);
    }
}
