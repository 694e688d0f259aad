package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import dev.tether.protocol.RequestOutcome;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * A worker that is an operating-system process speaking the worker protocol (JSON lines, see
 * {@code docs/workers.md}), started by {@link ProcessWorkerLauncher} through the {@link Spawner} in
 * its own session and process group, with a clean environment and a working directory of its own.
 *
 * <p><b>No thread of its own.</b> Its stdin and stdout are one Unix domain socket and its stderr
 * another, each a Netty channel on an event loop: until it is bound, one of the spawner's; from
 * {@link #bind} on, the stdio channel is moved to the session's own loop, where its output is split,
 * parsed ({@link WorkerOutputHandler}) and handed to the listener directly, and where every line for
 * its stdin is written, without blocking: a worker that does not read its stdin gets
 * {@value #STDIN_CAPACITY} lines queued and is then killed as unresponsive. Its exit is reported by
 * the spawner, which reaps it. The stop sequence, {@code /proc} scans, signals and clean-up run on
 * the {@code timers} scheduler (which must therefore not be an event loop). The {@link Worker}
 * methods never block and may be called from any thread; listener callbacks are made on the bound
 * loop.
 */
public final class ProcessWorker implements Worker {

    /** Lines waiting for a worker that does not read its stdin, before it counts as unresponsive. */
    static final int STDIN_CAPACITY = 1024;
    /** How often, and how far apart, removing the worker's control groups is tried (they empty as its tree is reaped). */
    static final int GROUP_REMOVE_ATTEMPTS = 100;

    static final long GROUP_REMOVE_RETRY_MILLIS = 20;
    /** How long stdout may stay open after the tree was killed (held by a process that left the session). */
    static final Duration STDOUT_DRAIN = Duration.ofSeconds(2);
    /** The type of a worker's checkpoint line (contract 7.2): kept with the session, never forwarded. */
    static final String CHECKPOINT = "checkpoint";
    /** Notice code for a checkpoint over {@code worker.process.max_checkpoint_bytes}. */
    public static final String CHECKPOINT_TOO_LARGE = "checkpoint_too_large";

    private static final Logger log = LoggerFactory.getLogger(ProcessWorker.class);

    private record Binding(String sessionId, String subject, EventLoop loop, WorkerListener listener) {}

    /**
     * What ending a worker took, for the gateway's shutdown summary: whether its tree needed
     * SIGTERM, whether any of it needed SIGKILL, and whether its working directory was removed.
     */
    record Teardown(boolean sigterm, boolean sigkill, boolean workDirRemoved) {}

    private final ProcessWorkerConfig config;
    private final ScheduledExecutorService timers;
    private final long pid;
    private final Path workDir;
    private final WireCodec codec;
    private final Channel stdio;
    private final Channel stderr;
    private final WorkerOutputHandler output;
    /** What its stdio means ({@code worker.process.protocol}); called on the stdio channel's loop only. */
    private final WorkerProtocol protocol;

    private final Output sink = new Output();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final CompletableFuture<WorkerExit> exited = new CompletableFuture<>();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final AtomicLong truncatedLines = new AtomicLong();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final TreeKiller killer;
    /** The worker tree's control groups, or null when its limits are polled. */
    private final ControlGroups.ControlGroup group;

    private volatile Binding binding;
    /** stop() or kill() was called: no more listener callbacks, onExit included. */
    private volatile boolean silenced;
    /** Until the spawner reports the exit: only then may the pid be signalled. */
    private volatile boolean alive = true;

    private volatile String killReason;
    private volatile boolean workDirRemoved;

    // On the stdio channel's loop only:
    /** Writes issued and not yet on the socket. */
    private int stdinInFlight;

    private boolean stdinClosed;
    /** The stdio channel is on its way to the session's loop: writes wait here meanwhile. */
    private boolean moving;

    private final List<String> heldWrites = new ArrayList<>();
    /** Output lines dropped or broken so far; only the first few and then every 1000th are logged. */
    private long noisy;

    /**
     * @param resume the checkpoint it was started to continue from (its protocol's start arguments), or null
     * @param fork whether it was started to continue {@code resume} as a fork (contract 1.2, 8.2)
     * @param group the control groups it was started in, removed once it has exited; or null
     */
    ProcessWorker(
            ProcessWorkerConfig config,
            ScheduledExecutorService timers,
            SpawnedProcess process,
            Path workDir,
            WireCodec codec,
            JsonNode resume,
            boolean fork,
            ControlGroups.ControlGroup group) {
        this.group = group;
        this.config = requireNonNull(config, "config");
        this.timers = requireNonNull(timers, "timers");
        this.workDir = requireNonNull(workDir, "workDir");
        this.codec = requireNonNull(codec, "codec");
        this.pid = process.pid();
        this.stdio = process.stdio();
        this.stderr = process.stderr();
        this.killer = new TreeKiller(pid, () -> alive, timers, this::keys);
        this.protocol =
                WorkerProtocols.create(config, new Peer(), text -> onStdioLoop(() -> writeNow(text)), resume, fork);
        this.output = new WorkerOutputHandler(
                config.maxLineBytes(), config.maxPendingEvents(), codec, sink, protocol.rawLines());
        SpawnedProcess.claim(stdio, output);
        onStdioLoop(protocol::started);
        SpawnedProcess.claim(stderr, new StderrLogHandler(this::keys));
        process.exit().whenComplete((status, error) -> timers.execute(() -> afterExit(status == null ? -1 : status)));
    }

    @Override
    public void bind(
            String sessionId,
            String subject,
            JsonNode resume,
            boolean fork,
            ObjectNode claims,
            EventExecutor sessionLoop,
            WorkerListener listener) {
        requireNonNull(sessionId, "sessionId");
        requireNonNull(subject, "subject");
        requireNonNull(listener, "listener");
        if (!(sessionLoop instanceof EventLoop loop)) {
            throw new IllegalArgumentException("a process worker is bound to an event loop: " + sessionLoop);
        }
        binding = new Binding(sessionId, subject, loop, listener);
        // Everything from now on runs on the session's loop: the move, then the session line. Bound
        // on that loop (as a session binds), both happen now: a message sent right after the bind
        // (a queued one, started as the worker gets ready) must reach the worker after the session
        // line, never before it, or the worker would run it without its session (and its resume).
        Runnable start = () -> {
            moveTo(loop);
            protocol.bind(sessionId, subject, workDir, resume, fork, claims);
        };
        if (loop.inEventLoop()) {
            start.run();
        } else {
            loop.execute(start);
        }
    }

    @Override
    public void send(String id, JsonNode data) {
        requireNonNull(id, "id");
        onStdioLoop(() -> protocol.send(id, data));
    }

    @Override
    public void claims(ObjectNode claims) {
        requireNonNull(claims, "claims");
        onStdioLoop(() -> protocol.claims(claims));
    }

    @Override
    public void interrupt() {
        onStdioLoop(protocol::interrupt);
    }

    @Override
    public void respond(String requestId, RequestOutcome outcome, JsonNode data) {
        requireNonNull(requestId, "requestId");
        requireNonNull(outcome, "outcome");
        onStdioLoop(() -> protocol.respond(requestId, outcome, data));
    }

    @Override
    public String checkAnswer(String requestId, JsonNode data) {
        return protocol.checkAnswer(requestId, data);
    }

    @Override
    public boolean turns() {
        return protocol.turns();
    }

    @Override
    public boolean canContinue(JsonNode resume) {
        return protocol.canContinue(resume, false);
    }

    @Override
    public boolean canContinue(JsonNode resume, boolean fork) {
        return protocol.canContinue(resume, fork);
    }

    @Override
    public CompletionStage<Void> stop() {
        silence();
        if (stopping.compareAndSet(false, true)) {
            onStdioLoop(() -> {
                protocol.shutdown();
                closeStdin();
            });
            Unwatched.schedule(
                    timers,
                    () -> killer.terminate(
                            "worker still running " + config.stopGrace() + " after shutdown", config.killGrace()),
                    config.stopGrace().toNanos(),
                    TimeUnit.NANOSECONDS);
        }
        return exited.thenApply(exit -> null);
    }

    @Override
    public void kill() {
        silence();
        timers.execute(killer::kill);
    }

    @Override
    public void pauseOutput(boolean paused) {
        onStdioLoop(() -> output.paused(paused));
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

    /** The event loop its stdio is served on now (the session's, once bound; for tests). */
    public EventLoop stdioLoop() {
        return stdio.eventLoop();
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
        LoggingEventBuilder keyed =
                b == null ? event : event.addKeyValue("session", b.sessionId()).addKeyValue("subject", b.subject());
        return keyed.addKeyValue("worker", pid);
    }

    // ---- stdio, on its channel's loop ----

    /** Runs {@code task} where the stdio channel is served: the session's loop once bound. */
    private void onStdioLoop(Runnable task) {
        Binding b = binding;
        EventLoop loop = b != null ? b.loop() : stdio.eventLoop();
        try {
            if (loop.inEventLoop()) {
                task.run();
            } else {
                loop.execute(task);
            }
        } catch (RejectedExecutionException e) {
            keys(log.atDebug()).log("event loop gone; stdin no longer written");
        }
    }

    private void write(ObjectNode line) {
        String text;
        try {
            text = codec.mapper().writeValueAsString(line);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        onStdioLoop(() -> writeNow(text));
    }

    private void writeNow(String text) {
        if (stdinClosed) {
            return;
        }
        if (moving) {
            heldWrites.add(text);
            return;
        }
        if (stdinInFlight >= STDIN_CAPACITY) {
            if (killReason == null) {
                killReason = "unresponsive (" + STDIN_CAPACITY + " lines waiting on its stdin)";
                keys(log.atWarn()).log("worker does not read its stdin; killing it");
                timers.execute(killer::kill);
            }
            return;
        }
        stdinInFlight++;
        ByteBuf bytes = stdio.alloc().buffer(text.length() + 1);
        bytes.writeCharSequence(text, StandardCharsets.UTF_8);
        bytes.writeByte('\n');
        stdio.writeAndFlush(bytes).addListener(done -> stdinInFlight--);
    }

    /** Writes what is queued, then closes stdin: the worker reads end of file. */
    private void closeStdin() {
        if (moving) {
            heldWrites.add(null); // the close, in its place after the held writes
            return;
        }
        if (!stdinClosed) {
            stdinClosed = true;
            ((DomainSocketChannel) stdio).shutdownOutput().addListener(shut -> {
                if (!shut.isSuccess()) {
                    keys(log.atDebug()).log("cannot close the worker's stdin: {}", String.valueOf(shut.cause()));
                }
            });
        }
    }

    /**
     * Moves the stdio channel to {@code loop} (the session's): deregistered from the spawner's loop,
     * registered with the session's; writes issued meanwhile are held and written, in order, once it
     * is there, and output is delivered only there.
     */
    private void moveTo(EventLoop loop) {
        if (stdio.eventLoop() == loop || !stdio.isRegistered()) {
            output.resume();
            return;
        }
        moving = true;
        stdio.deregister()
                .addListener(deregistered -> loop.register(stdio).addListener(registered -> {
                    moving = false;
                    List<String> held = List.copyOf(
                            heldWrites.stream().filter(Objects::nonNull).toList());
                    boolean close = heldWrites.contains(null);
                    heldWrites.clear();
                    held.forEach(this::writeNow);
                    if (close) {
                        closeStdin();
                    }
                    if (!registered.isSuccess()) {
                        // A worker that closed its stdio before it was bound has nothing to move: its exit tells the
                        // rest.
                        (stdio.isOpen() ? keys(log.atWarn()) : keys(log.atDebug()))
                                .log(
                                        "cannot move the worker's stdio to its session's loop: {}",
                                        String.valueOf(registered.cause()));
                        Unwatched.close(stdio);
                        return;
                    }
                    output.resume();
                }));
    }

    /** The length of {@code state} written as JSON, counted without keeping the bytes. */
    private long serializedLength(JsonNode state) {
        long[] count = {0};
        OutputStream counter = new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        };
        try {
            codec.mapper().writeValue(counter, state);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return count[0];
    }

    private void silence() {
        silenced = true;
        onStdioLoop(output::discard);
    }

    // ---- after the worker exited, on the timers thread ----

    private void afterExit(int waitStatus) {
        alive = false;
        WorkerExit status = waitStatus < 0
                ? new WorkerExit(-1, 0, "exit not reported (the spawner went away)")
                : ExitStatus.fromWaitStatus(waitStatus);
        WorkerExit exit = killReason == null
                ? status
                : new WorkerExit(status.code(), status.signal(), killReason + ", " + status.description());
        ready.completeExceptionally(
                new IOException("worker " + describe() + " exited before it was ready: " + exit.description()));
        killer.killLeftovers(exit.description())
                .thenRun(() -> awaitStdout(exit))
                .exceptionally(Unwatched::logFailure);
    }

    /**
     * Waits for stdout to reach its end, so that every event the worker wrote before it died is
     * handed over before the exit is. Gives up after {@link #STDOUT_DRAIN} when the socket is held
     * open by a process outside the tree.
     */
    private void awaitStdout(WorkerExit exit) {
        onStdioLoop(() -> output.paused(false)); // whatever the client's pace, the last lines go now
        Unwatched.whenComplete(
                output.done().orTimeout(STDOUT_DRAIN.toNanos(), TimeUnit.NANOSECONDS), (done, timeout) -> {
                    if (timeout != null) {
                        keys(log.atWarn()).log("stdout still open after the worker exited; no longer read");
                    }
                    Unwatched.close(stdio);
                    Unwatched.close(stderr);
                    timers.execute(() -> finish(exit));
                });
    }

    private void finish(WorkerExit exit) {
        try {
            WorkDirs.deleteRecursively(workDir);
            workDirRemoved = true;
        } catch (IOException | RuntimeException e) {
            keys(log.atWarn()).setCause(e).log("cannot remove working directory {}", workDir);
        }
        if (group == null) {
            report(exit);
            return;
        }
        long oomKills = group.oomKills();
        long peak = group.peakBytes();
        removeGroup(
                oomKills > 0
                        ? new WorkerExit(
                                exit.code(),
                                exit.signal(),
                                "killed by the kernel at its memory limit (" + oomKills + " process(es) of its tree, "
                                        + peak + " bytes at most), " + exit.description(),
                                true,
                                peak)
                        : exit);
    }

    /** Removes the tree's control groups, trying again while the kernel still counts its last processes in them. */
    private void removeGroup(WorkerExit exit) {
        Unwatched.whenComplete(
                group.removeWhenEmpty(timers, GROUP_REMOVE_ATTEMPTS, GROUP_REMOVE_RETRY_MILLIS), (removed, error) -> {
                    if (!Boolean.TRUE.equals(removed)) {
                        keys(log.atWarn()).log("cannot remove control group {}: something is still in it", group);
                    }
                    report(exit);
                });
    }

    private void report(WorkerExit exit) {
        Binding b = binding;
        keys(log.atInfo()).log("worker exited: {}{}", exit.description(), silenced ? " (stopped)" : "");
        if (b != null && !silenced) {
            try {
                b.loop().execute(() -> {
                    if (!silenced) {
                        b.listener().onExit(exit);
                    }
                });
            } catch (RejectedExecutionException e) {
                keys(log.atDebug()).log("session loop gone; exit not reported");
            }
        }
        exited.complete(exit);
    }

    /** What the protocol hands on, on the stdio channel's loop: to stdin, and to the bound session. */
    private final class Peer implements WorkerProtocol.Peer {

        @Override
        public void write(ObjectNode line) {
            ProcessWorker.this.write(line);
        }

        @Override
        public void ready() {
            if (!ready.isDone()) {
                keys(log.atDebug()).log("worker ready");
                ready.complete(null);
            }
        }

        @Override
        public void event(ObjectNode event) {
            WorkerListener listener = listener(event);
            if (listener != null) {
                listener.onEvent(event);
            }
        }

        @Override
        public void checkpoint(JsonNode state) {
            WorkerListener listener = listener(state);
            if (listener == null) {
                return;
            }
            long bytes = serializedLength(state);
            if (bytes > config.maxCheckpointBytes()) {
                sink.problem(
                        CHECKPOINT_TOO_LARGE,
                        "a checkpoint of " + bytes + " bytes is over max_checkpoint_bytes ("
                                + config.maxCheckpointBytes() + "): not kept, the previous one stays");
                return;
            }
            listener.onCheckpoint(state);
        }

        @Override
        public void request(String requestId, JsonNode request) {
            WorkerListener listener = listener(request);
            if (listener != null) {
                listener.onRequest(requestId, request);
            }
        }

        @Override
        public void turnEnded() {
            WorkerListener listener = listener(null);
            if (listener != null) {
                listener.onTurnEnd();
            }
        }

        @Override
        public void problem(String code, String message) {
            sink.problem(code, message);
        }

        /**
         * The bound session's listener, or null when output cannot go anywhere yet (logged) or any
         * more. Output is handed over only on the session's loop, once the stdio channel is there:
         * a line read on the spawner's loop while the worker is being bound (the binding set on the
         * session's loop, the move not done) is output before the session line, and is dropped
         * like any output of an unbound worker, never handed to the session from another thread.
         */
        private WorkerListener listener(JsonNode dropped) {
            if (silenced) {
                return null;
            }
            Binding b = binding;
            if (!ready.isDone() || b == null || !b.loop().inEventLoop() || moving) {
                if (dropped != null && shouldLog()) {
                    keys(log.atInfo())
                            .log(
                                    "output of a worker {} dropped (#{}): {}",
                                    ready.isDone() ? "not yet bound" : "not yet ready",
                                    noisy,
                                    WorkerOutputHandler.excerpt(dropped.toString()));
                }
                return null;
            }
            return b.listener();
        }
    }

    private boolean shouldLog() {
        long n = ++noisy;
        return n <= 20 || n % 1000 == 0;
    }

    /** Takes parsed stdout lines on the stdio channel's loop and hands them to the protocol. */
    private final class Output implements WorkerOutputHandler.Sink {

        @Override
        public boolean accepting() {
            Binding b = binding;
            if (b == null) {
                return !protocol.holdsOutputUntilBound(); // held: the worker blocks on its stdout meanwhile
            }
            return b.loop().inEventLoop() && !moving;
        }

        @Override
        public void object(ObjectNode object) {
            if (!silenced) {
                protocol.output(object);
            }
        }

        @Override
        public void problem(String code, String message) {
            (WorkerOutputHandler.OUTPUT_TRUNCATED.equals(code) ? truncatedLines : protocolErrors).incrementAndGet();
            if (shouldLog()) {
                keys(log.atWarn()).log("{} (#{}): {}", code, noisy, message);
            }
            Binding b = binding;
            if (b != null && !silenced && b.loop().inEventLoop() && !moving) {
                b.listener().onProtocolProblem(code, message);
            }
        }
    }
}
