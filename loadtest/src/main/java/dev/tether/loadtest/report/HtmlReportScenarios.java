package dev.tether.loadtest.report;

import static dev.tether.loadtest.report.HtmlReport.column;
import static dev.tether.loadtest.report.HtmlReport.num;
import static dev.tether.loadtest.report.HtmlReportFormat.esc;
import static dev.tether.loadtest.report.HtmlReportFormat.mib;
import static dev.tether.loadtest.report.HtmlReportFormat.ms;
import static dev.tether.loadtest.report.HtmlReportFormat.number;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.report.HtmlReportPlot.Series;
import dev.tether.loadtest.report.HtmlReportPlot.XAxis;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The HTML report's scenario sections: what the {@code connect}, {@code idle}, {@code resume},
 * {@code soak}, {@code refresh} and {@code chaos} scenarios add to the report JSON under their own
 * name (see the scenario classes), as a labelled table and, where the JSON holds a series, a plot.
 * A scenario section that is absent is left out. Stateless.
 */
final class HtmlReportScenarios {

    private static final String WARM = "#2563eb";
    private static final String COLD = "#ea580c";
    private static final String TREND = "#6b7280";
    private static final String RSS = "#2563eb";
    private static final String THREADS = "#059669";

    /** One row of a scenario table: a label, a formatted value, and whether it is a bad sign. */
    private record Row(String label, String value, boolean bad) {
        Row(String label, String value) {
            this(label, value, false);
        }
    }

    private HtmlReportScenarios() {}

    /** Appends the sections of every scenario object present in {@code report}. */
    static void render(StringBuilder out, JsonNode report) {
        if (report.path("connect").isObject()) {
            connect(out, report.path("connect"), report.path("latency_ms"));
        }
        if (report.path("idle").isObject()) {
            idle(out, report.path("idle"));
        }
        if (report.path("hibernate").isObject()) {
            hibernate(out, report.path("hibernate"));
        }
        if (report.path("resume").isObject()) {
            resume(out, report.path("resume"), report.path("latency_ms").path("resume"));
        }
        if (report.path("soak").isObject()) {
            double trafficStart = num(report.path("gateway"), "traffic_start_s");
            soak(
                    out,
                    report.path("soak"),
                    report.path("gateway").path("samples"),
                    num(report, "warmup_s"),
                    Double.isFinite(trafficStart) ? trafficStart : 0);
        }
        if (report.path("refresh").isObject()) {
            refresh(out, report.path("refresh"));
        }
        if (report.path("chaos").isObject()) {
            chaos(out, report.path("chaos"), report.path("audit"));
        }
        if (report.path("counters").isObject() && !report.path("counters").isEmpty()) {
            out.append("<h2>Counters</h2>");
            HtmlReportTables.counts(out, report.path("counters"), "counter", "count");
        }
    }

