package dev.tether.loadtest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.audit.ConnectionAudit;
import dev.tether.loadtest.audit.SessionAudit;
import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.audit.ViolationKind;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pins the report JSON's names: HtmlReport and docs/benchmarks.md read exactly these. */
class ReportBuilderTest {

    private static final long MS = 1_000_000;
    private static final long MIB = 1024 * 1024;

    private static JsonNode sample() {
        RunStats stats = new RunStats();
        stats.begin(0, 1_000 * MS);
        stats.latency(RunStats.Metric.ROUND_TRIP, 500 * MS, 520 * MS); // in the warm-up: timeline only
        for (int i = 1; i <= 100; i++) {
            stats.latency(RunStats.Metric.ROUND_TRIP, 2_000 * MS, 2_000 * MS + i * MS);
            stats.sent();
            stats.result();
        }
        stats.latency(RunStats.Metric.READY_WARM, 0, 3 * MS);
        stats.error("error_rate_limited");
        stats.closeCode(1000);
        stats.tick(1_000 * MS);
        StreamAudit audit = new StreamAudit(TurnModel.echo(3), false);
        SessionAudit session = audit.newSession();
        ConnectionAudit connection = session.connect(false, 0);
        session.ready(connection, new ServerMessage.SessionReady("s1", false, 0, 0, SessionState.IDLE), null);
        session.sequenced(connection, new ServerMessage.Status(1, SessionState.PROCESSING, null));
        session.sequenced(connection, new ServerMessage.Status(3, SessionState.IDLE, null));
        audit.finish();
        return new ReportBuilder("steady", "gateway", Instant.parse("2030-01-01T00:00:00Z"), 60, 10)
                .options(Map.of("rate", 1000.0, "sessions", 100))
                .stats(stats, 70)
                .audit(AuditSummary.of(List.of(audit)))
                .section("chaos", ReportBuilder.object().put("cuts", 3))
                .process(
                        42,
                        List.of(
                                new ProcessSampler.Sample(1.0, 1_000_000, 0, 0, 20, 50.0, null),
                                new ProcessSampler.Sample(2.0, 2_000_000, 600 * MIB, 10, 21, 60.0, 123L),
                                new ProcessSampler.Sample(3.0, 3_000_000, 100 * MIB, 2, 22, 70.0, null)))
                .build();
    }

    /** The words of {@code text} (separated by white space), as a set. */
    private static Set<String> words(String text) {
        return Set.of(text.strip().split("\\s+", -1));
    }

