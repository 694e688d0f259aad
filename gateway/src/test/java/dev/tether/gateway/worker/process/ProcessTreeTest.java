package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.worker.WorkerExit;
import dev.tether.testkit.Poll;
import java.time.Duration;
import java.util.List;
import java.util.Set;
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

    @Test
    void aSnapshotFindsEachTreeItsDescendantsAndTheOrphansOfItsGroupButNoStranger() {
        ProcessTree.Snapshot snapshot = new ProcessTree.Snapshot(List.of(
                new ProcessTree.Stat(1, 'S', 0, 1, 1),
                new ProcessTree.Stat(100, 'S', 1, 100, 100), // worker A, leads its own session
                new ProcessTree.Stat(101, 'S', 100, 100, 100), // its child
                new ProcessTree.Stat(102, 'S', 101, 102, 100), // a grandchild in a group of its own
                new ProcessTree.Stat(103, 'S', 102, 103, 103), // a great-grandchild that called setsid
                new ProcessTree.Stat(104, 'Z', 1, 100, 100), // orphaned (re-parented to init), same session
                new ProcessTree.Stat(200, 'S', 1, 200, 200), // worker B
                new ProcessTree.Stat(201, 'S', 200, 200, 200),
                new ProcessTree.Stat(300, 'S', 1, 300, 300))); // a stranger
        assertEquals(Set.of(100L, 101L, 102L, 103L, 104L), snapshot.members(100));
        assertEquals(Set.of(200L, 201L), snapshot.members(200));
        assertEquals(Set.of(), snapshot.members(999), "a process that is gone has no tree");
    }

    @Test
    void aSnapshotMeasuresARealTreeOnceForEveryWorker() throws Exception {
        Process parent = new ProcessBuilder("sh", "-c", "sleep 600 & sleep 600 & wait").start();
        try {
            long pid = parent.pid();
            ProcessTree.Snapshot snapshot = Poll.until(
                    "the shell and its two sleeps in a snapshot",
                    Duration.ofSeconds(10),
                    ProcessTree.Snapshot::take,
                    s -> s.members(pid).size() >= 3);
            assertEquals(3, snapshot.members(pid).size(), "the shell and its two sleeps");
            long rss = snapshot.rssBytes(pid);
            assertTrue(rss > 0, "rss " + rss);
            assertTrue(rss
                    >= ProcessTree.Snapshot.take()
                            .rssBytes(
                                    parent.children().findFirst().orElseThrow().pid()));
        } finally {
            parent.descendants().forEach(ProcessHandle::destroyForcibly);
            parent.destroyForcibly().waitFor();
        }
    }
}
