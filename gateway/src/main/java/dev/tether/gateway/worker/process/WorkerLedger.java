package dev.tether.gateway.worker.process;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every worker process one gateway has started and not yet finished with, so that its shutdown
 * leaves nothing behind. Shared by every {@link ProcessWorkerLauncher} of the gateway (a reload
 * makes new launchers, never a new ledger). A launch is on the ledger from before its working
 * directory is made until the worker's exit has been handled ({@link ProcessWorker#exited()}: its
 * tree's leftovers killed, its working directory removed), wherever the worker is meanwhile: warm
 * in the pool, in a session, or being stopped by a session that has already ended.
 *
 * <p>At shutdown the gateway {@linkplain #close() closes} it (no launch starts from then on), stops
 * its workers through their usual paths, waits for {@link #emptied()}, may {@linkplain #skipGraces()
 * skip the graces}, and finally {@linkplain #sweep() sweeps} what is left with SIGKILL. From
 * {@link #close()} on, it counts what the workers' ends took, for the {@linkplain #summary()
 * summary} the gateway logs last.
 *
 * <p>Thread-safe. Launches reserve and record on the pool's thread, exits are recorded on the
 * workers' timers, the shutdown calls come from the thread closing the gateway (or a signal
 * handler, for {@link #skipGraces()}); {@link #sweep()} blocks and reads {@code /proc}: never on an
 * event loop. The lock is held for bookkeeping only, never while signalling or waiting.
 */
public final class WorkerLedger {

    /** How long the final sweep waits for the processes it SIGKILLed to be gone. */
    static final Duration SWEEP_WAIT = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(WorkerLedger.class);
    private static final long SWEEP_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** What a shutdown took, as the gateway logs it last. */
    public record Summary(int stopped, int sigterm, int sigkill, int sweptProcesses, int workDirsRemoved) {
        @Override
        public String toString() {
            return "workers stopped: " + stopped + " (needed SIGTERM: " + sigterm + ", needed SIGKILL: " + sigkill
                    + "), leftovers killed in the final sweep: " + sweptProcesses + ", work directories removed: "
                    + workDirsRemoved;
        }
    }

    /** One launch: reserved before its working directory is made, then holding its worker once started. */
    final class Entry {

        /** Null until the process has started. Guarded by the ledger's lock. */
        private ProcessWorker worker;

        /** The launch started {@code started}: it stays on the ledger until its exit has been handled. */
        void started(ProcessWorker started) {
            boolean hurry;
            boolean late;
            synchronized (lock) {
                worker = started;
                hurry = hurried;
                late = swept;
            }
            if (late) {
                // Started after the final sweep (a launch slower than the whole wait): no timers to rely on.
                log.warn("worker {} started after the shutdown's final sweep: killing it now", started.describe());
                kill(List.of(this));
                return;
            }
            if (hurry) {
                started.skipGraces();
            }
            started.exited().whenComplete((exit, error) -> release(this, true));
        }

        /** The launch failed before a process ran (its working directory already removed). */
        void abandoned() {
            release(this, false);
        }
    }

    private final Object lock = new Object();
    private final Set<Entry> live = new HashSet<>();
    private final CompletableFuture<Void> emptied = new CompletableFuture<>();
    private boolean closed;
    private boolean hurried;
    private boolean swept;
    private int stopped;
    private int sigterm;
    private int sigkill;
    private int sweptProcesses;
    private int workDirsRemoved;

    /**
     * Puts a launch on the ledger, before anything of it exists. Call {@link Entry#started} or
     * {@link Entry#abandoned} on the result.
     *
     * @throws IOException once the ledger is closed: the gateway is shutting down
     */
    Entry reserve() throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IOException("the gateway is shutting down: no new worker");
            }
            Entry entry = new Entry();
            live.add(entry);
            return entry;
        }
    }

    /** Launches and workers on the ledger now. */
    public int size() {
        synchronized (lock) {
            return live.size();
        }
    }

    /** No launch starts from now on; what the workers' ends take is counted from now on. Idempotent. */
    public void close() {
        boolean empty;
        synchronized (lock) {
            closed = true;
            empty = live.isEmpty();
        }
        if (empty) {
            emptied.complete(null);
        }
    }

    /** Completes once the ledger is closed and empty: every worker it held has exited and been cleaned up. */
    public CompletionStage<Void> emptied() {
        return emptied.minimalCompletionStage();
    }

    /**
     * Skips the graces of every worker on the ledger, and of any launch still starting: SIGTERM to
     * its tree now and SIGKILL right after. Never blocks.
     *
     * @return how many workers were told
     */
    public int skipGraces() {
        List<ProcessWorker> now = new ArrayList<>();
        synchronized (lock) {
            hurried = true;
            for (Entry entry : live) {
                if (entry.worker != null) {
                    now.add(entry.worker);
                }
            }
        }
        now.forEach(ProcessWorker::skipGraces);
        return now.size();
    }

    /**
     * The last resort before the gateway exits: SIGKILL to every running process of every worker
     * still on the ledger (its tree, its process group and session, and every process seen in it),
     * again until none runs or {@link #SWEEP_WAIT} has passed, then removes their working
     * directories. They leave the ledger. A launch that starts later is killed as it starts.
     * Blocks; not for event loops.
     */
    public void sweep() {
        List<Entry> left;
        synchronized (lock) {
            swept = true;
            left = new ArrayList<>(live);
            live.clear();
        }
        if (left.isEmpty()) {
            return;
        }
        log.warn("{} worker(s) still there: SIGKILL to what is left of them", left.size());
        kill(left);
        emptied.complete(null);
    }

    /** What the workers' ends took since {@link #close()}. */
    public Summary summary() {
        synchronized (lock) {
            return new Summary(stopped, sigterm, sigkill, sweptProcesses, workDirsRemoved);
        }
    }

    /** A worker's exit was handled (or its launch failed): off the ledger, counted if the gateway is closing. */
    private void release(Entry entry, boolean count) {
        boolean empty;
        synchronized (lock) {
            if (!live.remove(entry)) {
                return; // swept meanwhile
            }
            if (count && closed) {
                tally(entry.worker.teardown());
            }
            empty = closed && live.isEmpty();
        }
        if (empty) {
            emptied.complete(null);
        }
    }

    /** Counts one worker's end. Under the lock. */
    private void tally(ProcessWorker.Teardown teardown) {
        stopped++;
        sigterm += teardown.sigterm() ? 1 : 0;
        sigkill += teardown.sigkill() ? 1 : 0;
        workDirsRemoved += teardown.workDirRemoved() ? 1 : 0;
    }

    /** SIGKILL to every running process of {@code entries}' workers until none runs, then their directories removed. */
    private void kill(List<Entry> entries) {
        List<ProcessWorker> workers = new ArrayList<>();
        synchronized (lock) {
            for (Entry entry : entries) {
                if (entry.worker != null) {
                    workers.add(entry.worker);
                }
            }
        }
        if (workers.size() < entries.size()) {
            log.warn("{} worker launch(es) still under way at the final sweep", entries.size() - workers.size());
        }
        Set<Long> signalled = new TreeSet<>();
        int killed = 0; // workers with something left to kill
        for (ProcessWorker worker : workers) {
            killed += worker.runningTree().isEmpty() ? 0 : 1;
        }
        long deadline = System.nanoTime() + SWEEP_WAIT.toNanos();
        while (true) {
            Set<ProcessHandle> running = new HashSet<>();
            workers.forEach(w -> running.addAll(w.runningTree()));
            if (running.isEmpty()) {
                break;
            }
            if (System.nanoTime() - deadline > 0) {
                log.warn(
                        "processes survive SIGKILL at the final sweep: {}",
                        running.stream().map(ProcessHandle::pid).toList());
                break;
            }
            for (ProcessHandle process : running) {
                process.destroyForcibly();
                signalled.add(process.pid());
            }
            LockSupport.parkNanos(SWEEP_POLL_NANOS); // SIGKILL takes effect asynchronously: look again
        }
        int removed = 0;
        for (ProcessWorker worker : workers) {
            try {
                WorkDirs.deleteRecursively(worker.workDir());
                removed++;
            } catch (IOException | RuntimeException e) {
                worker.keys(log.atWarn()).setCause(e).log("cannot remove working directory {}", worker.workDir());
            }
        }
        if (!signalled.isEmpty()) {
            log.warn("final sweep: SIGKILL to {} process(es): {}", signalled.size(), signalled);
        }
        synchronized (lock) {
            stopped += workers.size();
            sigkill += killed;
            sweptProcesses += signalled.size();
            workDirsRemoved += removed;
        }
    }
}
