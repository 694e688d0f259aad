package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code soak}: a long run at moderate load that samples the gateway's RSS and threads (with its
 * worker subprocesses) and reports the trend: first and last minute, and the least-squares slope
 * per hour, so that growth is visible.
 */
@Command(
        name = "soak",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "A long run at moderate load sampling the gateway's RSS and threads; reports start, end and slope.",
            "Defaults: --sessions 50 --rate 100 --duration 30m; needs --launch-gateway or --gateway-pid for the trend."
        })
public final class SoakCommand extends ScenarioCommand {

    @Option(
            names = "--sample-interval",
            converter = Durations.class,
            defaultValue = "5s",
            description = "time between two samples of the gateway (default: ${DEFAULT-VALUE})")
    Duration sampleInterval;

    @Override
    ObjectNode execute() throws Exception {
        Traffic.Plan plan = Traffic.Plan.direct(
                "soak",
                common.sessions(50),
                common.rate(100),
                common.warmup,
                common.duration(Duration.ofMinutes(30)),
                Duration.ofHours(24));
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", sampleInterval)) {
            Traffic.Result result = Traffic.run(common, plan, target, SteadyCommand.payload(common), null);
            ReportBuilder report = result.report().options(optionValues(plan));
            if (target.sampler() != null) {
                report.section(
                        "soak",
                        trend(target.sampler().samples(), result.trafficStartS() + Durations.seconds(plan.warmup())));
            } else {
                System.err.println("soak: no gateway pid (--launch-gateway or --gateway-pid): no RSS/thread trend");
            }
            return report.build();
        }
    }

    /**
     * Start (first minute after warm-up), end (last minute) and slope per hour of RSS and threads.
     *
     * @param warmupEndS the end of the warm-up on the samples' clock
     */
    static ObjectNode trend(List<ProcessSampler.Sample> all, double warmupEndS) {
        List<ProcessSampler.Sample> samples =
                all.stream().filter(s -> s.tSeconds() >= warmupEndS).toList();
        ObjectNode node = ReportBuilder.object().put("samples", samples.size());
        if (samples.size() < 2) {
            return node;
        }
        double t0 = samples.get(0).tSeconds();
        double tEnd = samples.get(samples.size() - 1).tSeconds();
        List<ProcessSampler.Sample> first =
                samples.stream().filter(s -> s.tSeconds() <= t0 + 60).toList();
        List<ProcessSampler.Sample> last =
                samples.stream().filter(s -> s.tSeconds() >= tEnd - 60).toList();
        node.put("rss_start_bytes", (long) first.stream()
                .mapToLong(ProcessSampler.Sample::rssBytes)
                .average()
                .orElse(0));
        node.put("rss_end_bytes", (long) last.stream()
                .mapToLong(ProcessSampler.Sample::rssBytes)
                .average()
                .orElse(0));
        node.put("rss_slope_bytes_per_h", slope(samples, true) * 3600);
        node.put(
                "threads_start",
                first.stream()
                        .mapToInt(ProcessSampler.Sample::threads)
                        .average()
                        .orElse(0));
        node.put(
                "threads_end",
                last.stream().mapToInt(ProcessSampler.Sample::threads).average().orElse(0));
        node.put("threads_slope_per_h", slope(samples, false) * 3600);
        return node;
    }

    /** Least-squares slope per second of RSS bytes (or threads) over time. */
    static double slope(List<ProcessSampler.Sample> samples, boolean rss) {
        int n = samples.size();
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (ProcessSampler.Sample s : samples) {
            double x = s.tSeconds();
            double y = rss ? s.rssBytes() : s.threads();
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double denominator = n * sxx - sx * sx;
        return denominator == 0 ? 0 : (n * sxy - sx * sy) / denominator;
    }
}