    private static void connect(StringBuilder out, JsonNode c, JsonNode latency) {
        out.append("<h2>Connect</h2><p class=\"sub\">Sessions opened at a paced rate; a session is warm when its")
                .append(" session_ready said idle, cold when it had to wait for a worker to start.</p>");
        double notReady = num(c, "not_ready");
        table(
                out,
                List.of(
                        new Row("sessions attempted", number(num(c, "attempted"))),
                        new Row("sessions opened", number(num(c, "opened")), num(c, "opened") < num(c, "attempted")),
                        new Row("ready warm", number(num(c, "warm"))),
                        new Row("ready cold", number(num(c, "cold"))),
                        new Row("never ready", number(notReady), notReady > 0),
                        new Row("connect rate asked", number(num(c, "connect_rate_per_s")) + " / s"),
                        new Row("sessions opened per second", number(round1(num(c, "opened_per_s"))) + " / s")));
        out.append("<h3>Refused</h3>");
        HtmlReportTables.counts(out, c.path("refused"), "status", "sessions");
        List<Row> ready = new ArrayList<>();
        List<Series> series = new ArrayList<>();
        for (String[] m : new String[][] {{"ready_warm", "warm", WARM}, {"ready_cold", "cold", COLD}}) {
            JsonNode metric = latency.path(m[0]);
            if (!metric.isObject()) {
                continue;
            }
            ready.add(new Row(
                    m[1] + ": p50 / p99 / max",
                    ms(num(metric, "p50")) + " / " + ms(num(metric, "p99")) + " / " + ms(num(metric, "max")) + " ms ("
                            + number(num(metric, "count")) + ")"));
            JsonNode percentiles = metric.path("percentiles");
            if (percentiles.isArray() && !percentiles.isEmpty()) {
                series.add(new Series(m[1], m[2], column(percentiles, "p"), column(percentiles, "ms"), false));
            }
        }
        if (!ready.isEmpty()) {
            out.append("<h3>Time to a ready worker</h3>");
            table(out, ready);
        }
        if (!series.isEmpty()) {
            HtmlReport.plot(
                    out,
                    new HtmlReportPlot(
                            "Ready time, warm vs cold",
                            "percentile",
                            "ms",
                            XAxis.PERCENTILE,
                            HtmlReportPlot.wantsLogY(series),
                            series),
                    "Time from the upgrade request to a ready worker, by percentile.");
        }
    }

    private static void idle(StringBuilder out, JsonNode i) {
        out.append("<h2>Idle sessions</h2><p class=\"sub\">Gateway memory before opening and with every session open")
                .append(" (heap after a full GC), the difference divided by the sessions open.</p>");
        List<Row> rows = new ArrayList<>(List.of(
                new Row("sessions open", number(num(i, "sessions_open"))),
                new Row("RSS before", mib(num(i, "rss_before_bytes"))),
                new Row("RSS with the sessions open", mib(num(i, "rss_after_bytes"))),
                new Row("RSS per session", kib(num(i, "rss_per_session_bytes")))));
        if (i.has("heap_per_session_bytes")) {
            rows.add(new Row("heap before", mib(num(i, "heap_before_bytes"))));
            rows.add(new Row("heap with the sessions open", mib(num(i, "heap_after_bytes"))));
            rows.add(new Row("heap per session", kib(num(i, "heap_per_session_bytes"))));
        } else if (i.has("heap_problem")) {
            rows.add(new Row("heap", "not read: " + i.path("heap_problem").asText(), true));
        }
        table(out, rows);
    }

    private static void hibernate(StringBuilder out, JsonNode h) {
        boolean on = h.path("hibernation").asBoolean();
        out.append("<h2>Hibernation</h2><p class=\"sub\">")
                .append(
                        on
                                ? "Idle sessions asleep (limits.hibernate_after)"
                                : "No hibernation: every session keeps its worker")
                .append("; the gateway's process tree before opening and with the sessions open.</p>");
        JsonNode w = h.path("wake_vs_warm");
        double asleep = num(h, "asleep_at_reading");
        List<Row> rows = new ArrayList<>(List.of(
                new Row(
                        "sessions open (active / idle)",
                        number(num(h, "sessions_opened")) + " (" + number(num(h, "active")) + " / "
                                + number(num(h, "idle")) + ")"),
                new Row("stopped by", h.path("stopped_by").asText()),
                new Row("idle sessions asleep", number(asleep), on && asleep < num(h, "idle")),
                new Row(
                        "gateway RSS before / with",
                        mib(num(h, "gateway_rss_before_bytes")) + " / " + mib(num(h, "gateway_rss_with_bytes"))),
                new Row("gateway heap per session", kib(num(h, "heap_per_session_bytes"))),
                new Row("worker processes with the sessions open", number(num(h, "worker_processes_with"))),
                new Row("workers' RSS with the sessions open", mib(num(h, "workers_rss_with_bytes"))),
                new Row("whole tree per session", kib(num(h, "total_rss_per_session_bytes"))),
                new Row(
                        "wake-up p50 / p99 (first event)",
                        ms(num(w, "wake_p50_ms")) + " / " + ms(num(w, "wake_p99_ms")) + " ms"),
                new Row(
                        "warm session p50 / p99 (first event)",
                        ms(num(w, "warm_p50_ms")) + " / " + ms(num(w, "warm_p99_ms")) + " ms")));
        table(out, rows);
    }

