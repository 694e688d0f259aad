package dev.tether.loadtest.report;

import static dev.tether.loadtest.report.HtmlReportFormat.esc;
import static dev.tether.loadtest.report.HtmlReportFormat.mib;
import static dev.tether.loadtest.report.HtmlReportFormat.ms;
import static dev.tether.loadtest.report.HtmlReportFormat.number;
import static dev.tether.loadtest.report.HtmlReportFormat.ratio;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The HTML report's tables, each from one section of the report JSON. Stateless. */
final class HtmlReportTables {

    /** Audit violations listed in full up to this many; the rest are counted. */
    static final int MAX_VIOLATIONS = 500;

    private static final String[][] LATENCY_COLUMNS = {
        {"count", "count"},
        {"mean", "mean"},
        {"p50", "p50"},
        {"p90", "p90"},
        {"p99", "p99"},
        {"p999", "p99.9"},
        {"max", "max"},
    };

    private HtmlReportTables() {}

    /** Latency metrics of the run, and of the baseline beside them when there is one. */
    static void latency(StringBuilder out, JsonNode latency, JsonNode baselineLatency) {
        out.append("<table><thead><tr><th>metric (ms)</th>");
        for (String[] c : LATENCY_COLUMNS) {
            out.append("<th class=\"num\">").append(c[1]).append("</th>");
        }
        out.append("</tr></thead><tbody>");
        for (Iterator<Map.Entry<String, JsonNode>> it = latency.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> metric = it.next();
            latencyRow(out, metric.getKey(), metric.getValue(), "");
            JsonNode base = baselineLatency.path(metric.getKey());
            if (base.isObject()) {
                latencyRow(out, metric.getKey() + " (baseline)", base, "baseline");
                out.append("<tr class=\"ratio\"><td>ratio to baseline</td><td></td>");
                for (String[] c : LATENCY_COLUMNS) {
                    if (c[0].equals("count")) {
                        continue;
                    }
                    double r = HtmlReport.num(metric.getValue(), c[0]) / HtmlReport.num(base, c[0]);
                    out.append("<td class=\"num\">")
                            .append(esc(ratio(Double.isFinite(r) ? r : Double.NaN)))
                            .append("</td>");
                }
                out.append("</tr>");
            }
        }
        out.append("</tbody></table>");
    }

    private static void latencyRow(StringBuilder out, String name, JsonNode m, String cssClass) {
        out.append("<tr")
                .append(cssClass.isEmpty() ? "" : " class=\"" + cssClass + "\"")
                .append("><td>")
                .append(esc(name))
                .append("</td>");
        for (String[] c : LATENCY_COLUMNS) {
            double v = HtmlReport.num(m, c[0]);
            out.append("<td class=\"num\">")
                    .append(esc(c[0].equals("count") ? number(v) : ms(v)))
                    .append("</td>");
        }
        out.append("</tr>");
    }

