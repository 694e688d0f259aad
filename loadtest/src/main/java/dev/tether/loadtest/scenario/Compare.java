package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.compare.CWorker;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.report.ReportBuilder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code steady --compare websocketd}: the same workload, one after the other in one run, against
 * Tether with the C reference worker, websocketd with the same worker (its websocketd mode: the
 * same bytes in and out, without the ready line), and the raw Netty baseline server; each driven by
 * the Netty engine. The report is Tether's, with a {@code compare} section (each target's figures
 * and Tether's ratios to the other two) and the other two runs' whole reports in
 * {@code compare_runs}. Runs on the scenario's thread.
 */
final class Compare {

    /** The targets, in the order they run. */
    static final List<String> TARGETS = List.of("tether", "websocketd", "baseline");

    private Compare() {}

    static ObjectNode run(
            CommonOptions common,
            Traffic.Plan plan,
            JsonNode data,
            EngineTraffic.Drive drive,
            int baselineDeltas,
            Map<String, Object> options)
            throws Exception {
        PrintStream log = System.err;
        Path dir = common.out.resolve("c-worker");
        Path worker = CWorker.build(dir);
        log.println("steady --compare: built the C worker " + worker);
        Path config = common.gatewayConfig != null
                ? common.gatewayConfig
                : CWorker.gatewayConfig(Path.of("config/bench/c-worker.yaml"), worker, dir.resolve("c-worker.yaml"));
        Duration every = Duration.ofSeconds(1);

        log.println("steady --compare: 1/3 Tether + C worker");
        ReportBuilder tether;
        ObjectNode tetherFigures;
        // Launched with c-worker.yaml, wait for its whole warm pool (min_idle 100), so that no spawn falls in the run.
        int warm = common.gatewayConfig != null ? plan.sessions() : Math.max(plan.sessions(), 100);
        try (Target target = Target.gateway(common, config, every, warm)) {
            EngineTraffic.Result r = EngineTraffic.run(common, plan, target, Dialect.TETHER, data, drive);
            tether = r.report().options(options);
            tetherFigures =
                    r.figures().put("what", "Tether gateway + C worker (subprocess per session, from a warm pool)");
        }
        log.println("steady --compare: 2/3 websocketd + C worker");
        JsonNode websocketd;
        ObjectNode websocketdFigures;
        try (Target target = Target.websocketd(common, List.of(worker.toString(), "--websocketd"), every)) {
            EngineTraffic.Result r = EngineTraffic.run(common, plan, target, Dialect.LINES, data, drive);
            websocketd = r.report().options(options).build();
            websocketdFigures = r.figures().put("what", "websocketd + C worker (a process forked per connection)");
        }
        log.println("steady --compare: 3/3 raw Netty echo (baseline)");
        JsonNode baseline;
        ObjectNode baselineFigures;
        try (Target target = Target.baseline(common, every, baselineDeltas)) {
            EngineTraffic.Result r = EngineTraffic.run(common, plan, target, Dialect.TETHER, data, drive);
            baseline = r.report().options(options).build();
            baselineFigures = r.figures()
                    .put(
                            "what",
                            "raw Netty WebSocket echo in-process (loadtest BaselineServer), " + baselineDeltas
                                    + " deltas");
        }
        ObjectNode section = ReportBuilder.object();
        ObjectNode targets = section.putObject("targets");
        targets.set("tether", tetherFigures);
        targets.set("websocketd", websocketdFigures);
        targets.set("baseline", baselineFigures);
        ObjectNode ratios = section.putObject("ratios");
        ratios.set("tether_to_websocketd", ratios(tetherFigures, websocketdFigures));
        ratios.set("tether_to_baseline", ratios(tetherFigures, baselineFigures));
        ObjectNode runs = ReportBuilder.object();
        runs.set("websocketd", websocketd);
        runs.set("baseline", baseline);
        return tether.section("compare", section).section("compare_runs", runs).build();
    }

    /** {@code a / b} of round-trip p50, p99, server CPU per message and results per second. */
    static ObjectNode ratios(JsonNode a, JsonNode b) {
        ObjectNode node = ReportBuilder.object();
        node.put(
                "round_trip_p50",
                ratio(
                        a.path("round_trip_ms").path("p50"),
                        b.path("round_trip_ms").path("p50")));
        node.put(
                "round_trip_p99",
                ratio(
                        a.path("round_trip_ms").path("p99"),
                        b.path("round_trip_ms").path("p99")));
        node.put(
                "server_cpu_per_message",
                ratio(a.path("server_cpu_us_per_message"), b.path("server_cpu_us_per_message")));
        node.put("results_per_s", ratio(a.path("results_per_s"), b.path("results_per_s")));
        return node;
    }

    private static double ratio(JsonNode a, JsonNode b) {
        double x = a.asDouble(Double.NaN);
        double y = b.asDouble(Double.NaN);
        return y > 0 && Double.isFinite(x) ? x / y : Double.NaN;
    }
}
