package dev.tether.loadtest.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plain-text summary of a report JSON: printed at the end of a run and saved as
 * {@code report.txt}. Pure function of the JSON.
 */
public final class TextReport {

    private TextReport() {}

    public static String render(JsonNode report) {
        StringBuilder out = new StringBuilder();
        line(
                out,
                "Tether load test: %s against %s, started %s",
                report.path("scenario").asText(),
                report.path("target").asText(),
                report.path("started_at").asText());
        line(
                out,
                "measured %.1f s after %.1f s of warm-up",
                report.path("duration_s").asDouble(),
                report.path("warmup_s").asDouble());
        body(out, report);
        JsonNode baseline = report.get("baseline");
        if (baseline != null) {
            line(out, "");
            line(out, "== baseline (raw Netty echo server, same workload) ==");
            body(out, baseline);
            JsonNode ratios = report.path("ratios");
            if (ratios.has("round_trip_p50")) {
                line(out, "");
                line(
                        out,
                        "gateway / baseline: round trip p50 x%.2f, p99 x%.2f",
                        ratios.path("round_trip_p50").asDouble(),
                        ratios.path("round_trip_p99").asDouble());
            }
            JsonNode ready = report.path("ready_vs_handshake");
            if (ready.isObject()) {
                line(out, "");
                line(
                        out,
                        "warm ready vs bare handshake, ms: p50 %.2f vs %.2f (+%.2f), p90 %.2f vs %.2f (+%.2f), p99 %.2f vs %.2f (+%.2f)",
                        ready.path("p50_gateway_ms").asDouble(),
                        ready.path("p50_handshake_ms").asDouble(),
                        ready.path("p50_difference_ms").asDouble(),
                        ready.path("p90_gateway_ms").asDouble(),
                        ready.path("p90_handshake_ms").asDouble(),
                        ready.path("p90_difference_ms").asDouble(),
                        ready.path("p99_gateway_ms").asDouble(),
                        ready.path("p99_handshake_ms").asDouble(),
                        ready.path("p99_difference_ms").asDouble());
            }
        }
        compare(out, report.path("compare"));
        return out.toString();
    }

    /** {@code steady --compare}: each target's figures side by side, and Tether's ratios to the others. */
    private static void compare(StringBuilder out, JsonNode compare) {
        JsonNode targets = compare.path("targets");
        if (!targets.isObject()) {
            return;
        }
        line(out, "");
        line(out, "== compare (same workload, same client, one after the other) ==");
        line(
                out,
                "%-11s %10s %10s %10s %12s %12s %12s %10s %10s %7s",
                "target",
                "p50 ms",
                "p99 ms",
                "p99.9 ms",
                "results/s",
                "server us/msg",
                "client us/msg",
                "frames in",
                "frames out",
                "errors");
        targets.fields().forEachRemaining(e -> {
            JsonNode t = e.getValue();
            JsonNode rt = t.path("round_trip_ms");
            line(
                    out,
                    "%-11s %10.3f %10.3f %10.3f %12.0f %12.1f %12.1f %10.2f %10.2f %7d",
                    e.getKey(),
                    rt.path("p50").asDouble(Double.NaN),
                    rt.path("p99").asDouble(Double.NaN),
                    rt.path("p999").asDouble(Double.NaN),
                    t.path("results_per_s").asDouble(),
                    t.path("server_cpu_us_per_message").asDouble(Double.NaN),
                    t.path("client_cpu_us_per_message").asDouble(Double.NaN),
                    t.path("frames_in_per_message").asDouble(),
                    t.path("frames_out_per_message").asDouble(),
                    t.path("errors").asLong());
        });
        line(
                out,
                "(frames per message: every frame of the run over its results; server us/msg: the target's process tree,"
                        + " workers included, over the measured window)");
        compare.path("ratios").fields().forEachRemaining(e -> {
            JsonNode r = e.getValue();
            line(
                    out,
                    "%s: round trip p50 x%.2f, p99 x%.2f, server CPU per message x%.2f, results/s x%.2f",
                    e.getKey().replace('_', ' '),
                    r.path("round_trip_p50").asDouble(Double.NaN),
                    r.path("round_trip_p99").asDouble(Double.NaN),
                    r.path("server_cpu_per_message").asDouble(Double.NaN),
                    r.path("results_per_s").asDouble(Double.NaN));
        });
    }