    private static Set<String> names(JsonNode node) {
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void theTopLevelAndEverySectionHaveTheSchemaNames() {
        JsonNode report = sample();
        assertEquals(1, report.path("schema").asInt());
        assertEquals("steady", report.path("scenario").asText());
        assertEquals("gateway", report.path("target").asText());
        assertEquals("2030-01-01T00:00:00Z", report.path("started_at").asText());
        assertEquals(60.0, report.path("duration_s").asDouble());
        assertEquals(10.0, report.path("warmup_s").asDouble());
        assertTrue(
                names(report)
                        .containsAll(Set.of(
                                "options",
                                "latency_ms",
                                "timeline",
                                "throughput",
                                "delivery",
                                "errors",
                                "close_codes",
                                "audit",
                                "chaos",
                                "gateway")),
                names(report).toString());
        assertEquals(
                Set.of("count", "mean", "p50", "p90", "p99", "p999", "max", "percentiles"),
                names(report.path("latency_ms").path("round_trip")));
        assertEquals(
                Set.of("p", "ms"),
                names(report.path("latency_ms")
                        .path("round_trip")
                        .path("percentiles")
                        .get(0)));
        assertEquals(
                Set.of("t_s", "sent", "results", "errors", "sessions", "p50_ms", "p99_ms", "max_ms"),
                names(report.path("timeline").get(0)));
        assertEquals(
                Set.of("offered_per_s", "sent_per_s", "results_per_s", "events_per_s", "frames_per_s"),
                names(report.path("throughput")));
        assertEquals(Set.of("frames", "messages", "events", "messages_per_frame"), names(report.path("delivery")));
        // The audit's keys, by what they count: sessions and turns; resumes and replay; loss and gaps;
        // turns lost to crashes and interruptions; expiry and refusals; duplicates; violations.
        assertEquals(words("""
                        passed sessions events messages answered deltas_checked unpredictable_turns
                        resumes resumes_replaying_new replayed_new replayed_seen
                        lost gaps gaps_without_loss gap_hit_messages
                        crashed_turns turn_counts_checked interrupted_turns
                        refused_messages expired_sessions expired_messages
                        duplicates_acknowledged duplicates_delivered
                        violation_count lost_ranges violation_kinds violations
                        """), names(report.path("audit")));
        assertEquals(
                Set.of("session", "kind", "detail"),
                names(report.path("audit").path("violations").get(0)));
        assertEquals(
                Set.of(
                        "t_s",
                        "rss_bytes",
                        "gateway_rss_bytes",
                        "workers_rss_bytes",
                        "worker_processes",
                        "threads",
                        "cpu_pct",
                        "heap_used_bytes"),
                names(report.path("gateway").path("samples").get(0)));
        assertEquals(
                Set.of("gateway_rss_bytes", "workers_rss_bytes", "total_rss_bytes", "worker_processes"),
                names(report.path("gateway").path("memory")));
        assertEquals(
                Set.of("start", "peak", "end"),
                names(report.path("gateway").path("memory").path("total_rss_bytes")));
        assertEquals(42, report.path("gateway").path("pid").asLong());
    }

    @Test
    void theValuesComeFromTheRun() {
        JsonNode report = sample();
        JsonNode rt = report.path("latency_ms").path("round_trip");
        assertEquals(100, rt.path("count").asLong(), "the warm-up sample stays out of the totals");
        assertEquals(50.0, rt.path("p50").asDouble(), 0.1);
        assertEquals(100.0, rt.path("max").asDouble(), 0.1);
        assertFalse(report.path("latency_ms").has("resume"), "metrics without samples are left out");
        assertEquals(1, report.path("errors").path("error_rate_limited").asLong());
        assertEquals(1, report.path("close_codes").path("1000").asLong());
        assertFalse(report.path("audit").path("passed").asBoolean());
        assertEquals(
                ViolationKind.SEQ_GAP.wire(),
                report.path("audit").path("violations").get(0).path("kind").asText());
        assertEquals(
                1, report.path("audit").path("violation_kinds").path("seq_gap").asLong());
        assertTrue(report.path("gateway")
                .path("samples")
                .get(0)
                .path("heap_used_bytes")
                .isNull());
        assertEquals(
                123,
                report.path("gateway")
                        .path("samples")
                        .get(1)
                        .path("heap_used_bytes")
                        .asLong());
        assertEquals(100 / 70.0, report.path("throughput").path("sent_per_s").asDouble(), 1e-9);
    }

    @Test
    void gatewayMemoryIsTheProcessTreeWithTheJvmAndItsWorkersApart() {
        JsonNode report = sample();
        JsonNode second = report.path("gateway").path("samples").get(1);
        assertEquals(2_000_000, second.path("gateway_rss_bytes").asLong());
        assertEquals(600 * MIB, second.path("workers_rss_bytes").asLong());
        assertEquals(10, second.path("worker_processes").asInt());
        assertEquals(2_000_000 + 600 * MIB, second.path("rss_bytes").asLong(), "rss_bytes is the whole tree");

        JsonNode memory = report.path("gateway").path("memory");
        assertEquals(1_000_000, memory.path("gateway_rss_bytes").path("start").asLong());
        assertEquals(3_000_000, memory.path("gateway_rss_bytes").path("peak").asLong());
        assertEquals(600 * MIB, memory.path("workers_rss_bytes").path("peak").asLong());
        assertEquals(100 * MIB, memory.path("workers_rss_bytes").path("end").asLong());
        assertEquals(
                2_000_000 + 600 * MIB,
                memory.path("total_rss_bytes").path("peak").asLong());
        assertEquals(10, memory.path("worker_processes").path("peak").asInt());

        String text = TextReport.render(report);
        assertTrue(
                text.contains(String.format(
                        Locale.ROOT,
                        "  %-30s %9.1f %9.1f %9.1f",
                        "gateway JVM",
                        1_000_000 / (double) MIB,
                        3_000_000 / (double) MIB,
                        3_000_000 / (double) MIB)),
                text);
        assertTrue(
                text.contains(String.format(Locale.ROOT, "  %-30s %9.1f %9.1f %9.1f", "workers", 0.0, 600.0, 100.0)),
                text);
        assertTrue(
                text.contains(String.format(
                        Locale.ROOT,
                        "  %-30s %9.1f %9.1f %9.1f",
                        "total",
                        1_000_000 / (double) MIB,
                        600 + 2_000_000 / (double) MIB,
                        100 + 3_000_000 / (double) MIB)),
                text);
        assertTrue(
                text.contains(String.format(Locale.ROOT, "  %-30s %9d %9d %9d", "worker processes", 0, 10, 2)), text);
    }

    @Test
    void aBaselineIsNestedWithRatios() {
        JsonNode gateway = sample();
        JsonNode baseline = sample();
        JsonNode report = new ReportBuilder("steady", "gateway", Instant.EPOCH, 1, 0)
                .section("latency_ms", gateway.path("latency_ms"))
                .baseline(baseline)
                .build();
        assertEquals("steady", report.path("baseline").path("scenario").asText());
        assertEquals(1.0, report.path("ratios").path("round_trip_p50").asDouble(), 1e-9);
        assertEquals(1.0, report.path("ratios").path("round_trip_p99").asDouble(), 1e-9);
    }

    @Test
    void theFilesAreWrittenAndTheTextNamesTheViolation(@TempDir Path dir) throws Exception {
        String text = ReportFiles.write(sample(), dir);
        JsonNode read = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertEquals(sample().path("audit").toString(), read.path("audit").toString());
        assertEquals(text, Files.readString(dir.resolve("report.txt")));
        assertTrue(text.contains("audit: FAILED"), text);
        assertTrue(text.contains("VIOLATION session s1: seq_gap"), text);
        assertTrue(text.contains("round_trip"), text);
        assertTrue(Files.readString(dir.resolve("report.html")).startsWith("<!DOCTYPE html>"));
    }
}
