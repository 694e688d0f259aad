package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.VirtualUser;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chaos}: steady traffic while every user cuts its connection at random (seeded) moments,
 * cleanly (close 1000) or abruptly (TCP reset through its relay), resumes with {@code last_seq} and
 * re-sends what is unanswered under the same ids; optionally some messages crash their demo worker.
 * The audit must find every event exactly once.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Steady traffic while connections are cut (clean and abrupt) and resumed; resends exercise idempotency.",
                "Defaults: --sessions 20 --rate 200 --duration 60s; --launch-gateway uses config/bench/echo.yaml"
                        + " (config/bench/demo.yaml with --kill-workers)."})
public final class ChaosCommand extends ScenarioCommand {

    @Option(names = "--cut-interval", converter = Durations.class, defaultValue = "5s",
            description = "mean time between two cuts of one user (exponentially distributed) (default: ${DEFAULT-VALUE})")
    Duration cutInterval;

    @Option(names = "--abrupt-ratio", defaultValue = "0.5",
            description = "share of cuts that are abrupt TCP resets rather than clean closes (default: ${DEFAULT-VALUE})")
    double abruptRatio;

    @Option(names = "--kill-workers", defaultValue = "0",
            description = "probability that a message carries the demo worker's crash command (needs process workers) (default: ${DEFAULT-VALUE})")
    double killWorkers;

    @Override
    void validate() {
        if (cutInterval.isZero() || cutInterval.isNegative()) {
            throw new IllegalArgumentException("--cut-interval: " + cutInterval + " (expected: > 0)");
        }
        if (abruptRatio < 0 || abruptRatio > 1) {
            throw new IllegalArgumentException("--abrupt-ratio: " + abruptRatio + " (expected: 0 to 1)");
        }
        if (killWorkers < 0 || killWorkers > 1) {
            throw new IllegalArgumentException("--kill-workers: " + killWorkers + " (expected: 0 to 1)");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        Traffic.Plan plan = new Traffic.Plan("chaos", common.sessions(20), common.rate(200), common.warmup,
                common.duration(Duration.ofSeconds(60)), abruptRatio > 0, true, Duration.ofHours(1));
        String config = killWorkers > 0 ? "config/bench/demo.yaml" : "config/bench/echo.yaml";
        try (Target target = Target.gateway(common, config, Duration.ofSeconds(1))) {
            Cutter cutter = new Cutter(cutInterval, abruptRatio, common.seed);
            Traffic.Result result = Traffic.run(common, plan, target, payload(), cutter);
            RunStats stats = result.stats();
            ReportBuilder report = result.report().options(optionValues(plan));
            report.chaos(stats.counter("cuts_clean"), stats.counter("cuts_abrupt"), stats.counter("resumes"),
                    stats.counter("resent"), stats.counter("worker_kills"));
            ObjectNode node = report.build();
            long connections = result.audit().sessions() + stats.counter("resumes");
            long cuts = stats.counter("cuts_clean") + stats.counter("cuts_abrupt");
            ((ObjectNode) node.get("chaos")).put("connections", connections)
                    .put("cut_share", connections == 0 ? 0 : (double) cuts / connections);
            return node;
        }
    }

    private Workload.Payload payload() {
        Random random = new Random(common.seed);
        String text = "x".repeat(common.payloadBytes);
        TextNode plain = TextNode.valueOf(text);
        return (k, user) -> {
            if (killWorkers > 0 && random.nextDouble() < killWorkers) {
                user.stats().count("worker_kills");
                JsonNode crash = JsonNodeFactory.instance.objectNode().put("text", text).put("crash", 3);
                return crash;
            }
            return plain;
        };
    }

    /** Cuts each user at exponentially distributed intervals on one timer thread. */
    static final class Cutter implements Traffic.Hook {
        private final Duration mean;
        private final double abruptRatio;
        private final long seed;
        private ScheduledExecutorService timer;

        Cutter(Duration mean, double abruptRatio, long seed) {
            this.mean = mean;
            this.abruptRatio = abruptRatio;
            this.seed = seed;
        }

        @Override
        public void start(List<VirtualUser> users, RunStats stats) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "chaos-cutter");
                t.setDaemon(true);
                return t;
            });
            for (VirtualUser user : users) {
                Random random = new Random(seed * 31 + user.index());
                schedule(user, random);
            }
        }

        private void schedule(VirtualUser user, Random random) {
            double u = random.nextDouble();
            long delay = (long) (-Math.log(1 - u) * mean.toNanos());
            timer.schedule(() -> {
                user.cut(random.nextDouble() < abruptRatio);
                schedule(user, random);
            }, delay, TimeUnit.NANOSECONDS);
        }

        @Override
        public void stop() {
            if (timer != null) {
                timer.shutdownNow();
            }
        }
    }
}
