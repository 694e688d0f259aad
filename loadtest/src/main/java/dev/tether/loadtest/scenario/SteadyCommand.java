package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code steady}: N sessions, a total open-loop rate, round trip and time to first event measured
 * from each message's scheduled time; with {@code --baseline} the same workload against the raw
 * Netty baseline server too, with the ratios.
 */
@Command(name = "steady", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"N sessions at a total open-loop rate; round trip and first-event latency from the scheduled send time.",
                "Defaults: --sessions 100 --rate 1000 --duration 30s; --launch-gateway uses config/bench/echo.yaml."})
public final class SteadyCommand extends ScenarioCommand {

    @Option(names = "--baseline", description = "also run the same workload against the raw Netty baseline server (own process) and report ratios")
    boolean baseline;

    @Override
    ObjectNode execute() throws Exception {
        Traffic.Plan plan = new Traffic.Plan("steady", common.sessions(100), common.rate(1000), common.warmup,
                common.duration(Duration.ofSeconds(30)), false, false, Duration.ofHours(1));
        Workload.Payload payload = payload(common.payloadBytes);
        ReportBuilder report;
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", Duration.ofSeconds(1), false)) {
            report = Traffic.run(common, plan, target, payload, null).report().options(optionValues());
        }
        if (baseline) {
            try (Target target = Target.baseline(common, Duration.ofSeconds(1))) {
                report.baseline(Traffic.run(common, plan, target, payload, null).report().options(optionValues()).build());
            }
        }
        return report.build();
    }

    /** A text of {@code bytes} characters, the same for every message. */
    static Workload.Payload payload(int bytes) {
        TextNode text = TextNode.valueOf("x".repeat(bytes));
        return (k, user) -> text;
    }
}
