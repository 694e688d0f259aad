package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
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
 * are counted by status, not treated as errors.
 */
@Command(name = "connect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Opens sessions at --connect-rate up to --sessions; time to a ready worker, warm vs cold; refusals by status.",
                "Defaults: --sessions 50 --connect-rate 5; --launch-gateway uses config/bench/demo.yaml (subprocess workers)."})
public final class ConnectCommand extends ScenarioCommand {

    @Mixin
    ClientOptions client;

    @Option(names = "--ready-timeout", converter = Durations.class, defaultValue = "60s",
            description = "longest wait for a cold worker to become ready (default: ${DEFAULT-VALUE})")
    Duration readyTimeout;

    @Override
    void validate() {
        client.validate();
    }

    @Override
    ObjectNode execute() throws Exception {
        int n = common.sessions(50);
        double rate = common.connectRate(5);
        RunStats stats = new RunStats();
        Instant startedAt = Instant.now();
        try (Target target = Target.gateway(common, "config/bench/demo.yaml", Duration.ofSeconds(1), 10)) {
            ClientSettings settings = new ClientSettings(target.uri(), common.tokens(Duration.ofHours(1)), stats,
                    common.ackEvery, false, readyTimeout, target.turnModel());
            try (Clients.Users fleet = Clients.open(client, settings, common.subjectPrefix, !common.noProgress)) {
                fleet.refusedUpgrades(50);
                WarmStart warm = WarmStart.prepare(fleet, target, common.clientWarmup, System.err);
                long start = System.nanoTime();
                System.err.printf("connect: opening %d sessions at %.1f/s at %s%n", n, rate, target.uri());
                List<Refusal> refusals = fleet.connect(n, rate, readyTimeout);
                double openS = (System.nanoTime() - start) / 1e9;
                List<Clients.User> users = fleet.connected();
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
                AuditSummary audit = AuditSummary.of(finish.audits());
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
                ReportBuilder report = new ReportBuilder("connect", target.kind(), startedAt, elapsedS, 0)
                        .options(optionValues()).stats(stats, elapsedS).audit(audit).section("connect", section)
                        .section("sessions_end", finish.ending().toJson(target.liveSessionsAfter(finish.ending(), common.endTimeout)))
                        .section("client_warmup", warm.summary());
                if (target.sampler() != null) {
                    report.process(target.sampler().pid(), target.sampler().samples());
                }
                warm.gatewayFigures().ifPresent(figures -> report.section("gateway_session_start_ms", figures));
                return report.build();
            }
        }
    }

    private static Map<String, com.fasterxml.jackson.databind.JsonNode> toNodes(Map<String, Long> counts) {
        Map<String, com.fasterxml.jackson.databind.JsonNode> nodes = new TreeMap<>();
        counts.forEach((k, v) -> nodes.put(k, com.fasterxml.jackson.databind.node.LongNode.valueOf(v)));
        return nodes;
    }
}