    private static void resume(StringBuilder out, JsonNode r, JsonNode metric) {
        out.append("<h2>Resume</h2><p class=\"sub\">Each round a session disconnects while its worker produces events,")
                .append(" then resumes with last_seq; timed from the resume request to the last missed event.</p>");
        double expected = num(r, "repeats") * num(r, "sessions") * num(r, "missed_per_resume");
        double replayed = num(r, "missed_events_replayed");
        List<Row> rows = new ArrayList<>(List.of(
                new Row("rounds", number(num(r, "repeats"))),
                new Row("sessions", number(num(r, "sessions"))),
                new Row("events missed per resume", number(num(r, "missed_per_resume"))),
                new Row("time away", number(num(r, "detach_wait_s")) + " s"),
                new Row("resumes", number(num(r, "resumes"))),
                new Row("events produced while away (rounds × sessions × missed)", number(expected)),
                new Row("missed events replayed", number(replayed), replayed < expected)));
        if (metric.isObject()) {
            rows.add(new Row(
                    "time to the last missed event: p50 / p90 / max",
                    ms(num(metric, "p50")) + " / " + ms(num(metric, "p90")) + " / " + ms(num(metric, "max")) + " ms"));
            double rate = num(r, "missed_per_resume") / num(metric, "p50") * 1000;
            rows.add(new Row(
                    "replay rate at p50",
                    Double.isFinite(rate) ? number((double) Math.round(rate)) + " events / s" : "–"));
        }
        table(out, rows);
        JsonNode percentiles = metric.path("percentiles");
        if (percentiles.isArray() && !percentiles.isEmpty()) {
            List<Series> cdf = List.of(
                    new Series("resumes done", WARM, column(percentiles, "ms"), column(percentiles, "p"), false));
            HtmlReport.plot(
                    out,
                    new HtmlReportPlot(
                            "Resume time, cumulative",
                            "ms from the resume request to the last missed event",
                            "% of resumes",
                            XAxis.LINEAR,
                            false,
                            cdf),
                    "The share of the " + number(num(metric, "count"))
                            + " resumes done within each time (the report's percentiles; steep is good).");
        }
    }

    /** @param trafficStartS where the traffic began on the samples' clock: the trend starts after its warm-up */
    private static void soak(StringBuilder out, JsonNode s, JsonNode samples, double warmupS, double trafficStartS) {
        out.append(
                        "<h2>Soak trend</h2><p class=\"sub\">Gateway RSS and threads after the warm-up: the first minute against")
                .append(" the last, and the least-squares slope per hour over ")
                .append(esc(number(num(s, "samples"))))
                .append(" samples. A steady run should stay flat.</p>");
        double rssStart = num(s, "rss_start_bytes");
        double rssEnd = num(s, "rss_end_bytes");
        double rssSlope = num(s, "rss_slope_bytes_per_h");
        double threadsSlope = num(s, "threads_slope_per_h");
        out.append("<table class=\"narrow\"><thead><tr><th></th><th class=\"num\">start</th><th class=\"num\">end</th>")
                .append("<th class=\"num\">change</th><th class=\"num\">slope per hour</th></tr></thead><tbody>");
        trendRow(
                out,
                "RSS",
                mib(rssStart),
                mib(rssEnd),
                percent(rssStart, rssEnd),
                Double.isNaN(rssSlope) ? "–" : (rssSlope >= 0 ? "+" : "−") + mib(Math.abs(rssSlope)));
        double threadsStart = num(s, "threads_start");
        double threadsEnd = num(s, "threads_end");
        trendRow(
                out,
                "threads",
                number(round1(threadsStart)),
                number(round1(threadsEnd)),
                percent(threadsStart, threadsEnd),
                Double.isNaN(threadsSlope) ? "–" : String.format(Locale.ROOT, "%+.1f", threadsSlope));
        out.append("</tbody></table>");
        if (!samples.isArray() || samples.size() < 2) {
            return;
        }
        double[] t = column(samples, "t_s");
        for (int k = 0; k < t.length; k++) {
            t[k] -= trafficStartS;
        }
        List<Integer> after = new ArrayList<>();
        for (int k = 0; k < t.length; k++) {
            if (!(t[k] < warmupS)) {
                after.add(k);
            }
        }
        double[] x = after.stream().mapToDouble(k -> t[k]).toArray();
        double[] rss = after.stream()
                .mapToDouble(k -> num(samples.get(k), "rss_bytes") / (1024 * 1024))
                .toArray();
        double[] threads =
                after.stream().mapToDouble(k -> num(samples.get(k), "threads")).toArray();
        trendPlot(out, "RSS trend", "MiB", new Series("RSS", RSS, x, rss, false));
        trendPlot(out, "Threads trend", "threads", new Series("threads", THREADS, x, threads, false));
    }

