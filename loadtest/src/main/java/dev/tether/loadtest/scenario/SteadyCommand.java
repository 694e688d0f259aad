package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    @Option(names = "--baseline-deltas", defaultValue = "3",
            description = "delta events the baseline server streams before each result, like the echo worker of config/bench/echo.yaml (default: ${DEFAULT-VALUE})")
    int baselineDeltas;

    @Override
    ObjectNode execute() throws Exception {
        Traffic.Plan plan = new Traffic.Plan("steady", common.sessions(100), common.rate(1000), common.warmup,
                common.duration(Duration.ofSeconds(30)), false, false, Duration.ofHours(1));
        Workload.Payload payload = payload(common);
        ReportBuilder report;
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", Duration.ofSeconds(1))) {
            report = Traffic.run(common, plan, target, payload, null).report().options(optionValues(plan));
        }
        if (baseline) {
            try (Target target = Target.baseline(common, Duration.ofSeconds(1), baselineDeltas)) {
                report.baseline(Traffic.run(common, plan, target, payload, null).report().options(optionValues(plan)).build());
            }
        }
        return report.build();
    }

    /** {@code --message-data} when given, else a text of {@code --payload-bytes} characters; the same for every message. */
    static Workload.Payload payload(CommonOptions options) {
        JsonNode data;
        if (options.messageData != null) {
            try {
                data = new ObjectMapper().readTree(options.messageData);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("--message-data: not JSON: " + e.getOriginalMessage());
            }
        } else {
            data = TextNode.valueOf("x".repeat(options.payloadBytes));
        }
        JsonNode message = data;
        return (k, user) -> message;
    }
}