    /** A two-column table of a JSON object's fields (counts by kind, close codes, chaos counters). */
    static void counts(StringBuilder out, JsonNode object, String keyHeader, String valueHeader) {
        if (!object.isObject() || object.isEmpty()) {
            out.append("<p class=\"none\">none</p>");
            return;
        }
        out.append("<table class=\"narrow\"><thead><tr><th>")
                .append(esc(keyHeader))
                .append("</th><th class=\"num\">")
                .append(esc(valueHeader))
                .append("</th></tr></thead><tbody>");
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.append("<tr><td>")
                    .append(esc(e.getKey()))
                    .append("</td><td class=\"num\">")
                    .append(esc(value(e.getValue())))
                    .append("</td></tr>");
        }
        out.append("</tbody></table>");
    }

    /** The audit's verdict, its counters and its violations. */
    static void audit(StringBuilder out, JsonNode audit) {
        boolean passed = audit.path("passed").asBoolean(false);
        out.append("<p class=\"verdict ")
                .append(passed ? "pass" : "fail")
                .append("\">")
                .append(
                        passed
                                ? "PASS: every event delivered exactly once, every message answered once"
                                : "FAIL: the audit found violations")
                .append("</p>");
        List<String> keys = List.of(
                "sessions",
                "events",
                "messages",
                "answered",
                "deltas_checked",
                "resumes",
                "resumes_replaying_new",
                "replayed_new",
                "replayed_seen",
                "duplicates_delivered",
                "lost",
                "gaps",
                "gaps_without_loss",
                "gap_hit_messages",
                "crashed_turns",
                "turn_counts_checked",
                "interrupted_turns",
                "expired_sessions",
                "expired_messages",
                "duplicates_acknowledged");
        out.append("<table class=\"narrow\"><tbody>");
        for (String key : keys) {
            if (audit.has(key)) {
                boolean bad = (key.equals("duplicates_delivered") || key.equals("lost"))
                        && audit.path(key).asLong() > 0;
                out.append("<tr")
                        .append(bad ? " class=\"bad\"" : "")
                        .append("><td>")
                        .append(esc(key.replace('_', ' ')))
                        .append("</td><td class=\"num\">")
                        .append(esc(value(audit.get(key))))
                        .append("</td></tr>");
            }
        }
        out.append("</tbody></table>");
        JsonNode ranges = audit.path("lost_ranges");
        if (ranges.isArray() && !ranges.isEmpty()) {
            out.append("<h3>Events lost in replay gaps (").append(ranges.size()).append(")</h3>");
            out.append(
                    "<table><thead><tr><th>session</th><th>seqs</th><th>unseen</th><th>messages hit</th></tr></thead><tbody>");
            for (JsonNode r : ranges) {
                List<String> hit = new ArrayList<>();
                r.path("messages").forEach(m -> hit.add(m.asText()));
                out.append("<tr><td class=\"mono\">")
                        .append(esc(r.path("session").asText()))
                        .append("</td><td class=\"num\">")
                        .append(r.path("from").asLong())
                        .append("..")
                        .append(r.path("to").asLong())
                        .append("</td><td class=\"num\">")
                        .append(r.path("lost").asLong())
                        .append("</td><td class=\"mono\">")
                        .append(esc(String.join(", ", hit)))
                        .append("</td></tr>");
            }
            out.append("</tbody></table>");
        }
        JsonNode kinds = audit.path("violation_kinds");
        if (kinds.isObject() && kinds.size() > 0) {
            out.append("<h3>Violations by kind</h3>");
            counts(out, kinds, "kind", "violations");
        }
        JsonNode violations = audit.path("violations");
        if (!violations.isArray() || violations.isEmpty()) {
            return;
        }
        out.append("<h3>Violations (").append(violations.size()).append(")</h3>");
        out.append("<table><thead><tr><th>session</th><th>kind</th><th>detail</th></tr></thead><tbody>");
        int shown = 0;
        for (JsonNode v : violations) {
            if (shown++ == MAX_VIOLATIONS) {
                break;
            }
            out.append("<tr><td class=\"mono\">")
                    .append(esc(v.path("session").asText()))
                    .append("</td><td>")
                    .append(esc(v.path("kind").asText()))
                    .append("</td><td>")
                    .append(esc(v.path("detail").asText()))
                    .append("</td></tr>");
        }
        out.append("</tbody></table>");
        if (violations.size() > MAX_VIOLATIONS) {
            out.append("<p class=\"none\">")
                    .append(violations.size() - MAX_VIOLATIONS)
                    .append(" more in the JSON report.</p>");
        }
    }

    /** The gateway's memory (the report's {@code gateway.memory}): the JVM, its workers and the total at start, peak and end. */
    static void memory(StringBuilder out, JsonNode memory) {
        if (!memory.isObject() || memory.isEmpty()) {
            return;
        }
        out.append("<table class=\"narrow memory\"><thead><tr><th>RSS</th><th class=\"num\">start</th>")
                .append("<th class=\"num\">peak</th><th class=\"num\">end</th></tr></thead><tbody>");
        String[][] rows = {
            {"gateway_rss_bytes", "gateway JVM"},
            {"workers_rss_bytes", "workers"},
            {"total_rss_bytes", "total"},
            {"worker_processes", "worker processes"}
        };
        for (String[] row : rows) {
            JsonNode m = memory.path(row[0]);
            if (!m.isObject()) {
                continue;
            }
            out.append("<tr><td>").append(esc(row[1])).append("</td>");
            for (String column : new String[] {"start", "peak", "end"}) {
                double v = HtmlReport.num(m, column);
                out.append("<td class=\"num\">")
                        .append(esc(row[0].endsWith("_bytes") ? mib(v) : number(v)))
                        .append("</td>");
            }
            out.append("</tr>");
        }
        out.append("</tbody></table>");
    }

    /**
     * The client's time to a ready worker ({@code latency_ms.ready_warm}, {@code ready_cold}) beside
     * the gateway's own figure for the same sessions ({@code gateway_session_start_ms}).
     */
    static void readyTimes(StringBuilder out, JsonNode latency, JsonNode gateway) {
        out.append("<table class=\"ready\"><thead><tr><th>time to a ready worker (ms)</th><th>measured by</th>");
        String[] columns = {"count", "mean", "p50", "p90", "p99"};
        for (String c : columns) {
            out.append("<th class=\"num\">").append(c).append("</th>");
        }
        out.append("</tr></thead><tbody>");
        for (String kind : new String[] {"warm", "cold"}) {
            JsonNode client = latency.path("ready_" + kind);
            JsonNode own = gateway.path(kind);
            if (!client.isObject() && !(HtmlReport.num(own, "count") > 0)) {
                continue;
            }
            readyRow(out, kind, "client (ready_" + kind + ")", client, columns);
            readyRow(out, kind, "gateway (tether_session_start_seconds)", own, columns);
        }
        out.append("</tbody></table>");
    }

    private static void readyRow(StringBuilder out, String kind, String source, JsonNode m, String[] columns) {
        out.append("<tr><td>")
                .append(esc(kind))
                .append("</td><td>")
                .append(esc(source))
                .append("</td>");
        for (String c : columns) {
            double v = HtmlReport.num(m, c);
            out.append("<td class=\"num\">")
                    .append(esc(c.equals("count") ? number(Double.isNaN(v) ? 0 : v) : ms(v)))
                    .append("</td>");
        }
        out.append("</tr>");
    }

    /** What became of the run's sessions at its end (the report's {@code sessions_end}); failures are flagged. */
    static void ending(StringBuilder out, JsonNode end) {
        boolean left = end.path("left").asBoolean();
        out.append("<p class=\"sub\">")
                .append(
                        left
                                ? "Left open for a later resume (--leave-sessions): each waits out the gateway's reconnect window with its worker."
                                : "Each session was ended with end: the gateway stops its worker and closes with 1000.")
                .append("</p>");
        out.append("<table class=\"narrow ending\"><tbody>");
        row(out, "sessions open at the end", end.path("sessions"), false);
        if (left) {
            row(out, "left open", end.path("sessions"), false);
        } else {
            row(
                    out,
                    "ended",
                    end.path("ended"),
                    end.path("ended").asLong()
                            < end.path("sessions").asLong()
                                    - end.path("already_ended").asLong());
            row(out, "had ended before", end.path("already_ended"), false);
            row(out, "end failed", end.path("failed"), end.path("failed").asLong() > 0);
            end.path("failures")
                    .fields()
                    .forEachRemaining(e -> row(out, "end failed: " + e.getKey(), e.getValue(), true));
        }
        if (end.has("gateway_live_sessions")) {
            long live = end.path("gateway_live_sessions").asLong();
            row(
                    out,
                    "gateway's live sessions afterwards (/metrics)",
                    end.path("gateway_live_sessions"),
                    !left && live > 0);
        }
        out.append("</tbody></table>");
    }

    private static void row(StringBuilder out, String label, JsonNode value, boolean bad) {
        out.append("<tr")
                .append(bad ? " class=\"bad\"" : "")
                .append("><td>")
                .append(esc(label))
                .append("</td><td class=\"num\">")
                .append(esc(value(value)))
                .append("</td></tr>");
    }

    /** The run's options, nested objects flattened to dotted keys. */
    static void options(StringBuilder out, JsonNode options) {
        List<String[]> rows = new ArrayList<>();
        flatten("", options, rows);
        out.append("<table class=\"narrow\"><tbody>");
        for (String[] row : rows) {
            out.append("<tr><td class=\"mono\">")
                    .append(esc(row[0]))
                    .append("</td><td class=\"mono\">")
                    .append(esc(row[1]))
                    .append("</td></tr>");
        }
        out.append("</tbody></table>");
    }

    private static void flatten(String prefix, JsonNode node, List<String[]> rows) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), rows);
            }
        } else {
            rows.add(new String[] {prefix, value(node)});
        }
    }

    private static String value(JsonNode node) {
        if (node.isNumber()) {
            return number(node.asDouble());
        }
        return node.isTextual() ? node.textValue() : node.toString();
    }
}
