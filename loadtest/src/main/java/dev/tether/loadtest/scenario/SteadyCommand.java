package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code steady}: N sessions, a total open-loop rate, round trip and time to first event measured
 * from each message's scheduled time; with {@code --baseline} the same workload against the raw
 * Netty baseline server too, with the ratios. Driven by the Netty engine ({@link EngineTraffic}),
 * which can also run a closed loop ({@code --closed-loop}) and {@code --compare websocketd}
 * ({@link Compare}); {@code --client tyrus} runs the Tyrus path ({@link Traffic}).
 */
@Command(
        name = "steady",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "N sessions at a total open-loop rate; round trip and first-event latency from the scheduled send time.",
            "Defaults: --sessions 100 --rate 1000 --duration 30s; --launch-gateway uses config/bench/echo.yaml."
        })
public final class SteadyCommand extends ScenarioCommand {

    @Option(
            names = "--baseline",
            description =
                    "also run the same workload against the raw Netty baseline server (own process) and report ratios")
    boolean baseline;

    @Option(
            names = "--baseline-deltas",
            defaultValue = "3",
            description =
                    "delta events the baseline server streams before each result, like the echo worker of config/bench/echo.yaml (default: ${DEFAULT-VALUE})")
    int baselineDeltas;

    @Mixin
    ClientOptions client;

    @Option(
            names = "--closed-loop",
            description =
                    "netty client: each session keeps --in-flight messages outstanding and sends the next when one is answered"
                            + " (--rate ignored): the most the target takes; latency then counts from the actual send")
    boolean closedLoop;

    @Option(
            names = "--in-flight",
            defaultValue = "1",
            description = "with --closed-loop, messages outstanding per session (default: ${DEFAULT-VALUE})")
    int inFlight;

    @Option(
            names = "--compare",
            paramLabel = "websocketd|tls",
            description =
                    "netty client. websocketd: run the same workload against Tether with the C reference worker (built here with cc;"
                            + " --launch-gateway uses config/bench/c-worker.yaml), websocketd with the same worker, and the raw Netty"
                            + " echo (--baseline-deltas), one after the other, and report the ratios. tls: against launched gateways"
                            + " with the echo worker, plain, TLS with OpenSSL and TLS with the JDK (config/bench/echo*.yaml; needs"
                            + " --ca-file or --insecure)")
    String compare;

    @Override
    void validate() {
        client.validate();
        if (compare != null && !compare.equals("websocketd") && !compare.equals("tls")) {
            throw new IllegalArgumentException("--compare: " + compare + " (expected: websocketd or tls)");
        }
        if (!client.engine() && (closedLoop || compare != null)) {
            throw new IllegalArgumentException("--closed-loop and --compare need the netty client (--client netty)");
        }
        if (inFlight < 1) {
            throw new IllegalArgumentException("--in-flight: " + inFlight + " (expected: >= 1)");
        }
        if (baselineDeltas < 0) {
            throw new IllegalArgumentException("--baseline-deltas: " + baselineDeltas + " (expected: >= 0)");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        Traffic.Plan plan = Traffic.Plan.direct(
                "steady",
                common.sessions(100),
                common.rate(1000),
                common.warmup,
                common.duration(Duration.ofSeconds(30)),
                Duration.ofHours(1));
        if (client.engine()) {
            return onEngine(plan);
        }
        Workload.Payload payload = payload(common);
        ReportBuilder report;
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", Duration.ofSeconds(1))) {
            report = Traffic.run(common, plan, target, payload, null).report().options(optionValues(plan));
        }
        if (baseline) {
            try (Target target = Target.baseline(common, Duration.ofSeconds(1), baselineDeltas)) {
                report.baseline(Traffic.run(common, plan, target, payload, null)
                        .report()
                        .options(optionValues(plan))
                        .build());
            }
        }
        return report.build();
    }

    private ObjectNode onEngine(Traffic.Plan plan) throws Exception {
        JsonNode data = data(common);
        EngineTraffic.Drive drive = new EngineTraffic.Drive(client.threads, closedLoop, inFlight, client.compression);
        if ("tls".equals(compare)) {
            return CompareTls.run(common, plan, data, drive, optionValues(plan));
        }
        if (compare != null) {
            return Compare.run(common, plan, data, drive, baselineDeltas, optionValues(plan));
        }
        ReportBuilder report;
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", Duration.ofSeconds(1))) {
            report = EngineTraffic.run(common, plan, target, Dialect.TETHER, data, drive)
                    .report()
                    .options(optionValues(plan));
        }
        if (baseline) {
            try (Target target = Target.baseline(common, Duration.ofSeconds(1), baselineDeltas)) {
                report.baseline(EngineTraffic.run(common, plan, target, Dialect.TETHER, data, drive)
                        .report()
                        .options(optionValues(plan))
                        .build());
            }
        }
        return report.build();
    }

    /** {@code --message-data} when given, else a text of {@code --payload-bytes} characters; the same for every message. */
    static Workload.Payload payload(CommonOptions options) {
        JsonNode message = data(options);
        return (k, user) -> message;
    }

    /** The data of every message: {@code --message-data}, else a text of {@code --payload-bytes} characters. */
    static JsonNode data(CommonOptions options) {
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
        return data;
    }
}
