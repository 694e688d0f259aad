package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code idle} (benchmark figure 5): opens N idle sessions (in-process echo worker, or any worker
 * {@code --gateway-config} names), holds them, and reports what the gateway holds per session: the
 * live heap ({@code jcmd GC.run} then {@code GC.heap_info}), Netty's direct memory, its sockets'
 * kernel queues, its RSS and its workers', before opening and with all N open, the difference
 * divided by N.
 */
@Command(
        name = "idle",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Opens N idle sessions and reports gateway heap (after a full GC) and RSS per session.",
            "Defaults: --sessions 1000 --connect-rate 200; needs --launch-gateway (config/bench/echo.yaml) or --gateway-pid.",
            "Heap figures need the JDK's jcmd."
        })
public final class IdleCommand extends ScenarioCommand {

    @Mixin
    ClientOptions client;

    @Option(
            names = "--hold",
            converter = Durations.class,
            defaultValue = "5s",
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
            ClientSettings settings = clientSettings(target, stats, 0, Duration.ofSeconds(60));
            try (Clients.Users fleet = Clients.open(client, settings, common.subjectPrefix, !common.noProgress)) {
                WarmStart warm = WarmStart.prepare(fleet, target, common.clientWarmup, System.err);
                GatewayReading before = GatewayReading.take(sampler, target);
                long start = System.nanoTime();
                System.err.printf("idle: opening %d sessions at %.0f/s%n", n, common.connectRate(200));
                Traffic.countRefusals(fleet.connect(n, common.connectRate(200), Duration.ofSeconds(60)), stats);
                int open = fleet.connected().size();
                LockSupport.parkNanos(hold.toNanos());
                GatewayReading after = GatewayReading.take(sampler, target);
                double elapsedS = (System.nanoTime() - start) / 1e9;
                ObjectNode section = ReportBuilder.object().put("sessions_open", open);
                after.minus(before, open, "session", section);
                Fleet.Finish finish = fleet.finish(Duration.ZERO, common.ending());
                return report("idle", target, startedAt, elapsedS, stats, finish, section, warm);
            }
        }
    }
}
