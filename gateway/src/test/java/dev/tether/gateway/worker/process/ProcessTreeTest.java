package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.worker.WorkerExit;
import org.junit.jupiter.api.Test;

class ProcessTreeTest {

    @Test
    void parsesStatWhoseCommandHoldsSpacesAndParentheses() {
        ProcessTree.Stat stat = ProcessTree.parseStat("4242 (my (odd) cmd) S 17 4242 4242 0 -1 4194560 100 0 0 0\n");
        assertEquals(new ProcessTree.Stat(4242, 'S', 17, 4242, 4242), stat);
        assertTrue(ProcessTree.parseStat("1 (z) Z 0 1 1 0").zombie());
    }

    @Test
    void seesTheCurrentProcess() {
        long self = ProcessHandle.current().pid();
        assertTrue(ProcessTree.running(self));
        assertTrue(ProcessTree.exists(self));
        assertTrue(ProcessTree.rssBytes(self) > 1024 * 1024);
        assertFalse(ProcessTree.snapshot(self).stream().anyMatch(h -> h.pid() == self), "never signal ourselves");
    }

    @Test
    void decodesSignalDeaths() {
        assertEquals(new WorkerExit(3, 0, "exit code 3"), ExitStatus.decode(3));
        assertEquals(new WorkerExit(137, 9, "killed by signal 9 (SIGKILL)"), ExitStatus.decode(137));
        assertEquals(new WorkerExit(143, 15, "killed by signal 15 (SIGTERM)"), ExitStatus.decode(143));
        assertEquals(new WorkerExit(139, 11, "killed by signal 11 (SIGSEGV)"), ExitStatus.decode(139));
        assertEquals("SIG40", ExitStatus.name(40));
        assertEquals(0, ExitStatus.decode(128).signal());
    }
}
