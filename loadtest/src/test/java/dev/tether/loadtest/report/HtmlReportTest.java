package dev.tether.loadtest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The HTML report of crafted reports: well-formed (parsed as XML), with the plots and tables each
 * section calls for, nothing for absent sections, and every text escaped. Writes samples to
 * {@code target/html-report/} for a person to look at.
 */
class HtmlReportTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SAMPLES = Path.of("target", "html-report");

    @Test
    void aFullReportWithBaselineHasEveryPlotAndTable() throws Exception {
        ObjectNode report = report("gateway", 1.0);
        report.set("baseline", report("baseline", 0.4));
        report.putObject("ratios").put("round_trip_p50", 2.5).put("round_trip_p99", 2.1);
        Document page = render(report, "full-with-baseline.html");

        List<String> plots = strings(page, "//*[local-name()='svg']/*[local-name()='title']");
        assertEquals(
                List.of(
                        "Latency over time",
                        "Throughput over time",
                        "Sessions",
                        "round trip by percentile",
                        "ready warm by percentile",
                        "Gateway memory",
                        "Gateway CPU",
                        "Gateway threads"),
                plots);
        assertEquals(
                List.of(
                                "Latency",
                                "Throughput",
                                "Exactly-once audit",
                                "Errors",
                                "Close codes",
                                "Chaos",
                                "Options",
                                "Latency distribution",
                                "Latency over time",
                                "Throughput over time",
                                "Gateway process")
                        .stream()
                        .sorted()
                        .toList(),
                strings(page, "//*[local-name()='h2']").stream().sorted().toList());
        // The round-trip distribution overlays the baseline, dashed.
        assertEquals(
                List.of("round trip", "baseline"),
                strings(
                        page,
                        "//*[local-name()='svg'][*[local-name()='title']='round trip by percentile']"
                                + "//*[local-name()='g'][@class='series']/*[local-name()='title']"));
        assertEquals(
                2,
                count(
                        page,
                        "//*[local-name()='svg'][contains(*[local-name()='title'],'by percentile')]"
                                + "//*[local-name()='path'][@stroke-dasharray]"),
                "round trip and ready warm");
        assertTrue(strings(page, "//*[local-name()='td']").contains("round_trip (baseline)"));
        assertTrue(strings(page, "//*[local-name()='td']").contains("ratio to baseline"));
        assertTrue(strings(page, "//*[local-name()='div'][@class='d']").contains("2.10\u00d7 baseline"));
        // The percentile axis is labelled in nines.
        List<String> ticks = strings(page, "//*[local-name()='text'][@class='tick']");
        assertTrue(ticks.containsAll(List.of("0%", "90%", "99%", "99.9%")), ticks.toString());
    }

    @Test
    void withoutBaselineThereIsNoOverlayAndAFailedAuditShowsItsViolationsEscaped() throws Exception {
        ObjectNode report = report("gateway", 1.0);
        ObjectNode audit = (ObjectNode) report.get("audit");
        audit.put("passed", false).put("lost", 2);
        audit.withArray("violations")
                .addObject()
                .put("session", "n1.<abc>")
                .put("kind", "lost")
                .put("detail", "seq 7 never arrived </td><script>alert(1)</script> & more");
        Document page = render(report, "failed-audit.html");

        assertEquals(
                0,
                count(
                        page,
                        "//*[local-name()='svg'][contains(*[local-name()='title'],'by percentile')]"
                                + "//*[local-name()='path'][@stroke-dasharray]"));
        assertEquals(0, count(page, "//*[local-name()='script']"));
        assertTrue(strings(page, "//*[local-name()='td']")
                .contains("seq 7 never arrived </td><script>alert(1)</script> & more"));
        assertTrue(strings(page, "//*[local-name()='td']").contains("n1.<abc>"));
        assertEquals(
                List.of("FAIL"),
                strings(page, "//*[local-name()='div'][contains(@class,'fail')]/*[@class='v']")
                        .subList(0, 1));
        assertFalse(strings(page, "//*[local-name()='td']").contains("ratio to baseline"));
    }

    @Test
    void emptyAndMissingSectionsRenderAValidPageWithoutThem() throws Exception {
        Document bare = render(JSON.readTree("{\"schema\":1,\"scenario\":\"connect\"}"), "bare.html");
        assertEquals(0, count(bare, "//*[local-name()='svg']"));
        assertEquals(0, count(bare, "//*[local-name()='table']"));
        assertEquals(
                "Tether load test: connect against gateway",
                strings(bare, "//*[local-name()='h1']").get(0));

        ObjectNode empty = (ObjectNode) JSON.readTree("""
                {"schema":1,"scenario":"steady","target":"gateway","latency_ms":{},"timeline":[],"errors":{},
                 "close_codes":{},"gateway":{"pid":1,"samples":[]},"baseline":{},
                 "latency_ms":{"round_trip":{"count":0,"percentiles":[]}},
                 "audit":{"passed":true,"violations":[]}}
                """);
        Document page = render(empty, "empty-sections.html");
        assertEquals(0, count(page, "//*[local-name()='svg']"), "no plots without data");
        assertTrue(strings(page, "//*[local-name()='h2']").containsAll(List.of("Latency", "Errors", "Close codes")));
        assertTrue(strings(page, "//*[local-name()='p']").contains("none"));
    }

    @Test
    void aPlotWithoutUsableValuesSaysSo() throws Exception {
        ObjectNode report = (ObjectNode)
                JSON.readTree("{\"timeline\":[{\"t_s\":1,\"p50_ms\":null,\"p99_ms\":null,\"max_ms\":null}]}");
        Document page = render(report, "no-values.html");
        assertTrue(strings(page, "//*[local-name()='text'][@class='empty']").contains("no data"));
    }

    @Test
    void connectShowsItsCountsRefusalsAndReadyTimesWarmVsCold() throws Exception {
        ObjectNode report = scenario("connect");
        report.with("latency_ms").set("ready_cold", metric(4, 900));
        ObjectNode connect = report.putObject("connect")
                .put("attempted", 30)
                .put("opened", 28)
                .put("warm", 20)
                .put("cold", 8)
                .put("not_ready", 1)
                .put("connect_rate_per_s", 10.0)
                .put("opened_per_s", 9.87);
        connect.putObject("refused").put("at_capacity <503>", 2);
        Document page = render(report, "scenario-connect.html");

        assertTrue(strings(page, "//*[local-name()='h2']").contains("Connect"));
        assertEquals("30", cell(page, "sessions attempted"));
        assertEquals("8", cell(page, "ready cold"));
        assertEquals("bad", attribute(page, "never ready", "class"), "a session that never got ready is flagged");
        assertEquals("bad", attribute(page, "sessions opened", "class"), "fewer opened than attempted");
        assertEquals("2", cell(page, "at_capacity <503>"));
        assertEquals(List.of("warm", "cold"), seriesOf(page, "Ready time, warm vs cold"));
    }

    @Test
    void idleShowsMemoryPerSessionAndAnEscapedHeapProblem() throws Exception {
        ObjectNode report = scenario("idle");
        report.putObject("idle")
                .put("sessions_open", 1000)
                .put("rss_before_bytes", 100L << 20)
                .put("rss_after_bytes", 150L << 20)
                .put("rss_per_session_bytes", 52_428)
                .put("heap_before_bytes", 10L << 20)
                .put("heap_after_bytes", 40L << 20)
                .put("heap_per_session_bytes", 31_457);
        Document page = render(report, "scenario-idle.html");
        assertTrue(strings(page, "//*[local-name()='h2']").contains("Idle sessions"));
        assertEquals("1\u2009000", cell(page, "sessions open"));
        assertEquals("51.2 KiB", cell(page, "RSS per session"));
        assertEquals("30.7 KiB", cell(page, "heap per session"));
        assertEquals("150.0 MiB", cell(page, "RSS with the sessions open"));

        ObjectNode noHeap = scenario("idle");
        noHeap.putObject("idle").put("sessions_open", 10).put("heap_problem", "jcmd <missing> & no JDK");
        Document second = render(noHeap, "scenario-idle-no-heap.html");
        assertEquals("not read: jcmd <missing> & no JDK", cell(second, "heap"));
        assertEquals("bad", attribute(second, "heap", "class"));
    }

    @Test
    void resumeShowsItsRoundsAndTheCumulativeResumeTimes() throws Exception {
        ObjectNode report = scenario("resume");
        report.with("latency_ms").set("resume", metric(20, 40));
        report.putObject("resume")
                .put("repeats", 20)
                .put("sessions", 1)
                .put("missed_per_resume", 1000)
                .put("detach_wait_s", 2.0)
                .put("resumes", 20)
                .put("missed_events_replayed", 19_000);
        Document page = render(report, "scenario-resume.html");
        assertTrue(strings(page, "//*[local-name()='h2']").contains("Resume"));
        assertEquals("20\u2009000", cell(page, "events produced while away (rounds \u00d7 sessions \u00d7 missed)"));
        assertEquals("bad", attribute(page, "missed events replayed", "class"), "fewer replayed than produced");
        assertEquals("25\u2009000 events / s", cell(page, "replay rate at p50"));
        assertEquals(List.of("resumes done"), seriesOf(page, "Resume time, cumulative"));
    }

    @Test
    void soakShowsTheTrendTableAndRssAndThreadsWithTheirTrendLines() throws Exception {
        ObjectNode report = scenario("soak");
        report.putObject("soak")
                .put("samples", 31)
                .put("rss_start_bytes", 180L << 20)
                .put("rss_end_bytes", 240L << 20)
                .put("rss_slope_bytes_per_h", 60.0 * 60 * (1 << 20))
                .put("threads_start", 40.0)
                .put("threads_end", 40.0)
                .put("threads_slope_per_h", 0.0);
        Document page = render(report, "scenario-soak.html");
        assertTrue(strings(page, "//*[local-name()='h2']").contains("Soak trend"));
        assertEquals(
                List.of("RSS", "180.0 MiB", "240.0 MiB", "+33.3 %", "+3600.0 MiB"),
                strings(page, "//*[local-name()='tr'][*[local-name()='td'][1]='RSS']/*[local-name()='td']"));
        assertEquals(List.of("RSS", "trend"), seriesOf(page, "RSS trend"));
        assertEquals(List.of("threads", "trend"), seriesOf(page, "Threads trend"));
        // The samples of the warm-up (t < 10 s) are left out of the trend plots: 26 of the 31 remain.
        assertEquals(
                26,
                count(
                        page,
                        "//*[local-name()='svg'][*[local-name()='title']='RSS trend']"
                                + "//*[local-name()='g'][@class='series'][*[local-name()='title']='RSS']/*[local-name()='circle']"));
    }

    @Test
    void refreshPassesWithoutExpiredClosesAndFlagsThem() throws Exception {
        ObjectNode report = scenario("refresh");
        report.putObject("refresh")
                .put("token_ttl_s", 20.0)
                .put("refresh_required", 30)
                .put("refreshes", 30)
                .put("closes_4010", 0);
        Document page = render(report, "scenario-refresh.html");
        assertTrue(strings(page, "//*[local-name()='h2']").contains("Token refresh"));
        assertTrue(strings(page, "//*[local-name()='p'][contains(@class,'verdict')]")
                .get(0)
                .startsWith("Every refresh_required"));
        assertEquals("30", cell(page, "auth_refresh accepted"));

        ((ObjectNode) report.get("refresh")).put("closes_4010", 2);
        Document failed = render(report, "scenario-refresh-failed.html");
        assertEquals(
                "verdict fail",
                strings(failed, "//*[local-name()='p'][contains(@class,'verdict')]/@class")
                        .get(0));
        assertEquals("bad", attribute(failed, "closed with 4010 (token expired)", "class"));
    }

    @Test
    void chaosShowsItsCutsBesideTheAuditAndCountersHaveATable() throws Exception {
        ObjectNode report = scenario("chaos");
        report.putObject("chaos")
                .put("cuts", 16)
                .put("cuts_clean", 5)
                .put("cuts_abrupt", 11)
                .put("resumes", 16)
                .put("resent", 4)
                .put("worker_kills", 1)
                .put("connections", 26)
                .put("cut_share", 0.615)
                .put("cuts_replaying_new", 10)
                .put("replaying_share", 0.625)
                .put("events_replayed_new", 40)
                .put("worker", "echo (4 deltas)");
        ((ObjectNode) report.get("audit")).put("lost", 1).put("gaps", 1).put("passed", false);
        report.putObject("counters").put("accepted_duplicate", 3);
        Document page = render(report, "scenario-chaos.html");
        assertTrue(strings(page, "//*[local-name()='h2']").containsAll(List.of("Chaos", "Counters")));
        assertEquals("16", cell(page, "cuts in all"));
        assertEquals("10 (63 %)", cell(page, "cuts after which new events were replayed"));
        assertEquals("40", cell(page, "events that crossed a cut (replayed new)"));
        assertEquals("59\u2009946", cell(page, "events delivered"));
        assertEquals("bad", attribute(page, "events lost (replay gaps that cost events)", "class"));
        assertEquals("3", cell(page, "accepted_duplicate"));
    }

    @Test
    void theWarmUpIsShadedOnEveryTimeChartAndNamedInItsLegend() throws Exception {
        ObjectNode report = report("gateway", 1.0); // warm-up 10 s, timeline 1..60 s
        ((ObjectNode) report.get("gateway")).put("traffic_start_s", 4.0); // samples 0..60 s on their own clock
        Document page = render(report, "warmup-shade.html");

        List<String> timeCharts = List.of(
                "Latency over time",
                "Throughput over time",
                "Sessions",
                "Gateway memory",
                "Gateway CPU",
                "Gateway threads");
        for (String chart : timeCharts) {
            String svg = "//*[local-name()='svg'][*[local-name()='title']=" + literal(chart) + "]";
            assertEquals(
                    List.of("0"), strings(page, svg + "/*[local-name()='rect'][@class='shade']/@data-from"), chart);
            assertEquals(List.of("10"), strings(page, svg + "/*[local-name()='rect'][@class='shade']/@data-to"), chart);
            assertTrue(
                    strings(page, svg + "/*[local-name()='g'][@class='legend']/*[local-name()='text']")
                            .contains("warm-up (left out)"),
                    chart + ": the legend names the shade");
            assertEquals(
                    1,
                    count(page, svg + "/*[local-name()='g'][@class='legend']/*[local-name()='rect'][@class='shade']"),
                    chart);
        }
        // The plot area spans x 70..740 px. Latency: 0..60 s, so the warm-up is its first sixth.
        assertShade(page, "Latency over time", 70, 670 / 6.0);
        // The gateway's samples run from 4 s before the traffic to 56 s after: the warm-up starts 4 s in.
        assertShade(page, "Gateway CPU", 70 + 670 * 4 / 60.0, 670 / 6.0);
        assertEquals(
                0,
                count(
                        page,
                        "//*[local-name()='svg'][contains(*[local-name()='title'],'by percentile')]"
                                + "//*[local-name()='rect'][@class='shade']"),
                "percentile charts have no time axis to shade");

        ObjectNode noWarmup = report("gateway", 1.0).put("warmup_s", 0.0);
        assertEquals(0, count(render(noWarmup, "no-warmup.html"), "//*[local-name()='rect'][@class='shade']"));
    }

    @Test
    void aOneSecondWarmUpIsShadedThoughItsOnlyPointClosesIt() throws Exception {
        ObjectNode report = report("gateway", 1.0).put("warmup_s", 1.0);
        ArrayNode timeline = report.putArray("timeline"); // second k's point sits at its end, t = k
        for (int t = 1; t <= 4; t++) {
            timeline.addObject()
                    .put("t_s", t)
                    .put("sent", 50)
                    .put("results", 50)
                    .put("errors", 0)
                    .put("sessions", 10)
                    .put("p50_ms", 10.0)
                    .put("p99_ms", 20.0)
                    .put("max_ms", 30.0);
        }
        Document page = render(report, "warmup-one-second.html");
        assertShade(page, "Latency over time", 70, 670 / 4.0);
    }

    @Test
    void theClientsReadyTimesStandBesideTheGatewaysAndTheSessionsAtTheEndAreShown() throws Exception {
        ObjectNode report = scenario("connect");
        report.with("latency_ms").set("ready_cold", metric(4, 900));
        ObjectNode gateway = report.putObject("gateway_session_start_ms").put("source", "tether_session_start_seconds");
        gateway.putObject("warm")
                .put("count", 100)
                .put("mean", 1.5)
                .put("p50", 0.7)
                .put("p90", 2.0)
                .put("p99", 9.5);
        gateway.putObject("cold")
                .put("count", 4)
                .put("mean", 850.0)
                .put("p50", 840.0)
                .put("p90", 880.0)
                .put("p99", 890.0);
        report.putObject("sessions_end")
                .put("left", false)
                .put("sessions", 30)
                .put("ended", 28)
                .put("already_ended", 0)
                .put("failed", 2)
                .put("gateway_live_sessions", 2)
                .putObject("failures")
                .put("timeout", 2);
        Document page = render(report, "ready-times-and-ending.html");

        String table = "//*[local-name()='table'][@class='ready']";
        assertEquals(
                List.of("warm", "client (ready_warm)", "100", "3.30", "3.00", "6.00", "9.00"),
                strings(
                        page,
                        table
                                + "//*[local-name()='tr'][*[local-name()='td'][2]='client (ready_warm)']/*[local-name()='td']"));
        assertEquals(
                List.of("warm", "gateway (tether_session_start_seconds)", "100", "1.50", "0.700", "2.00", "9.50"),
                strings(
                        page,
                        table + "//*[local-name()='tr'][1 + count(preceding-sibling::*) = 2]/*[local-name()='td']"));
        assertEquals(
                4,
                count(page, table + "//*[local-name()='tbody']/*[local-name()='tr']"),
                "warm and cold, client and gateway");

        assertEquals("28", cell(page, "ended"));
        assertEquals("bad", attribute(page, "end failed", "class"));
        assertEquals("2", cell(page, "end failed: timeout"));
        assertEquals("bad", attribute(page, "gateway's live sessions afterwards (/metrics)", "class"));
        String text = TextReport.render(report);
        assertTrue(
                text.contains("sessions at the end: 28 of 30 ended with end, 0 had ended before, 2 failed, timeout 2;"
                        + " the gateway's live sessions afterwards: 2"),
                text);
        assertTrue(text.contains("warm, gateway (session_start)"), text);

        ((ObjectNode) report.get("sessions_end"))
                .removeAll()
                .put("left", true)
                .put("sessions", 30)
                .put("gateway_live_sessions", 30);
        Document left = render(report, "sessions-left.html");
        assertEquals("30", cell(left, "left open"));
        assertEquals(
                "",
                attribute(left, "gateway's live sessions afterwards (/metrics)", "class"),
                "left on purpose: not bad");
        assertTrue(TextReport.render(report)
                .contains("sessions at the end: 30 left open for a resume (--leave-sessions)"));
    }

    private static void assertShade(Document page, String chart, double x, double width) throws Exception {
        String rect = "//*[local-name()='svg'][*[local-name()='title']=" + literal(chart)
                + "]/*[local-name()='rect'][@class='shade']";
        assertEquals(x, Double.parseDouble(strings(page, rect + "/@x").get(0)), 0.2, chart + " shade x");
        assertEquals(width, Double.parseDouble(strings(page, rect + "/@width").get(0)), 0.2, chart + " shade width");
    }

    @Test
    void p99AndMaxAreBothDrawnAndTellApartWhereTheyMeet() throws Exception {
        ObjectNode report = report("gateway", 1.0);
        for (JsonNode second : report.get("timeline")) {
            ((ObjectNode) second)
                    .put("max_ms", second.get("p99_ms").asDouble()); // few samples a second: p99 is the max
        }
        Document page = render(report, "p99-equals-max.html");
        String svg = "//*[local-name()='svg'][*[local-name()='title']='Latency over time']";

        // Drawing order is document order: max first, so that p50 and p99 are painted over it.
        assertEquals(
                List.of("max", "p50", "p99"),
                strings(page, svg + "/*[local-name()='g'][@class='series']/*[local-name()='title']"));
        Map<String, Map<String, String>> line = new HashMap<>();
        for (String series : List.of("p50", "p99", "max")) {
            String path = svg + "/*[local-name()='g'][@class='series'][*[local-name()='title']='" + series
                    + "']/*[local-name()='path']";
            assertEquals(1, count(page, path), series + " is drawn");
            Map<String, String> attributes = new HashMap<>();
            for (String a : List.of("d", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity")) {
                attributes.put(
                        a, strings(page, path + "/@" + a).stream().findFirst().orElse(""));
            }
            line.put(series, attributes);
            // The legend shows each line as drawn.
            String legend =
                    svg + "/*[local-name()='g'][@class='legend']/*[local-name()='line'][following-sibling::*[1]='"
                            + series + "']";
            assertEquals(List.of(attributes.get("stroke")), strings(page, legend + "/@stroke"), series);
            assertEquals(
                    attributes.get("stroke-dasharray"),
                    strings(page, legend + "/@stroke-dasharray").stream()
                            .findFirst()
                            .orElse(""));
        }
        assertEquals(line.get("p99").get("d"), line.get("max").get("d"), "the fixture puts p99 on max");
        assertEquals(
                3, line.values().stream().map(a -> a.get("stroke")).distinct().count(), "three colours");
        // max is wide and pale beneath: p99 on top of it stays visible, and max still shows around it.
        assertTrue(Double.parseDouble(line.get("max").get("stroke-width"))
                > 2 * Double.parseDouble(line.get("p99").get("stroke-width")));
        assertTrue(Double.parseDouble(line.get("max").get("stroke-opacity")) < 0.5);
        // p99 is dashed over a solid p50, so where those two meet both show.
        assertFalse(line.get("p99").get("stroke-dasharray").isEmpty());
        assertTrue(line.get("p50").get("stroke-dasharray").isEmpty());
    }

    @Test
    void gatewayMemoryShowsTheJvmItsWorkersAndTheTotal() throws Exception {
        Document page = render(report("gateway", 1.0), "gateway-memory.html");
        assertEquals(List.of("total", "gateway JVM", "workers", "heap used"), seriesOf(page, "Gateway memory"));
        List<String> workers = strings(
                page,
                "//*[local-name()='table'][contains(@class,'memory')]"
                        + "//*[local-name()='tr'][*[local-name()='td'][1]='workers']/*[local-name()='td']");
        assertEquals(List.of("workers", "0.0 MiB", "460.0 MiB", "460.0 MiB"), workers);
        assertEquals(
                "700.0 MiB",
                strings(
                                page,
                                "//*[local-name()='table'][contains(@class,'memory')]"
                                        + "//*[local-name()='tr'][*[local-name()='td'][1]='total']/*[local-name()='td'][3]")
                        .get(0));
        assertEquals(
                "240.0 MiB",
                strings(
                                page,
                                "//*[local-name()='table'][contains(@class,'memory')]"
                                        + "//*[local-name()='tr'][*[local-name()='td'][1]='gateway JVM']/*[local-name()='td'][3]")
                        .get(0));
    }

    @Test
    void scenarioSectionsAreLeftOutWhenAbsent() throws Exception {
        Document page = render(report("gateway", 1.0), "no-scenario-sections.html");
        List<String> headings = strings(page, "//*[local-name()='h2']");
        for (String h : List.of("Connect", "Idle sessions", "Resume", "Soak trend", "Token refresh", "Counters")) {
            assertFalse(headings.contains(h), h);
        }
    }

    @Test
    void leastSquaresFitsALineAndNeedsTwoPoints() {
        double[] fit =
                HtmlReportScenarios.leastSquares(new double[] {0, 1, 2, Double.NaN}, new double[] {1, 3, 5, 100});
        assertEquals(1.0, fit[0], 1e-9);
        assertEquals(2.0, fit[1], 1e-9);
        assertEquals(null, HtmlReportScenarios.leastSquares(new double[] {1}, new double[] {1}));
    }

    /** The steady report renamed to {@code name}, without the chaos section the steady one carries. */
    private static ObjectNode scenario(String name) {
        ObjectNode report = report("gateway", 1.0).put("scenario", name);
        report.remove("chaos");
        return report;
    }

    /** The value cell of the table row whose first cell is {@code label}. */
    private static String cell(Document page, String label) throws Exception {
        List<String> cells = strings(
                page, "//*[local-name()='tr'][*[local-name()='td'][1]=" + literal(label) + "]/*[local-name()='td'][2]");
        assertEquals(1, cells.size(), "rows labelled " + label);
        return cells.get(0);
    }

    private static String attribute(Document page, String label, String name) throws Exception {
        return strings(page, "//*[local-name()='tr'][*[local-name()='td'][1]=" + literal(label) + "]/@" + name).stream()
                .findFirst()
                .orElse("");
    }

    private static List<String> seriesOf(Document page, String plotTitle) throws Exception {
        return strings(
                page,
                "//*[local-name()='svg'][*[local-name()='title']=" + literal(plotTitle) + "]"
                        + "//*[local-name()='g'][@class='series']/*[local-name()='title']");
    }

    private static String literal(String text) {
        return text.contains("'") ? "\"" + text + "\"" : "'" + text + "'";
    }

    /** A plausible report of a 60 s steady run; {@code scale} multiplies every latency. */
    static ObjectNode report(String target, double scale) {
        ObjectNode r = JSON.createObjectNode();
        r.put("schema", 1)
                .put("scenario", "steady")
                .put("target", target)
                .put("started_at", "2026-11-22T14:00:00Z")
                .put("duration_s", 60.0)
                .put("warmup_s", 10.0);
        r.putObject("options")
                .put("sessions", 100)
                .put("rate", 1000)
                .putObject("gateway")
                .put("jar", "gateway/target/gateway.jar");
        ObjectNode latency = r.putObject("latency_ms");
        latency.set("round_trip", metric(50_000, 0.8 * scale));
        latency.set("ready_warm", metric(100, 3 * scale));
        latency.set(
                "resume",
                JSON.createObjectNode().put("count", 3).put("p50", 4.0).put("max", 9.0));
        ArrayNode timeline = r.putArray("timeline");
        for (int t = 1; t <= 60; t++) {
            double wobble = 1 + 0.3 * Math.sin(t / 5.0);
            timeline.addObject()
                    .put("t_s", t)
                    .put("sent", 1000)
                    .put("results", t == 30 ? 940 : 1000)
                    .put("errors", t == 30 ? 3 : 0)
                    .put("sessions", 100)
                    .put("p50_ms", 0.8 * scale * wobble)
                    .put("p99_ms", 2.5 * scale * wobble)
                    .put("max_ms", t == 30 ? 120 * scale : 6 * scale * wobble);
        }
        r.putObject("throughput")
                .put("offered_per_s", 1000.0)
                .put("sent_per_s", 999.8)
                .put("results_per_s", 999.1)
                .put("events_per_s", 999.1);
        r.putObject("errors").put("queue_full", 3);
        r.putObject("close_codes").put("1000", 100);
        r.putObject("audit")
                .put("passed", true)
                .put("sessions", 100)
                .put("events", 59_946)
                .put("replayed_seen", 0)
                .put("duplicates_delivered", 0)
                .put("lost", 0)
                .put("gaps", 0)
                .putArray("violations");
        r.putObject("chaos")
                .put("cuts", 0)
                .put("cuts_clean", 0)
                .put("cuts_abrupt", 0)
                .put("resumes", 0)
                .put("resent", 0)
                .put("worker_kills", 0);
        ObjectNode gateway = r.putObject("gateway").put("pid", 4242);
        ArrayNode samples = gateway.putArray("samples");
        for (int t = 0; t <= 60; t += 2) {
            long workers = (t < 20 ? 10L * t : 400L + t) * 1024 * 1024;
            ObjectNode s = samples.addObject()
                    .put("t_s", t)
                    .put("rss_bytes", (180L + t) * 1024 * 1024 + workers)
                    .put("gateway_rss_bytes", (180L + t) * 1024 * 1024)
                    .put("workers_rss_bytes", workers)
                    .put("worker_processes", t < 20 ? t / 2 : 10)
                    .put("threads", 40)
                    .put("cpu_pct", 35 + (t % 7));
            if (t % 10 == 0) {
                s.put("heap_used_bytes", (60L + t / 2) * 1024 * 1024);
            } else {
                s.putNull("heap_used_bytes");
            }
        }
        ObjectNode memory = gateway.putObject("memory");
        memory.putObject("gateway_rss_bytes")
                .put("start", 180L << 20)
                .put("peak", 240L << 20)
                .put("end", 240L << 20);
        memory.putObject("workers_rss_bytes")
                .put("start", 0)
                .put("peak", 460L << 20)
                .put("end", 460L << 20);
        memory.putObject("total_rss_bytes")
                .put("start", 180L << 20)
                .put("peak", 700L << 20)
                .put("end", 700L << 20);
        memory.putObject("worker_processes").put("start", 0).put("peak", 10).put("end", 10);
        return r;
    }

    private static ObjectNode metric(long count, double p50) {
        ObjectNode m = JSON.createObjectNode()
                .put("count", count)
                .put("mean", p50 * 1.1)
                .put("p50", p50)
                .put("p90", p50 * 2)
                .put("p99", p50 * 3)
                .put("p999", p50 * 8)
                .put("max", p50 * 40);
        ArrayNode percentiles = m.putArray("percentiles");
        double[] ps = {0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100};
        for (double p : ps) {
            double factor = p == 100 ? 40 : 1 + Math.log10(100 / (100 - p + 1e-9)) * 1.2;
            percentiles.addObject().put("p", p).put("ms", p50 * factor);
        }
        return m;
    }

    private static Document render(JsonNode report, String sample) throws Exception {
        Path file = SAMPLES.resolve(sample);
        HtmlReport.render(report, file);
        String html = Files.readString(file);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertFalse(html.contains("http://") && html.contains("src=\"http"), "no external resources");
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        return factory.newDocumentBuilder().parse(new InputSource(new StringReader(html)));
    }

    private static List<String> strings(Document page, String xpath) throws Exception {
        NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, page, XPathConstants.NODESET);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent());
        }
        return out;
    }

    private static int count(Document page, String xpath) throws Exception {
        return strings(page, xpath).size();
    }
}
