package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.gateway.JvmHeap;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code idle} (benchmark figure 5): opens N idle sessions (in-process echo worker), holds them,
 * and reports the gateway's heap and RSS per session: the live heap ({@code jcmd GC.run} then
 * {@code GC.heap_info}) and RSS before opening and with all N open, the difference divided by N.
 */
@Command(name = "idle", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Opens N idle sessions and reports gateway heap (after a full GC) and RSS per session.",
                "Defaults: --sessions 1000 --connect-rate 200; needs --launch-gateway (config/bench/echo.yaml) or --gateway-pid.",
                "Heap figures need the JDK's jcmd."})
public final class IdleCommand extends ScenarioCommand {

    @Mixin
    ClientOptions client;

    @Option(names = "--hold", converter = Durations.class, defaultValue = "5s",
            description = "time the sessions stay open before the second reading (default: ${DEFAULT-VALUE})")
    Duration hold;

    @Override
    void validate() {
        client.validate();
    }

    @Override
    ObjectNode execute() throws Exception {
        RunStats stats = new RunStats();
        Instant startedAt = Instant.now();
        int n = common.sessions(1000);
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", Duration.ofSeconds(1))) {
            ProcessSampler sampler = target.sampler();
            if (sampler == null) {
                throw new SetupException("idle needs the gateway's pid: --launch-gateway or --gateway-pid");
            }
            ClientSettings settings = new ClientSettings(target.uri(), common.tokens(Duration.ofHours(1)), stats,
                    0, false, Duration.ofSeconds(60), target.turnModel());
            try (Clients.Users fleet = Clients.open(client, settings, common.subjectPrefix, !common.noProgress)) {
                WarmStart warm = WarmStart.prepare(fleet, target, common.clientWarmup, System.err);
                JvmHeap.Reading heapBefore = sampler.forceGcAndHeap();
                long rssBefore = rssNow(sampler);
                long start = System.nanoTime();
                System.err.printf("idle: opening %d sessions at %.0f/s%n", n, common.connectRate(200));
                List<Refusal> refusals = fleet.connect(n, common.connectRate(200), Duration.ofSeconds(60));
                refusals.forEach(r -> stats.error("connect_" + (r == null ? "timeout" : r.kind())));
                int open = fleet.connected().size();
                LockSupport.parkNanos(hold.toNanos());
                JvmHeap.Reading heapAfter = sampler.forceGcAndHeap();
                long rssAfter = rssNow(sampler);
                double elapsedS = (System.nanoTime() - start) / 1e9;
                ObjectNode section = ReportBuilder.object().put("sessions_open", open)
                        .put("rss_before_bytes", rssBefore).put("rss_after_bytes", rssAfter)
                        .put("rss_per_session_bytes", open == 0 ? 0 : (rssAfter - rssBefore) / open);
                if (heapBefore.usedBytes() != null && heapAfter.usedBytes() != null) {
                    section.put("heap_before_bytes", heapBefore.usedBytes()).put("heap_after_bytes", heapAfter.usedBytes())
                            .put("heap_per_session_bytes", open == 0 ? 0 : (heapAfter.usedBytes() - heapBefore.usedBytes()) / open);
                } else {
                    section.put("heap_problem", heapBefore.problem() != null ? heapBefore.problem() : heapAfter.problem());
                }
                Fleet.Finish finish = fleet.finish(Duration.ZERO, common.ending());
                AuditSummary audit = AuditSummary.of(finish.audits());
                ReportBuilder report = new ReportBuilder("idle", target.kind(), startedAt, elapsedS, 0)
                        .options(optionValues()).stats(stats, elapsedS).audit(audit).section("idle", section)
                        .section("sessions_end", finish.ending().toJson(target.liveSessionsAfter(finish.ending(), common.endTimeout)))
                        .section("client_warmup", warm.summary())
                        .process(sampler.pid(), sampler.samples());
                warm.gatewayFigures().ifPresent(figures -> report.section("gateway_session_start_ms", figures));
                return report.build();
            }
        }
    }

    /** The RSS of a fresh sample: waits for the sampler's next one (its interval is a second). */
    private static long rssNow(ProcessSampler sampler) {
        int count = sampler.samples().size();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (sampler.samples().size() <= count && System.nanoTime() < deadline) {
            LockSupport.parkNanos(20_000_000);
        }
        List<ProcessSampler.Sample> samples = sampler.samples();
        return samples.isEmpty() ? 0 : samples.get(samples.size() - 1).rssBytes();
    }
}