    private static void body(StringBuilder out, JsonNode report) {
        JsonNode latency = report.path("latency_ms");
        if (latency.size() > 0) {
            line(out, "");
            line(
                    out,
                    "%-12s %9s %9s %9s %9s %9s %9s %9s",
                    "latency ms",
                    "count",
                    "mean",
                    "p50",
                    "p90",
                    "p99",
                    "p99.9",
                    "max");
            for (Iterator<Map.Entry<String, JsonNode>> it = latency.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode m = e.getValue();
                line(
                        out,
                        "%-12s %9d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f",
                        e.getKey(),
                        m.path("count").asLong(),
                        m.path("mean").asDouble(),
                        m.path("p50").asDouble(),
                        m.path("p90").asDouble(),
                        m.path("p99").asDouble(),
                        m.path("p999").asDouble(),
                        m.path("max").asDouble());
            }
        }
        readyTimes(out, latency, report.path("gateway_session_start_ms"));
        JsonNode t = report.path("throughput");
        if (!t.isMissingNode()) {
            line(out, "");
            line(
                    out,
                    "throughput /s: offered %.1f, sent %.1f, results %.1f, events %.1f, frames %.1f",
                    t.path("offered_per_s").asDouble(),
                    t.path("sent_per_s").asDouble(),
                    t.path("results_per_s").asDouble(),
                    t.path("events_per_s").asDouble(),
                    t.path("frames_per_s").asDouble());
        }
        JsonNode delivery = report.path("delivery");
        if (!delivery.isMissingNode()) {
            line(
                    out,
                    "delivery: %d frames holding %d messages (%.2f a frame), %d events",
                    delivery.path("frames").asLong(),
                    delivery.path("messages").asLong(),
                    delivery.path("messages_per_frame").asDouble(),
                    delivery.path("events").asLong());
        }
        map(out, "errors", report.path("errors"));
        map(out, "close codes", report.path("close_codes"));
        map(out, "counters", report.path("counters"));
        for (String section :
                new String[] {"engine", "chaos", "connect", "refresh", "resume", "soak", "idle", "hibernate"}) {
            map(out, section, report.path(section));
        }
        ending(out, report.path("sessions_end"));
        JsonNode gateway = report.path("gateway").path("samples");
        if (gateway.size() > 0) {
            JsonNode first = gateway.get(0);
            JsonNode last = gateway.get(gateway.size() - 1);
            line(out, "");
            line(
                    out,
                    "gateway process %d and its workers: threads %d -> %d, %d samples",
                    report.path("gateway").path("pid").asLong(),
                    first.path("threads").asInt(),
                    last.path("threads").asInt(),
                    gateway.size());
            memory(out, report.path("gateway").path("memory"));
        }
        JsonNode audit = report.path("audit");
        if (!audit.isMissingNode()) {
            line(out, "");
            line(
                    out,
                    "audit: %s  sessions %d, events %d, messages %d (answered %d, deltas checked %d), crashed turns %d,"
                            + " turn counts checked %d",
                    audit.path("passed").asBoolean() ? "PASSED" : "FAILED",
                    audit.path("sessions").asLong(),
                    audit.path("events").asLong(),
                    audit.path("messages").asLong(),
                    audit.path("answered").asLong(),
                    audit.path("deltas_checked").asLong(),
                    audit.path("crashed_turns").asLong(),
                    audit.path("turn_counts_checked").asLong());
            line(
                    out,
                    "  resumes %d (%d replaying new events): events replayed new %d, replayed again and compared %d",
                    audit.path("resumes").asLong(),
                    audit.path("resumes_replaying_new").asLong(),
                    audit.path("replayed_new").asLong(),
                    audit.path("replayed_seen").asLong());
            line(
                    out,
                    "  lost %d in %d replay gaps (%d more only over seqs already seen; %d messages hit), expired sessions %d"
                            + " (%d messages with them), duplicates delivered %d, acknowledged %d",
                    audit.path("lost").asLong(),
                    audit.path("gaps").asLong()
                            - audit.path("gaps_without_loss").asLong(),
                    audit.path("gaps_without_loss").asLong(),
                    audit.path("gap_hit_messages").asLong(),
                    audit.path("expired_sessions").asLong(),
                    audit.path("expired_messages").asLong(),
                    audit.path("duplicates_delivered").asLong(),
                    audit.path("duplicates_acknowledged").asLong());
            for (JsonNode r : audit.path("lost_ranges")) {
                List<String> hit = new ArrayList<>();
                r.path("messages").forEach(m -> hit.add(m.asText()));
                line(
                        out,
                        "  LOST session %s: seqs %d..%d (%d unseen), messages hit: %s",
                        r.path("session").asText(),
                        r.path("from").asLong(),
                        r.path("to").asLong(),
                        r.path("lost").asLong(),
                        hit.isEmpty() ? "none" : String.join(", ", hit));
            }
            map(out, "  violations by kind", audit.path("violation_kinds"));
            for (JsonNode v : audit.path("violations")) {
                line(
                        out,
                        "  VIOLATION session %s: %s: %s",
                        v.path("session").asText(),
                        v.path("kind").asText(),
                        v.path("detail").asText());
            }
        }
    }

