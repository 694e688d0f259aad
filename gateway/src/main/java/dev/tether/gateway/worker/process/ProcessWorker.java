package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import dev.tether.protocol.WireCodec;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * A worker that is an operating-system process speaking the worker protocol (JSON lines, see
 * {@code docs/workers.md}), started by {@link ProcessWorkerLauncher} in its own session and process
 * group, with a clean environment and a working directory of its own.
 *
 * <p>Threads: three daemon threads per worker, one each for stdout ({@link OutputReader}), stderr
 * ({@link StderrLogger}) and stdin ({@link StdinWriter}); the stop sequence, /proc scans, signals and
 * clean-up run on the {@code timers} scheduler (which must therefore not be an event loop). The
 * {@link Worker} methods never block and may be called from any thread. Listener callbacks are made
 * on the bound executor; at most {@code worker.process.max_pending_events} of them are handed to it
 * and not yet run, beyond which the stdout thread waits, and so the worker blocks on its pipe.
 */
public final class ProcessWorker implements Worker {

    /** How long stdout may stay open after the tree was killed (held by a process that left the session). */
    static final Duration STDOUT_DRAIN = Duration.ofSeconds(2);
    /** Longest wait for a slow session to take the last events before the exit is reported anyway. */
    static final Duration SLOW_CONSUMER_LIMIT = Duration.ofSeconds(60);

    private static final Logger log = LoggerFactory.getLogger(ProcessWorker.class);
    private static final long POLL_MILLIS = 10;

    private record Binding(String sessionId, String subject, EventExecutor executor, WorkerListener listener) {
    }

    /**
     * What ending a worker took, for the gateway's shutdown summary: whether its tree needed
     * SIGTERM, whether any of it needed SIGKILL, and whether its working directory was removed.
     */
    record Teardown(boolean sigterm, boolean sigkill, boolean workDirRemoved) {
    }

    private final ProcessWorkerConfig config;
    private final ScheduledExecutorService timers;
    private final Process process;
    private final long pid;
    private final Path workDir;
    private final WireCodec codec;
    private final StdinWriter stdin;
    private final OutputReader stdout;
    private final Thread stdoutThread;
    private final Semaphore permits;
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final CompletableFuture<WorkerExit> exited = new CompletableFuture<>();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final AtomicLong truncatedLines = new AtomicLong();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final TreeKiller killer;
    private volatile Binding binding;
    /** stop() or kill() was called: no more listener callbacks, onExit included. */
    private volatile boolean silenced;
    private volatile String killReason;
    private volatile boolean workDirRemoved;

    ProcessWorker(ProcessWorkerConfig config, ScheduledExecutorService timers, Process process, Path workDir,
            WireCodec codec) {
        this.config = requireNonNull(config, "config");
        this.timers = requireNonNull(timers, "timers");
        this.process = requireNonNull(process, "process");
        this.workDir = requireNonNull(workDir, "workDir");
        this.codec = requireNonNull(codec, "codec");
        this.pid = process.pid();
        this.permits = new Semaphore(config.maxPendingEvents());
        this.stdin = new StdinWriter(process.getOutputStream(), pid);
        this.stdout = new OutputReader(process.getInputStream(), config.maxLineBytes(), codec, new Output(), pid);
        this.stdoutThread = daemon(stdout, "stdout");
        this.killer = new TreeKiller(process, timers, this::keys);
        daemon(new StderrLogger(process.getErrorStream(), this::keys), "stderr");
        process.onExit().thenRunAsync(this::afterExit, timers);
    }

    /** Starts one worker; see {@link ProcessWorkerLauncher#launch()}. */
    public static ProcessWorker start(ProcessWorkerConfig config, ScheduledExecutorService timers) throws IOException {
        return new ProcessWorkerLauncher(config, timers).launch();
    }

    @Override
    public void bind(String sessionId, String subject, EventExecutor executor, WorkerListener listener) {
        requireNonNull(sessionId, "sessionId");
        requireNonNull(subject, "subject");
        binding = new Binding(sessionId, requireNonNull(subject, "subject"), requireNonNull(executor, "executor"),
                requireNonNull(listener, "listener"));
        ObjectNode line = codec.mapper().createObjectNode()
                .put("type", "session")
                .put("session_id", sessionId)
                .put("subject", subject)
                .put("work_dir", workDir.toString());
        write(line);
    }

