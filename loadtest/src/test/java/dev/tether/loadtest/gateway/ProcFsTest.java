package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parsing of /proc fixture text and the CPU arithmetic. */
class ProcFsTest {

    static final String STATUS = """
            Name:\tjava
            Umask:\t0022
            State:\tS (sleeping)
            Tgid:\t4242
            VmPeak:\t 5212344 kB
            VmSize:\t 5146808 kB
            VmHWM:\t  301044 kB
            VmRSS:\t  298512 kB
            RssAnon:\t  270000 kB
            Threads:\t37
            SigQ:\t0/63544
            """;

    /** A command name with spaces and a parenthesis, which a naive split would get wrong. */
    static final String STAT = "4242 (my (odd) java) S 1 4242 4242 0 -1 4194560 94117 0 12 0 "
            + "1534 287 0 0 20 0 37 0 123456 5270331392 74628 18446744073709551615 1 1 0 0 0 0 0 4096 16796879 0 0 0 17 1 0 0 0 0 0\n";

    @Test
    void readsRssInBytesAndThreads() {
        assertEquals(298_512L * 1024, ProcFs.rssBytes(STATUS));
        assertEquals(37, ProcFs.threads(STATUS));
    }

    @Test
    void aZombieHasNoRss() {
        assertEquals(0, ProcFs.rssBytes("Name:\tjava\nState:\tZ (zombie)\nThreads:\t1\n"));
    }

    @Test
    void cpuTicksAreUtimePlusStimeCountedFromTheLastParenthesis() {
        assertEquals(1534 + 287, ProcFs.cpuTicks(STAT));
    }

    @Test
    void rejectsTextThatIsNotAStatLine() {
        assertThrows(IllegalArgumentException.class, () -> ProcFs.cpuTicks("garbage"));
        assertThrows(IllegalArgumentException.class, () -> ProcFs.threads("Name:\tjava\n"));
    }

    @Test
    void cpuPercentIsOfOneCoreAndCountsNewProcessesWhole() {
        // 100 ticks/s: 150 ticks in 1 s by the root is 150 % (one and a half cores).
        assertEquals(150.0, ProcessSampler.cpuPercent(Map.of(1L, 1000L), Map.of(1L, 1150L), 1000, 100), 1e-9);
        // A new child adds all its ticks; a child that went away adds nothing; time is 2 s.
        assertEquals(
                25.0, ProcessSampler.cpuPercent(Map.of(1L, 0L, 3L, 500L), Map.of(1L, 20L, 2L, 30L), 2000, 100), 1e-9);
        assertEquals(0.0, ProcessSampler.cpuPercent(Map.of(), Map.of(1L, 5L), 0, 100), 1e-9);
    }

    @Test
    void readsTheCurrentProcess() {
        ProcFs.Reading reading = ProcFs.read(ProcessHandle.current().pid());
        assertNotNull(reading);
        assertTrue(reading.rssBytes() > 0);
        assertTrue(reading.threads() > 1);
    }
}
