package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.ScenarioUser;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code connect}: opens sessions at {@code --connect-rate} up to N and measures the time to a
 * ready worker, split warm and cold. The client tells them apart by what the gateway sends: a
 * session handed a warm worker is {@code idle} in its {@code session_ready}; one that must wait for
 * a worker to start is {@code preparing} there and becomes ready with {@code status idle}
 * (ready_cold is measured to that status). Refusals (503 at_capacity when the pool runs dry, 429)
 * are counted by status, not treated as errors. With {@code --baseline} the same sessions are then
 * opened on the raw Netty baseline server, whose {@code session_ready} follows the bare handshake:
 * the difference is what the gateway adds to a warm start.
 */
@Command(
        name = "connect",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Opens sessions at --connect-rate up to --sessions; time to a ready worker, warm vs cold; refusals by status.",
            "Defaults: --sessions 50 --connect-rate 5; --launch-gateway uses config/bench/demo.yaml (subprocess workers)."
        })
public final class ConnectCommand extends ScenarioCommand {

    @Mixin
    ClientOptions client;

    @Option(
            names = "--ready-timeout",
            converter = Durations.class,
            defaultValue = "60s",
            description = "longest wait for a cold worker to become ready (default: ${DEFAULT-VALUE})")
    Duration readyTimeout;

    @Override
    void validate() {
        client.validate();
    }

    @Option(
            names = "--baseline",
            description =
                    "also open the same sessions at the same pacing on the raw Netty baseline server (own process), whose"
                            + " session_ready follows the bare WebSocket handshake, and report the difference")
    boolean baseline;

    @Override
    ObjectNode execute() throws Exception {
        ObjectNode report;
        try (Target target = Target.gateway(common, "config/bench/demo.yaml", Duration.ofSeconds(1), 10)) {
            report = run(target);
        }
        if (baseline) {
            ObjectNode base;
            try (Target target = Target.baseline(common, Duration.ofSeconds(1), 0)) {
                base = run(target);
            }
            report.set("baseline", base);
            report.set("ready_vs_handshake", versus(report, base));
        }
        return report;
    }

    /** Opens the sessions on {@code target} and reports them. */
    private ObjectNode run(Target target) throws Exception {
        int n = common.sessions(50);
        double rate = common.connectRate(5);
        RunStats stats = new RunStats();
        Instant startedAt = Instant.now();
        ClientSettings settings = clientSettings(target, stats, common.ackEvery, readyTimeout);
        try (Clients.Users fleet = Clients.open(client, settings, common.subjectPrefix, !common.noProgress)) {
            if (target.kind().equals("gateway")) {
                fleet.refusedUpgrades(50);
            }
            WarmStart warm = WarmStart.prepare(fleet, target, common.clientWarmup, System.err);
            long start = System.nanoTime();
            System.err.printf(
                    "connect: opening %d sessions at %.1f/s at %s (%s)%n", n, rate, target.uri(), target.kind());
            List<Refusal> refusals = fleet.connect(n, rate, readyTimeout);
            double openS = (System.nanoTime() - start) / 1e9;
            List<? extends ScenarioUser> users = fleet.connected();
            long deadline = System.nanoTime() + readyTimeout.toNanos();
            while (System.nanoTime() < deadline && !users.stream().allMatch(u -> u.workerReady() || u.ended())) {
                LockSupport.parkNanos(10_000_000);
            }
            long notReady = users.stream().filter(u -> !u.workerReady()).count();
            if (notReady > 0) {
                stats.error("worker_not_ready");
            }
            double elapsedS = (System.nanoTime() - start) / 1e9;
            Fleet.Finish finish = fleet.finish(Duration.ZERO, common.ending());
            Map<String, Long> refused = new TreeMap<>();
            for (Refusal r : refusals) {
                refused.merge(r == null ? "timeout" : r.kind(), 1L, Long::sum);
            }
            ObjectNode section = ReportBuilder.object()
                    .put("attempted", n)
                    .put("opened", users.size())
                    .put("warm", stats.histogram(RunStats.Metric.READY_WARM).getTotalCount())
                    .put("cold", stats.histogram(RunStats.Metric.READY_COLD).getTotalCount())
                    .put("not_ready", notReady)
                    .put("connect_rate_per_s", rate)
                    .put("opened_per_s", users.size() / Math.max(openS, 1e-9));
            section.set("refused", ReportBuilder.object().setAll(toNodes(refused)));
            return report("connect", target, startedAt, elapsedS, stats, finish, section, warm);
        }
    }

    /** The gateway's warm ready time beside the baseline's bare handshake: p50, p90 and p99, and their differences in ms. */
    static ObjectNode versus(ObjectNode gateway, ObjectNode baseline) {
        ObjectNode out = ReportBuilder.object();
        for (String p : List.of("p50", "p90", "p99")) {
            double g = gateway.path("latency_ms").path("ready_warm").path(p).asDouble(Double.NaN);
            double b = baseline.path("latency_ms").path("ready_warm").path(p).asDouble(Double.NaN);
            out.put(p + "_gateway_ms", g).put(p + "_handshake_ms", b).put(p + "_difference_ms", g - b);
        }
        return out;
    }

    private static Map<String, JsonNode> toNodes(Map<String, Long> counts) {
        Map<String, JsonNode> nodes = new TreeMap<>();
        counts.forEach((k, v) -> nodes.put(k, LongNode.valueOf(v)));
        return nodes;
    }
}
