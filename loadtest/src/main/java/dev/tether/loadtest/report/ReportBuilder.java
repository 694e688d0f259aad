package dev.tether.loadtest.report;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.audit.LostRange;
import dev.tether.loadtest.audit.Violation;
import dev.tether.loadtest.audit.ViolationKind;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.gateway.ProcessSampler;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;
import org.HdrHistogram.Histogram;

/**
 * Builds the report JSON (schema 1, the shape {@code HtmlReport} and {@code docs/benchmarks.md}
 * rely on: keep the names) from what a run measured. One builder per report, on the scenario's
 * thread.
 */
public final class ReportBuilder {

    /** The percentiles listed in each latency metric's {@code percentiles} array. */
    static final double[] PERCENTILES = {0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100};

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The violations that mean something was delivered twice, summed as {@code audit.duplicates_delivered}. */
    private static final List<String> DUPLICATE_KINDS = List.of(
            ViolationKind.SEQ_REPEATED.wire(),
            ViolationKind.DELTA_DUPLICATED.wire(),
            ViolationKind.RESULT_DUPLICATED.wire());

    private final ObjectNode root = JSON.createObjectNode();

    /**
     * @param scenario  {@code steady}, {@code chaos}, ...
     * @param target    {@code gateway} or {@code baseline}
     * @param startedAt when the run started
     */
    public ReportBuilder(String scenario, String target, Instant startedAt, double durationS, double warmupS) {
        root.put("schema", 1);
        root.put("scenario", requireNonNull(scenario, "scenario"));
        root.put("target", requireNonNull(target, "target"));
        root.put("started_at", startedAt.toString());
        root.put("duration_s", durationS);
        root.put("warmup_s", warmupS);
    }

    /** The command-line options of the run, by long name (secrets left out by the caller). */
    public ReportBuilder options(Map<String, Object> options) {
        root.set("options", JSON.valueToTree(options));
        return this;
    }

    /** Latencies, throughput, timeline, errors and close codes from {@code stats}. */
    public ReportBuilder stats(RunStats stats, double measuredS) {
        ObjectNode latency = root.putObject("latency_ms");
        for (RunStats.Metric metric : RunStats.Metric.values()) {
            Histogram h = stats.histogram(metric);
            if (h.getTotalCount() > 0) {
                latency.set(metric.key(), latency(h));
            }
        }
        ArrayNode timeline = root.putArray("timeline");
        for (RunStats.Second s : stats.timeline()) {
            timeline.addObject()
                    .put("t_s", s.tS())
                    .put("sent", s.sent())
                    .put("results", s.results())
                    .put("errors", s.errors())
                    .put("sessions", s.sessions())
                    .put("p50_ms", s.p50Ms())
                    .put("p99_ms", s.p99Ms())
                    .put("max_ms", s.maxMs());
        }
        double span = Math.max(measuredS, 1e-9);
        root.putObject("throughput")
                .put("offered_per_s", stats.offeredCount() / span)
                .put("sent_per_s", stats.sentCount() / span)
                .put("results_per_s", stats.resultCount() / span)
                .put("events_per_s", stats.eventCount() / span)
                .put("frames_per_s", stats.frameCount() / span);
        // Frames and what they held, counted apart: with batch=<ms> (contract 8.4) one frame holds several.
        root.putObject("delivery")
                .put("frames", stats.frameCount())
                .put("messages", stats.messageCount())
                .put("events", stats.eventCount())
                .put(
                        "messages_per_frame",
                        stats.frameCount() == 0 ? 0 : (double) stats.messageCount() / stats.frameCount());
        root.set("errors", JSON.valueToTree(stats.errors()));
        ObjectNode codes = root.putObject("close_codes");
        stats.closeCodes().forEach((code, n) -> codes.put(String.valueOf(code), n));
        root.set("counters", JSON.valueToTree(stats.counters()));
        return this;
    }

    /** The {@code latency_ms} entry of one histogram (microsecond values). */
    static ObjectNode latency(Histogram h) {
        ObjectNode node = JSON.createObjectNode();
        node.put("count", h.getTotalCount());
        node.put("mean", h.getMean() / 1000.0);
        node.put("p50", ms(h, 50));
        node.put("p90", ms(h, 90));
        node.put("p99", ms(h, 99));
        node.put("p999", ms(h, 99.9));
        node.put("max", h.getMaxValue() / 1000.0);
        ArrayNode list = node.putArray("percentiles");
        for (double p : PERCENTILES) {
            list.addObject().put("p", p).put("ms", ms(h, p));
        }
        return node;
    }

    private static double ms(Histogram h, double p) {
        return h.getValueAtPercentile(p) / 1000.0;
    }