    private static void trendRow(
            StringBuilder out, String name, String start, String end, String change, String slope) {
        out.append("<tr><td>")
                .append(esc(name))
                .append("</td><td class=\"num\">")
                .append(esc(start))
                .append("</td><td class=\"num\">")
                .append(esc(end))
                .append("</td><td class=\"num\">")
                .append(esc(change))
                .append("</td><td class=\"num\">")
                .append(esc(slope))
                .append("</td></tr>");
    }

    /** The samples with their least-squares line, dashed. */
    private static void trendPlot(StringBuilder out, String title, String unit, Series samples) {
        List<Series> series = new ArrayList<>(List.of(samples));
        double[] fit = leastSquares(samples.xs(), samples.ys());
        if (fit != null) {
            double[] ends = {samples.xs()[0], samples.xs()[samples.xs().length - 1]};
            series.add(new Series(
                    "trend", TREND, ends, new double[] {fit[0] + fit[1] * ends[0], fit[0] + fit[1] * ends[1]}, true));
        }
        HtmlReport.plot(out, new HtmlReportPlot(title, "time (s)", unit, XAxis.LINEAR, false, series), "");
    }

    /** Intercept and slope of the least-squares line through the finite points; null with fewer than two. */
    static double[] leastSquares(double[] xs, double[] ys) {
        int n = 0;
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (int k = 0; k < xs.length; k++) {
            if (Double.isFinite(xs[k]) && Double.isFinite(ys[k])) {
                n++;
                sx += xs[k];
                sy += ys[k];
                sxx += xs[k] * xs[k];
                sxy += xs[k] * ys[k];
            }
        }
        double denominator = n * sxx - sx * sx;
        if (n < 2 || denominator == 0) {
            return null;
        }
        double slope = (n * sxy - sx * sy) / denominator;
        return new double[] {(sy - slope * sx) / n, slope};
    }

    private static void refresh(StringBuilder out, JsonNode r) {
        double closes = num(r, "closes_4010");
        boolean ok = closes == 0 && num(r, "refreshes") >= num(r, "refresh_required");
        out.append("<h2>Token refresh</h2><p class=\"verdict ")
                .append(ok ? "pass" : "fail")
                .append("\">")
                .append(
                        ok
                                ? "Every refresh_required answered in time: no session closed with 4010"
                                : "Some sessions were not refreshed in time")
                .append("</p>");
        table(
                out,
                List.of(
                        new Row("token lifetime", number(num(r, "token_ttl_s")) + " s"),
                        new Row("refresh_required received", number(num(r, "refresh_required"))),
                        new Row(
                                "auth_refresh accepted",
                                number(num(r, "refreshes")),
                                num(r, "refreshes") < num(r, "refresh_required")),
                        new Row("closed with 4010 (token expired)", number(closes), closes > 0)));
    }

