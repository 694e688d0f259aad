package dev.tether.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.report.ReportBuilder;
import dev.tether.loadtest.scenario.HibernationFigures.TreeReading;
import java.util.stream.IntStream;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The hibernate report's arithmetic: which sessions are active, memory per session, the machine's ceiling, wake against warm. */
class HibernationFiguresTest {

    private static final long MIB = 1024 * 1024;

    @Test
    void onePercentActiveIsEveryHundredthSessionFromTheFirst() {
        int stride = HibernationFigures.stride(0.01);
        assertEquals(100, stride);
        assertEquals(
                100,
                IntStream.range(0, 10_000)
                        .filter(i -> HibernationFigures.active(i, stride))
                        .count());
        assertEquals(100, HibernationFigures.activeCount(10_000, stride));
        assertTrue(HibernationFigures.active(0, stride), "a small run has its one active session too");
        assertFalse(HibernationFigures.active(99, stride));
        assertEquals(1, HibernationFigures.activeCount(6, stride));
        assertEquals(0, HibernationFigures.activeCount(0, stride));
        assertEquals(1, HibernationFigures.stride(1.0), "every session active");
        assertEquals(3, HibernationFigures.stride(0.3));
    }

    @Test
    void anActiveRatioOutsideZeroToOneIsRefusedNamingTheOption() {
        for (double bad : new double[] {0, -0.5, 1.5, Double.NaN}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> HibernationFigures.stride(bad));
            assertTrue(e.getMessage().startsWith("--active-ratio"), e.getMessage());
        }
    }

    @Test
    void memoryPerSessionIsTheGrowthOverTheSessionsOpenAndTheCeilingWhatIsLeftAtThatCost() {
        TreeReading before = new TreeReading(100 * MIB, 10 * MIB, 500 * MIB, 10, 300 * MIB);
        // 100 sessions: the gateway grew by 10 MiB (heap by 1 MiB), its workers by 5,000 MiB of RSS over
        // 110 processes, of which 3,000 MiB their own (PSS: shared pages split among them).
        TreeReading with = new TreeReading(110 * MIB, 11 * MIB, 5_500 * MIB, 110, 3_300 * MIB);
        ObjectNode out = ReportBuilder.object();
        HibernationFigures.memory(out, before, with, 100, 3_010 * MIB);
        assertEquals(10 * MIB / 100, out.path("gateway_rss_per_session_bytes").asLong());
        assertEquals(MIB / 100, out.path("heap_per_session_bytes").asLong());
        assertEquals(50 * MIB, out.path("workers_rss_per_session_bytes").asLong());
        assertEquals(600 * MIB, out.path("total_rss_before_bytes").asLong());
        assertEquals(5_610 * MIB, out.path("total_rss_with_bytes").asLong());
        assertEquals(5_010 * MIB / 100, out.path("total_rss_per_session_bytes").asLong());
        assertEquals(
                5_500 * MIB / 110, out.path("workers_rss_per_process_bytes").asLong());
        assertEquals(10, out.path("worker_processes_before").asInt());
        assertEquals(110, out.path("worker_processes_with").asInt());
        assertEquals(30 * MIB, out.path("workers_pss_per_session_bytes").asLong());
        assertEquals(30 * MIB, out.path("workers_pss_per_process_bytes").asLong());
        assertEquals(3_010 * MIB / 100, out.path("machine_bytes_per_session").asLong(), "gateway RSS + workers' PSS");
        // 3,010 MiB left at 30.1 MiB a session: 100 more, 200 in all.
        assertEquals(200, out.path("sessions_machine_holds_estimate").asLong());
    }

    @Test
    void withoutPssTheCeilingFollowsTheRssAndFreedMemoryGivesNone() {
        TreeReading before = new TreeReading(100 * MIB, null, 500 * MIB, 10, null);
        TreeReading grown = new TreeReading(110 * MIB, 12 * MIB, 1_500 * MIB, 30, null);
        ObjectNode out = ReportBuilder.object();
        HibernationFigures.memory(out, before, grown, 20, 1_010 * MIB);
        assertFalse(out.has("heap_per_session_bytes"), "no heap figure without both readings");
        assertFalse(out.has("workers_pss_per_session_bytes"));
        assertFalse(out.has("machine_bytes_per_session"));
        // 1,010 MiB of RSS for 20 sessions: 50.5 MiB each; 1,010 MiB left holds 20 more.
        assertEquals(40, out.path("sessions_machine_holds_estimate").asLong());

        TreeReading shrunk = new TreeReading(120 * MIB, 12 * MIB, 300 * MIB, 6, null);
        ObjectNode asleep = ReportBuilder.object();
        HibernationFigures.memory(asleep, before, shrunk, 10, null);
        assertEquals(
                -20 * MIB, asleep.path("workers_rss_per_session_bytes").asLong(), "sleeping sessions freed workers");
        assertFalse(asleep.has("sessions_machine_holds_estimate"), "no estimate without the memory left");
        assertFalse(asleep.has("mem_available_with_bytes"));
        ObjectNode freed = ReportBuilder.object();
        HibernationFigures.memory(freed, before, shrunk, 10, 1_000 * MIB);
        assertFalse(freed.has("sessions_machine_holds_estimate"), "no cost per session: no ceiling to give");
        ObjectNode none = ReportBuilder.object();
        HibernationFigures.memory(none, before, grown, 0, 1_000 * MIB);
        assertEquals(0, none.path("total_rss_per_session_bytes").asLong(), "no sessions: no division by zero");
        assertFalse(none.has("sessions_machine_holds_estimate"));
    }

    @Test
    void pssIsReadFromTheRollupInBytes() {
        String rollup = """
                55f7ef3d2000-7ffd33c51000 ---p 00000000 00:00 0                          [rollup]
                Rss:                1728 kB
                Pss:                 222 kB
                Pss_Dirty:           112 kB
                """;
        assertEquals(222 * 1024L, HibernationFigures.pssBytes(rollup));
        assertEquals(null, HibernationFigures.pssBytes("Rss: 1 kB\nPss_Dirty: 3 kB\n"));
    }

    @Test
    void wakeUpPercentilesStandBesideTheWarmOnesWithTheirRatio() {
        Histogram wake = new Histogram(3_600_000_000L, 3);
        Histogram warm = new Histogram(3_600_000_000L, 3);
        for (int i = 1; i <= 100; i++) {
            wake.recordValue(i * 10_000L); // 10 ms .. 1,000 ms
            warm.recordValue(i * 100L); // 0.1 ms .. 10 ms
        }
        ObjectNode out = HibernationFigures.wakeVersusWarm(wake, warm);
        assertEquals(100, out.path("wake_count").asLong());
        assertEquals(500.0, out.path("wake_p50_ms").asDouble(), 1.0);
        assertEquals(990.0, out.path("wake_p99_ms").asDouble(), 1.0);
        assertEquals(5.0, out.path("warm_p50_ms").asDouble(), 0.01);
        assertEquals(9.9, out.path("warm_p99_ms").asDouble(), 0.01);
        assertEquals(100.0, out.path("wake_to_warm_p50").asDouble(), 0.5);
        assertEquals(100.0, out.path("wake_to_warm_p99").asDouble(), 0.5);
        ObjectNode empty = HibernationFigures.wakeVersusWarm(new Histogram(3), warm);
        assertEquals(0, empty.path("wake_count").asLong());
        assertTrue(Double.isNaN(empty.path("wake_p50_ms").asDouble()), "no wake-ups: no figure, not 0");
        assertTrue(Double.isNaN(empty.path("wake_to_warm_p50").asDouble()));
    }
}
