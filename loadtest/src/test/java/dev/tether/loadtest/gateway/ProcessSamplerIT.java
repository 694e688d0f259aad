package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Sampling this very JVM: real /proc readings and a real jcmd. */
class ProcessSamplerIT {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    private static final long PID = ProcessHandle.current().pid();

    @Test
    void samplesRssThreadsAndCpuOfTheCurrentJvm() {
        try (ProcessSampler sampler = ProcessSampler.start(PID, Duration.ofMillis(20))) {
            List<ProcessSampler.Sample> samples = awaitSamples(sampler, 3);
            for (ProcessSampler.Sample s : samples) {
                assertTrue(s.rssBytes() > 1024 * 1024, "rss " + s.rssBytes());
                assertTrue(s.threads() > 1, "threads " + s.threads());
                assertTrue(s.cpuPct() >= 0, "cpu " + s.cpuPct());
                assertNull(s.heapUsedBytes(), "no heap readings unless asked");
            }
            for (int i = 1; i < samples.size(); i++) {
                assertTrue(samples.get(i).tSeconds() >= samples.get(i - 1).tSeconds());
            }
        }
    }

    @Test
    void withDescendantsTheProcessTreeIsSummed() throws Exception {
        // A shell with two single-threaded children: 1 thread alone, 3 as a tree.
        Process shell = new ProcessBuilder("sh", "-c", "sleep 600 & sleep 600 & wait").start();
        try (ProcessSampler alone = ProcessSampler.start(shell.pid(), Duration.ofMillis(20));
                ProcessSampler tree = ProcessSampler.start(
                        shell.pid(), new ProcessSampler.Options(Duration.ofMillis(20), Clock.systemUTC(), true, 0))) {
            awaitLast(tree, s -> s.threads() == 3, "the tree's 3 threads");
            ProcessSampler.Sample withTree = tree.samples().get(tree.samples().size() - 1);
            ProcessSampler.Sample single = awaitSamples(alone, 1).get(0);
            assertEquals(1, single.threads());
            assertTrue(withTree.rssBytes() > single.rssBytes(), withTree + " vs " + single);
        } finally {
            shell.descendants().forEach(ProcessHandle::destroy);
            shell.destroy();
            shell.waitFor();
        }
    }

    @Test
    void theTreeIsSplitIntoTheProcessItselfAndItsDescendants() throws Exception {
        // A shell (the "gateway") with two sleeping children (its "workers").
        Process shell = new ProcessBuilder("sh", "-c", "sleep 600 & sleep 600 & wait").start();
        try (ProcessSampler alone = ProcessSampler.start(shell.pid(), Duration.ofMillis(20));
                ProcessSampler tree = ProcessSampler.start(
                        shell.pid(), new ProcessSampler.Options(Duration.ofMillis(20), Clock.systemUTC(), true, 0))) {
            awaitLast(tree, s -> s.descendants() == 2, "both children");
            ProcessSampler.Sample split = tree.samples().get(tree.samples().size() - 1);
            ProcessSampler.Sample single = awaitSamples(alone, 1).get(0);
            long childrenRss =
                    shell.descendants().mapToLong(ProcessSamplerIT::rssOf).sum();

            assertEquals(split.rootRssBytes() + split.descendantsRssBytes(), split.rssBytes(), "the total is the sum");
            assertTrue(split.descendantsRssBytes() > 0, split.toString());
            // A sleeping sh and two sleeping sleeps hold still: each part matches its own reading.
            assertEquals(
                    (double) single.rssBytes(),
                    (double) split.rootRssBytes(),
                    single.rssBytes() / 10.0,
                    "the shell alone: " + split);
            assertEquals(
                    (double) childrenRss,
                    (double) split.descendantsRssBytes(),
                    childrenRss / 10.0,
                    "the two children: " + split);
            assertEquals(0, single.descendants(), "without descendants none are read");
            assertEquals(0, single.descendantsRssBytes());
        } finally {
            shell.descendants().forEach(ProcessHandle::destroy);
            shell.destroy();
            shell.waitFor();
        }
    }

    private static long rssOf(ProcessHandle process) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
                }
            }
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void heapReadingsEveryNthSample() {
        try (ProcessSampler sampler = ProcessSampler.start(
                PID, new ProcessSampler.Options(Duration.ofMillis(50), Clock.systemUTC(), false, 2))) {
            List<ProcessSampler.Sample> samples = awaitSamples(sampler, 2);
            assertNotNull(samples.get(0).heapUsedBytes(), "heap read through jcmd at the first sample");
            assertTrue(samples.get(0).heapUsedBytes() > 0);
            assertNull(samples.get(1).heapUsedBytes(), "and not at the second");
        }
    }

    @Test
    void heapOfTheCurrentJvmAfterAFullGc() {
        try (ProcessSampler sampler = ProcessSampler.start(PID, Duration.ofSeconds(10))) {
            JvmHeap.Reading reading = sampler.forceGcAndHeap();
            assertNull(reading.problem());
            assertTrue(reading.usedBytes() > 0);
            assertTrue(sampler.heapUsedNow().usedBytes() > 0);
        }
    }

    @Test
    void aProcessThatDoesNotExistGivesNoSamplesAndAHeapProblem() {
        long missing = Long.MAX_VALUE / 2;
        try (ProcessSampler sampler = ProcessSampler.start(missing, Duration.ofMillis(10))) {
            assertTrue(sampler.samples().isEmpty());
            JvmHeap.Reading reading = sampler.heapUsedNow();
            assertNull(reading.usedBytes());
            assertNotNull(reading.problem());
        }
    }

    private static void awaitLast(ProcessSampler sampler, Predicate<ProcessSampler.Sample> condition, String what) {
        Poll.until(
                what,
                DEADLINE,
                sampler::samples,
                samples -> !samples.isEmpty() && condition.test(samples.get(samples.size() - 1)));
    }

    private static List<ProcessSampler.Sample> awaitSamples(ProcessSampler sampler, int n) {
        return Poll.until(n + " samples", DEADLINE, sampler::samples, samples -> samples.size() >= n);
    }
}