    private static void chaos(StringBuilder out, JsonNode c, JsonNode audit) {
        out.append(
                        "<h2>Chaos</h2><p class=\"sub\">Connections cut (a close frame, a TCP reset, or left half-open), often")
                .append(
                        " mid-turn; resumed after time away (some past the reconnect window), racing, cut again in the handshake or")
                .append(" the replay, below last_seq; messages resent under the same and fresh ids. Worker: ")
                .append(esc(c.path("worker").asText("?")))
                .append(".</p>");
        List<Row> rows = new ArrayList<>(List.of(
                new Row("cuts in all", number(num(c, "cuts"))),
                new Row(
                        "… clean (close frame) / abrupt (TCP reset)",
                        number(num(c, "cuts_clean")) + " / " + number(num(c, "cuts_abrupt"))),
                new Row(
                        "… half-open: black hole / stalled reader",
                        number(num(c, "cuts_blackhole")) + " / " + number(num(c, "cuts_stall"))),
                new Row(
                        "… aimed at a turn's delta (missed the aim)",
                        number(num(c, "cuts_aimed")) + " (" + number(num(c, "cuts_aim_missed")) + ")"),
                new Row(
                        "… in a resume's handshake / in its replay",
                        number(num(c, "cuts_handshake")) + " / " + number(num(c, "cuts_during_replay"))),
                new Row(
                        "cuts after which new events were replayed",
                        number(num(c, "cuts_replaying_new")) + " ("
                                + String.format(Locale.ROOT, "%.0f %%", 100 * num(c, "replaying_share")) + ")"),
                new Row("events that crossed a cut (replayed new)", number(num(c, "events_replayed_new"))),
                new Row("events replayed again and compared", number(num(c, "events_replayed_seen"))),
                new Row(
                        "resumes (racing: races / lost with 4001)",
                        number(num(c, "resumes")) + " (" + number(num(c, "races")) + " / " + number(num(c, "race_lost"))
                                + ")"),
                new Row(
                        "half-open found by the heartbeat",
                        number(num(c, "half_open_found")) + " of "
                                + number(num(c, "cuts_blackhole") + num(c, "cuts_stall"))),
                new Row(
                        "sessions expired (planned) / restarted",
                        number(num(c, "sessions_expired")) + " (" + number(num(c, "expiries_planned")) + ") / "
                                + number(num(c, "sessions_restarted"))),
                new Row(
                        "messages resent: unaccepted / same id / fresh id",
                        number(num(c, "resent")) + " / " + number(num(c, "resent_same_id")) + " / "
                                + number(num(c, "resent_fresh_id"))),
                new Row("worker kills asked", number(num(c, "worker_kills")))));
        if (audit.isObject()) {
            rows.add(new Row("events delivered", number(num(audit, "events"))));
            rows.add(new Row(
                    "events lost (replay gaps that cost events)",
                    number(num(audit, "lost")) + " ("
                            + number(num(audit, "gaps")
                                    - audit.path("gaps_without_loss").asDouble(0)) + ")",
                    num(audit, "lost") > 0 && !audit.path("passed").asBoolean()));
            rows.add(new Row(
                    "duplicates delivered",
                    number(num(audit, "duplicates_delivered")),
                    num(audit, "duplicates_delivered") > 0));
        }
        table(out, rows);
    }

    private static void table(StringBuilder out, List<Row> rows) {
        out.append("<table class=\"narrow\"><tbody>");
        for (Row row : rows) {
            out.append("<tr")
                    .append(row.bad() ? " class=\"bad\"" : "")
                    .append("><td>")
                    .append(esc(row.label()))
                    .append("</td><td class=\"num\">")
                    .append(esc(row.value()))
                    .append("</td></tr>");
        }
        out.append("</tbody></table>");
    }

    private static String kib(double bytes) {
        return Double.isNaN(bytes) ? "–" : String.format(Locale.ROOT, "%.1f KiB", bytes / 1024);
    }

    private static String percent(double from, double to) {
        double change = (to - from) / from * 100;
        return Double.isFinite(change) ? String.format(Locale.ROOT, "%+.1f %%", change) : "–";
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
