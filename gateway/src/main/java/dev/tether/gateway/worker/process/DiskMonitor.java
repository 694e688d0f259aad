package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.worker.Worker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Measures every session's worker's working directory against {@code worker.process.disk_soft_limit}
 * and {@code disk_hard_limit}: every {@code disk_poll_interval} each directory's {@link DiskWalk} goes
 * at most {@code disk_scan_entries} entries further, so a tick costs at most that many entries per
 * worker however many files a worker makes, and a large directory takes several ticks to measure.
 * The bytes counted so far in a pass are a lower bound of what the directory holds, so a worker is
 * judged on them as soon as they pass a limit, and on each pass's total at its end.
 *
 * <p>File I/O: runs on this monitor's own thread, never on an event loop; the holder (a session)
 * hands what it is told over to its own loop. {@link #tick} is one round (tests call it directly).
 * The limits are read from the current configuration every round; off (both 0): nothing is walked.
 */
public final class DiskMonitor implements AutoCloseable {

    /** Used when the file store does not say its block size. */
    static final long DEFAULT_BLOCK_SIZE = 4096;

    private final Supplier<? extends Iterable<? extends Holder>> holders;
    private final Supplier<ProcessWorkerConfig> config;
    private final Totals totals;
    private final Function<Worker, Path> directories;
    private final IdentityHashMap<Worker, Tracked> tracked = new IdentityHashMap<>();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread t = new Thread(runnable, "tether-disk");
        t.setDaemon(true);
        return t;
    });

    /** What a measurement means for its worker. */
    public enum Verdict {
        /** First time over {@code worker.process.disk_soft_limit}: notice {@code disk_warning}. */
        OVER_SOFT,
        /** Over {@code worker.process.disk_hard_limit}: the worker is to be replaced. */
        OVER_HARD
    }

    /** Who holds a worker whose directory is measured: a session. */
    public interface Holder {

        /** The worker serving the holder right now, or null. Called on the monitor's thread. */
        Worker currentWorker();

        /**
         * {@code measured}'s directory holds at least {@code bytes}, over {@code limitBytes}: called
         * on the monitor's thread, once per verdict and worker; the holder hands it to its own loop.
         */
        void reportDisk(Worker measured, Verdict verdict, long bytes, long limitBytes);

        /** Names the holder in the log. */
        String id();

        /**
         * A pass over {@code measured}'s directory finished at {@code bytes}: called on the monitor's
         * thread after every finished pass, for operators (the admin snapshot); nothing by default.
         */
        default void measuredDisk(Worker measured, long bytes) {}
    }

    /** What one round did, for the metrics. */
    @FunctionalInterface
    public interface Totals {
        /**
         * One round's totals.
         *
         * @param workers directories measured in the round
         * @param maxBytes the largest figure a finished pass gave of any of them so far
         * @param entries directory entries visited in the round, all workers together
         */
        void round(int workers, long maxBytes, long entries);
    }

    private static final class Tracked {
        final DiskWalk walk;
        long lastTotal;
        boolean warned;
        boolean limited;
        boolean seen;

        Tracked(DiskWalk walk) {
            this.walk = walk;
        }
    }

    public DiskMonitor(
            Supplier<? extends Iterable<? extends Holder>> holders,
            Supplier<ProcessWorkerConfig> config,
            Totals totals) {
        this(holders, config, totals, worker -> worker instanceof ProcessWorker p ? p.workDir() : null);
    }

    /** @param directories a worker's working directory, or null for one that has none (in-process) */
    DiskMonitor(
            Supplier<? extends Iterable<? extends Holder>> holders,
            Supplier<ProcessWorkerConfig> config,
            Totals totals,
            Function<Worker, Path> directories) {
        this.holders = requireNonNull(holders, "holders");
        this.config = requireNonNull(config, "config");
        this.totals = requireNonNull(totals, "totals");
        this.directories = requireNonNull(directories, "directories");
    }

    /** Schedules a round every {@code interval} on the monitor's thread. */
    public void start(Duration interval) {
        long nanos = interval.toNanos();
        Unwatched.scheduleWithFixedDelay(thread, this::tick, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** One round over every holder. Only ever on one thread at a time. */
    public synchronized void tick() {
        ProcessWorkerConfig limits = config.get();
        if (!limits.diskLimited()) {
            forgetAll();
            totals.round(0, 0, 0);
            return;
        }
        int workers = 0;
        long entries = 0;
        long max = 0;
        for (Holder holder : holders.get()) {
            Worker worker = holder.currentWorker();
            Path dir = worker == null ? null : directories.apply(worker);
            if (dir == null) {
                continue;
            }
            Tracked t = tracked.computeIfAbsent(worker, w -> new Tracked(new DiskWalk(dir, blockSize(dir))));
            t.seen = true;
            if (t.limited) {
                continue;
            }
            DiskWalk.Step step = t.walk.advance(limits.diskScanEntries());
            workers++;
            entries += step.visited();
            if (step.complete()) {
                t.lastTotal = step.bytes();
                holder.measuredDisk(worker, t.lastTotal);
            }
            max = Math.max(max, t.lastTotal);
            long bytes = step.bytes();
            if (limits.diskHardLimit() > 0 && bytes > limits.diskHardLimit()) {
                t.limited = true;
                t.walk.close();
                holder.reportDisk(worker, Verdict.OVER_HARD, bytes, limits.diskHardLimit());
            } else if (limits.diskSoftLimit() > 0 && bytes > limits.diskSoftLimit() && !t.warned) {
                t.warned = true;
                holder.reportDisk(worker, Verdict.OVER_SOFT, bytes, limits.diskSoftLimit());
            }
        }
        tracked.values().removeIf(t -> {
            if (t.seen) {
                t.seen = false;
                return false;
            }
            t.walk.close();
            return true;
        });
        totals.round(workers, max, entries);
    }

    private void forgetAll() {
        tracked.values().forEach(t -> t.walk.close());
        tracked.clear();
    }

    private static long blockSize(Path dir) {
        try {
            long size = Files.getFileStore(dir).getBlockSize();
            return size > 0 ? size : DEFAULT_BLOCK_SIZE;
        } catch (IOException | UnsupportedOperationException e) {
            return DEFAULT_BLOCK_SIZE;
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        synchronized (this) {
            forgetAll();
        }
    }
}