    /**
     * The {@code audit} section: the verdict, what was checked, what crossed cuts, what was lost and
     * why, and every violation (by kind, and the first 200 with their details).
     */
    public ReportBuilder audit(AuditSummary audit) {
        ObjectNode node = root.putObject("audit");
        long duplicated = DUPLICATE_KINDS.stream()
                .mapToLong(k -> audit.violationKinds().getOrDefault(k, 0L))
                .sum();
        node.put("passed", audit.passed())
                .put("sessions", audit.sessions())
                .put("events", audit.events())
                .put("messages", audit.messages())
                .put("answered", audit.answered())
                .put("deltas_checked", audit.deltasChecked())
                .put("unpredictable_turns", audit.unpredictableTurns())
                .put("resumes", audit.resumes())
                .put("resumes_replaying_new", audit.resumesReplayingNew())
                .put("replayed_new", audit.replayedNew())
                .put("replayed_seen", audit.replayedSeen())
                .put("lost", audit.lost())
                .put("gaps", audit.gaps())
                .put("gaps_without_loss", audit.gapsWithoutLoss())
                .put("gap_hit_messages", audit.gapHitMessages())
                .put("crashed_turns", audit.crashedTurns())
                .put("turn_counts_checked", audit.turnCountsChecked())
                .put("interrupted_turns", audit.interruptedTurns())
                .put("refused_messages", audit.refusedMessages())
                .put("expired_sessions", audit.expiredSessions())
                .put("expired_messages", audit.expiredMessages())
                .put("duplicates_acknowledged", audit.duplicatesAcknowledged())
                .put("duplicates_delivered", duplicated)
                .put("violation_count", audit.violationCount());
        ArrayNode ranges = node.putArray("lost_ranges");
        for (LostRange range : audit.lostRanges()) {
            ObjectNode r = ranges.addObject()
                    .put("session", range.session())
                    .put("from", range.from())
                    .put("to", range.to())
                    .put("lost", range.lost());
            range.messages().forEach(r.putArray("messages")::add);
        }
        ObjectNode kinds = node.putObject("violation_kinds");
        new TreeMap<>(audit.violationKinds()).forEach(kinds::put);
        ArrayNode list = node.putArray("violations");
        for (Violation v : audit.violations()) {
            list.addObject().put("session", v.session()).put("kind", v.kind()).put("detail", v.detail());
        }
        return this;
    }

    /**
     * The {@code gateway} section: the target process's samples, each with the process tree's RSS
     * ({@code rss_bytes}) split into the gateway JVM's own ({@code gateway_rss_bytes}) and its
     * workers' ({@code workers_rss_bytes}, over {@code worker_processes} processes); and
     * {@code memory}, the start, peak and end of each of the three.
     */
    public ReportBuilder process(long pid, List<ProcessSampler.Sample> samples) {
        return process(pid, samples, Double.NaN);
    }

    /**
     * As {@link #process(long, List)}, with {@code traffic_start_s}: the samples' {@code t_s} at which
     * the traffic began (the timeline's 0), so that the process can be shown on the traffic's time
     * axis, warm-up included. NaN leaves it out (a scenario without timed traffic).
     */
    public ReportBuilder process(long pid, List<ProcessSampler.Sample> samples, double trafficStartS) {
        ObjectNode node = root.putObject("gateway");
        node.put("pid", pid);
        if (Double.isFinite(trafficStartS)) {
            node.put("traffic_start_s", trafficStartS);
        }
        ArrayNode list = node.putArray("samples");
        for (ProcessSampler.Sample s : samples) {
            ObjectNode sample = list.addObject()
                    .put("t_s", s.tSeconds())
                    .put("rss_bytes", s.rssBytes())
                    .put("gateway_rss_bytes", s.rootRssBytes())
                    .put("workers_rss_bytes", s.descendantsRssBytes())
                    .put("worker_processes", s.descendants())
                    .put("threads", s.threads())
                    .put("cpu_pct", s.cpuPct());
            if (s.heapUsedBytes() == null) {
                sample.putNull("heap_used_bytes");
            } else {
                sample.put("heap_used_bytes", s.heapUsedBytes());
            }
        }
        if (!samples.isEmpty()) {
            ObjectNode memory = node.putObject("memory");
            memory.set("gateway_rss_bytes", startPeakEnd(samples, ProcessSampler.Sample::rootRssBytes));
            memory.set("workers_rss_bytes", startPeakEnd(samples, ProcessSampler.Sample::descendantsRssBytes));
            memory.set("total_rss_bytes", startPeakEnd(samples, ProcessSampler.Sample::rssBytes));
            memory.set("worker_processes", startPeakEnd(samples, ProcessSampler.Sample::descendants));
        }
        return this;
    }

    private static ObjectNode startPeakEnd(
            List<ProcessSampler.Sample> samples, ToLongFunction<ProcessSampler.Sample> value) {
        return JSON.createObjectNode()
                .put("start", value.applyAsLong(samples.get(0)))
                .put("peak", samples.stream().mapToLong(value).max().orElse(0))
                .put("end", value.applyAsLong(samples.get(samples.size() - 1)));
    }

    /** A scenario's own section ({@code connect}, {@code idle}, {@code soak}, {@code refresh}, {@code resume}). */
    public ReportBuilder section(String name, JsonNode value) {
        root.set(name, value);
        return this;
    }

    /** Nests the baseline run and adds the gateway/baseline ratios of round-trip p50 and p99. */
    public ReportBuilder baseline(JsonNode baseline) {
        root.set("baseline", baseline);
        JsonNode ours = root.path("latency_ms").path("round_trip");
        JsonNode theirs = baseline.path("latency_ms").path("round_trip");
        ObjectNode ratios = root.putObject("ratios");
        ratios.put(
                "round_trip_p50",
                ratio(ours.path("p50").asDouble(), theirs.path("p50").asDouble()));
        ratios.put(
                "round_trip_p99",
                ratio(ours.path("p99").asDouble(), theirs.path("p99").asDouble()));
        return this;
    }

    private static double ratio(double a, double b) {
        return b > 0 ? a / b : 0;
    }

    /** A fresh object node for {@link #section}. */
    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    public ObjectNode build() {
        return root;
    }
}