    @Override
    public void send(String id, JsonNode data) {
        ObjectNode line = codec.mapper().createObjectNode().put("type", "message").put("id", requireNonNull(id, "id"));
        line.set("data", data);
        write(line);
    }

    @Override
    public void interrupt() {
        write(codec.mapper().createObjectNode().put("type", "interrupt"));
    }

    @Override
    public CompletionStage<Void> stop() {
        silence();
        if (stopping.compareAndSet(false, true)) {
            stdin.offer("{\"type\":\"shutdown\"}");
            stdin.close();
            timers.schedule(() -> killer.terminate("worker still running " + config.stopGrace() + " after shutdown",
                    config.killGrace()), config.stopGrace().toNanos(), TimeUnit.NANOSECONDS);
        }
        return exited.thenApply(exit -> null);
    }

    @Override
    public void kill() {
        silence();
        timers.execute(killer::kill);
    }

    /**
     * The gateway stops at once and skips the graces (a second SIGTERM while workers were being
     * stopped): SIGTERM to the whole tree now and SIGKILL right after, whether or not {@link #stop()}
     * was called. {@link #exited()} completes as usual. Never blocks; any thread.
     */
    void skipGraces() {
        silence();
        stopping.set(true);
        timers.execute(() -> killer.terminate("the gateway stops at once", Duration.ZERO));
    }

    @Override
    public CompletionStage<Void> ready() {
        return ready;
    }

    @Override
    public CompletionStage<WorkerExit> exited() {
        return exited;
    }

    @Override
    public OptionalLong pid() {
        return OptionalLong.of(pid);
    }

    @Override
    public String describe() {
        return "pid " + pid;
    }

    /** The worker's own working directory (removed once it has exited). */
    public Path workDir() {
        return workDir;
    }

    /** Output lines that were not JSON objects, so far. */
    public long protocolErrors() {
        return protocolErrors.get();
    }

    /** Output lines over {@code max_line_bytes}, so far. */
    public long truncatedLines() {
        return truncatedLines.get();
    }

    /** Callbacks handed to the bound executor and not yet run; never above {@code max_pending_events}. */
    public int pendingEvents() {
        return config.maxPendingEvents() - permits.availablePermits();
    }

    /** What ending this worker took; final once {@link #exited()} has completed. */
    Teardown teardown() {
        return new Teardown(killer.sentSigterm(), killer.sentSigkill(), workDirRemoved);
    }

    /** The processes of this worker's tree that run now; see {@link TreeKiller#runningNow()}. Not for event loops. */
    Set<ProcessHandle> runningTree() {
        return killer.runningNow();
    }

    /** The log keys of this worker: {@code session} and {@code subject} once bound, {@code worker} (the pid). */
    LoggingEventBuilder keys(LoggingEventBuilder event) {
        Binding b = binding;
        LoggingEventBuilder keyed = b == null ? event
                : event.addKeyValue("session", b.sessionId()).addKeyValue("subject", b.subject());
        return keyed.addKeyValue("worker", pid);
    }