    /** The client's ready times beside the gateway's own figure for the same sessions, when the report has it. */
    private static void readyTimes(StringBuilder out, JsonNode latency, JsonNode gateway) {
        if (!gateway.isObject()) {
            return;
        }
        line(out, "");
        line(out, "%-40s %9s %9s %9s %9s %9s", "time to a ready worker, ms", "count", "mean", "p50", "p90", "p99");
        for (String kind : new String[] {"warm", "cold"}) {
            JsonNode client = latency.path("ready_" + kind);
            JsonNode own = gateway.path(kind);
            if (!client.isObject() && own.path("count").asLong() == 0) {
                continue;
            }
            line(
                    out,
                    "  %-38s %9d %9.2f %9.2f %9.2f %9.2f",
                    kind + ", client (ready_" + kind + ")",
                    client.path("count").asLong(),
                    client.path("mean").asDouble(Double.NaN),
                    client.path("p50").asDouble(Double.NaN),
                    client.path("p90").asDouble(Double.NaN),
                    client.path("p99").asDouble(Double.NaN));
            line(
                    out,
                    "  %-38s %9d %9.2f %9.2f %9.2f %9.2f",
                    kind + ", gateway (session_start)",
                    own.path("count").asLong(),
                    own.path("mean").asDouble(Double.NaN),
                    own.path("p50").asDouble(Double.NaN),
                    own.path("p90").asDouble(Double.NaN),
                    own.path("p99").asDouble(Double.NaN));
        }
        line(
                out,
                "  (client: from its connect to the worker ready; gateway: %s, bucket estimates)",
                "from session creation to the worker ready");
    }

    /** What became of the run's sessions at its end: ended with {@code end}, or left for a resume. */
    private static void ending(StringBuilder out, JsonNode end) {
        if (!end.isObject()) {
            return;
        }
        StringBuilder text = new StringBuilder();
        if (end.path("left").asBoolean()) {
            text.append(String.format(
                    Locale.ROOT,
                    "%d left open for a resume (--leave-sessions)",
                    end.path("sessions").asLong()));
        } else {
            text.append(String.format(
                    Locale.ROOT,
                    "%d of %d ended with end, %d had ended before, %d failed",
                    end.path("ended").asLong(),
                    end.path("sessions").asLong(),
                    end.path("already_ended").asLong(),
                    end.path("failed").asLong()));
            end.path("failures")
                    .fields()
                    .forEachRemaining(e ->
                            text.append(", ").append(e.getKey()).append(' ').append(e.getValue()));
        }
        if (end.has("gateway_live_sessions")) {
            text.append("; the gateway's live sessions afterwards: ")
                    .append(end.path("gateway_live_sessions").asLong());
        }
        line(out, "");
        line(out, "sessions at the end: %s", text);
    }

    /** The gateway's memory as the whole process tree: the JVM, its workers apart, and the total. */
    private static void memory(StringBuilder out, JsonNode memory) {
        if (!memory.isObject()) {
            return;
        }
        line(out, "%-32s %9s %9s %9s", "memory (RSS, MiB)", "start", "peak", "end");
        String[][] rows = {
            {"gateway_rss_bytes", "gateway JVM"}, {"workers_rss_bytes", "workers"}, {"total_rss_bytes", "total"},
        };
        for (String[] row : rows) {
            JsonNode m = memory.path(row[0]);
            line(
                    out,
                    "  %-30s %9.1f %9.1f %9.1f",
                    row[1],
                    m.path("start").asLong() / 1048576.0,
                    m.path("peak").asLong() / 1048576.0,
                    m.path("end").asLong() / 1048576.0);
        }
        JsonNode processes = memory.path("worker_processes");
        line(
                out,
                "  %-30s %9d %9d %9d",
                "worker processes",
                processes.path("start").asLong(),
                processes.path("peak").asLong(),
                processes.path("end").asLong());
    }

    private static void map(StringBuilder out, String title, JsonNode node) {
        if (!node.isObject() || node.size() == 0) {
            return;
        }
        StringBuilder items = new StringBuilder();
        node.fields().forEachRemaining(e -> {
            if (items.length() > 0) {
                items.append(", ");
            }
            JsonNode v = e.getValue();
            items.append(e.getKey())
                    .append(' ')
                    .append(
                            v.isFloatingPointNumber()
                                    ? String.format(Locale.ROOT, "%.2f", v.asDouble())
                                    : v.toString());
        });
        line(out, "%s: %s", title, items);
    }

    private static void line(StringBuilder out, String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
