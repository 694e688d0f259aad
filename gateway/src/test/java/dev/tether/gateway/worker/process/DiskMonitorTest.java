package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.ByteSizes;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.worker.FakeWorker;
import dev.tether.gateway.worker.Worker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DiskMonitor} driven round by round ({@link DiskMonitor#tick} called directly: no scheduler, no time). */
class DiskMonitorTest {

    private static final int ENTRIES = 1_000;

    @TempDir
    Path dir;

    private final List<String> reports = new ArrayList<>();
    private final List<Long> entriesPerRound = new ArrayList<>();
    private final List<Long> measured = new ArrayList<>();

    private final class Holder implements DiskMonitor.Holder {
        final Worker worker = new FakeWorker(1, "disk");

        @Override
        public Worker currentWorker() {
            return worker;
        }

        @Override
        public void reportDisk(Worker measured, DiskMonitor.Verdict verdict, long bytes, long limitBytes) {
            reports.add(verdict + ">" + limitBytes);
        }

        @Override
        public void measuredDisk(Worker of, long bytes) {
            assertEquals(worker, of);
            measured.add(bytes);
        }

        @Override
        public String id() {
            return "s-disk";
        }
    }

    private DiskMonitor monitor(Holder holder, long soft, long hard) {
        ProcessWorkerConfig d = ProcessWorkerConfig.defaults();
        ProcessWorkerConfig config = new ProcessWorkerConfig(
                d.command(),
                d.envAllow(),
                d.env(),
                d.workRoot(),
                d.maxLineBytes(),
                d.maxPendingEvents(),
                d.stopGrace(),
                d.killGrace(),
                d.maxCheckpointBytes(),
                d.protocol(),
                d.oomScoreAdj(),
                d.maxOpenFiles(),
                d.maxProcesses(),
                d.maxFileSize(),
                d.maxCpuTime(),
                d.coreDumps(),
                d.limitEnforcement(),
                soft,
                hard,
                Duration.ofSeconds(1),
                ENTRIES);
        return new DiskMonitor(
                () -> List.of(holder),
                () -> config,
                (workers, max, entries) -> entriesPerRound.add(entries),
                w -> w == holder.worker ? dir : null);
    }

    @Test
    void aHundredThousandFilesAreMeasuredAtMostTheBoundPerRound() throws IOException {
        for (int i = 0; i < 100_000; i++) {
            Files.createFile(dir.resolve("f" + i));
        }
        Files.write(dir.resolve("big"), new byte[(int) (2 * ByteSizes.MIB)]);
        Holder holder = new Holder();
        try (DiskMonitor monitor = monitor(holder, ByteSizes.MIB, 64 * ByteSizes.MIB)) {
            for (int round = 0; round < 300 && reports.isEmpty(); round++) {
                monitor.tick();
            }
            assertEquals(
                    List.of("OVER_SOFT>" + ByteSizes.MIB),
                    reports,
                    "the big file is found within one pass (where depends on the directory's order)");
            assertTrue(entriesPerRound.stream().allMatch(e -> e <= ENTRIES), entriesPerRound::toString);
            int rounds = entriesPerRound.size();
            for (int round = 0; round < 250; round++) {
                monitor.tick();
            }
            assertEquals(1, reports.size(), "one warning per worker, however many passes");
            assertTrue(entriesPerRound.subList(rounds, entriesPerRound.size()).stream()
                    .allMatch(e -> e <= ENTRIES));
            assertTrue(
                    entriesPerRound.stream().mapToLong(Long::longValue).sum() > 100_000,
                    "several passes of 100,001 entries");
        }
    }

    @Test
    void overTheHardLimitTheWorkerIsReportedOnceAndNoLongerWalked() throws IOException {
        Files.write(dir.resolve("big"), new byte[(int) (3 * ByteSizes.MIB)]);
        Holder holder = new Holder();
        try (DiskMonitor monitor = monitor(holder, ByteSizes.MIB, 2 * ByteSizes.MIB)) {
            monitor.tick();
            monitor.tick();
            assertEquals(List.of("OVER_HARD>" + 2 * ByteSizes.MIB), reports);
            assertEquals(0L, entriesPerRound.get(1), "a worker over the hard limit is not walked again");
        }
    }

    /** Each finished pass is handed to the holder (the admin snapshot shows the last); a pass in progress is not. */
    @Test
    void everyFinishedPassIsHandedToTheHolder() throws IOException {
        for (int i = 0; i < ENTRIES + 10; i++) {
            Files.createFile(dir.resolve("f" + i));
        }
        Files.write(dir.resolve("big"), new byte[(int) ByteSizes.MIB]);
        Holder holder = new Holder();
        try (DiskMonitor monitor = monitor(holder, 64 * ByteSizes.MIB, 128 * ByteSizes.MIB)) {
            monitor.tick();
            assertEquals(List.of(), measured, "more entries than one round visits: the pass is not finished");
            for (int round = 0; round < 10 && measured.isEmpty(); round++) {
                monitor.tick();
            }
            assertEquals(1, measured.size(), measured::toString);
            assertTrue(measured.get(0) >= ByteSizes.MIB, measured::toString);
        }
    }

    @Test
    void bothLimitsOffWalkNothing() throws IOException {
        Files.write(dir.resolve("big"), new byte[(int) (3 * ByteSizes.MIB)]);
        try (DiskMonitor monitor = monitor(new Holder(), 0, 0)) {
            monitor.tick();
            assertEquals(List.of(0L), entriesPerRound);
            assertTrue(reports.isEmpty());
        }
    }
}