    private void write(ObjectNode line) {
        String text;
        try {
            text = codec.mapper().writeValueAsString(line);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        if (!stdin.offer(text)) {
            killReason = "unresponsive (" + StdinWriter.CAPACITY + " lines waiting on its stdin)";
            keys(log.atWarn())
                    .log("worker does not read its stdin; killing it");
            timers.execute(killer::kill);
        }
    }

    private void silence() {
        silenced = true;
        stdout.discard();
        stdoutThread.interrupt(); // frees the reader if it waits for a permit the session will not give back
    }

    // ---- after the worker exited, on the timers thread ----

    private void afterExit() {
        WorkerExit status = ExitStatus.decode(process.exitValue());
        WorkerExit exit = killReason == null ? status
                : new WorkerExit(status.code(), status.signal(), killReason + ", " + status.description());
        ready.completeExceptionally(new IOException("worker " + describe() + " exited before it was ready: "
                + exit.description()));
        stdin.abort();
        killer.killLeftovers(exit.description()).thenRun(() -> awaitStdout(exit, System.nanoTime()));
    }

    /**
     * Waits for stdout to reach its end, so that every event the worker wrote before it died is
     * handed over before the exit is. Gives up after {@link #STDOUT_DRAIN} when the pipe is held
     * open by a process outside the tree, or after {@link #SLOW_CONSUMER_LIMIT} when the session
     * does not take the events.
     */
    private void awaitStdout(WorkerExit exit, long since) {
        long waited = System.nanoTime() - since;
        Binding b = binding;
        boolean waitingForSession = permits.hasQueuedThreads() && b != null && !b.executor().isShuttingDown();
        boolean giveUp = waitingForSession ? waited > SLOW_CONSUMER_LIMIT.toNanos() : waited > STDOUT_DRAIN.toNanos();
        if (!stdout.done().isDone() && !giveUp) {
            timers.schedule(() -> awaitStdout(exit, since), POLL_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        if (!stdout.done().isDone()) {
            keys(log.atWarn()).log("stdout still open after the worker exited; no longer read");
            stdout.discard();
            stdoutThread.interrupt();
        }
        finish(exit);
    }

    private void finish(WorkerExit exit) {
        try {
            WorkDirs.deleteRecursively(workDir);
            workDirRemoved = true;
        } catch (IOException | RuntimeException e) {
            keys(log.atWarn()).setCause(e).log("cannot remove working directory {}", workDir);
        }
        Binding b = binding;
        keys(log.atInfo())
                .log("worker exited: {}{}", exit.description(), silenced ? " (stopped)" : "");
        if (b != null && !silenced) {
            try {
                b.executor().execute(() -> {
                    if (!silenced) {
                        b.listener().onExit(exit);
                    }
                });
            } catch (RejectedExecutionException e) {
                keys(log.atDebug()).log("session executor gone; exit not reported");
            }
        }
        exited.complete(exit);
    }

    private Thread daemon(Runnable task, String stream) {
        Thread thread = new Thread(task, "worker-" + pid + "-" + stream);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** Takes parsed stdout lines on the stdout thread and hands them to the session. */
    private final class Output implements OutputReader.Handler {

        /** Lines dropped or broken so far; only the first few and then every 1000th are logged. */
        private long noisy;

        @Override
        public void object(ObjectNode object) throws InterruptedException {
            if (!ready.isDone()) {
                if ("ready".equals(object.path("type").asText())) {
                    keys(log.atDebug()).log("worker ready");
                    ready.complete(null);
                } else if (shouldLog()) {
                    keys(log.atInfo()).log("output before ready dropped (#{}): {}", noisy,
                            OutputReader.excerpt(object.toString()));
                }
                return;
            }
            Binding b = binding;
            if (b == null) {
                if (shouldLog()) {
                    keys(log.atInfo()).log("output of an unbound worker dropped (#{}): {}", noisy,
                            OutputReader.excerpt(object.toString()));
                }
                return;
            }
            dispatch(b, listener -> listener.onEvent(object));
        }

        @Override
        public void problem(String code, String message) throws InterruptedException {
            (OutputReader.OUTPUT_TRUNCATED.equals(code) ? truncatedLines : protocolErrors).incrementAndGet();
            if (shouldLog()) {
                keys(log.atWarn()).log("{} (#{}): {}", code, noisy, message);
            }
            Binding b = binding;
            if (b != null) {
                dispatch(b, listener -> listener.onProtocolProblem(code, message));
            }
        }

        private boolean shouldLog() {
            long n = ++noisy;
            return n <= 20 || n % 1000 == 0;
        }

        private void dispatch(Binding b, Consumer<WorkerListener> call) throws InterruptedException {
            if (silenced) {
                return;
            }
            permits.acquire();
            try {
                b.executor().execute(() -> {
                    try {
                        if (!silenced) {
                            call.accept(b.listener());
                        }
                    } finally {
                        permits.release();
                    }
                });
            } catch (RejectedExecutionException e) {
                permits.release();
            }
        }
    }
}
