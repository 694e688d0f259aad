package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.worker.pool.WorkerLauncher;
import dev.tether.protocol.WireCodec;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts {@link ProcessWorker}s from the {@code worker.process} config: resolves the command once
 * ({@code ${java}}, {@code ${classpath}}), then gives every worker a fresh working directory under
 * {@code work_root} and a clean environment (only {@code env_allow} variables taken from the
 * gateway's environment, then {@code env}, then {@code TETHER_WORK_DIR}), and has the gateway's
 * {@link Spawner} start it.
 *
 * <p>The spawner runs every worker in a new session and process group whose id is its pid: its
 * whole tree can be found and signalled, even after its descendants are orphaned, without ever
 * touching the gateway's own group.
 *
 * <p>Every launch is put on the gateway's {@link WorkerLedger} before its working directory is made
 * and stays there until the worker's exit has been handled, so a shutdown can wait for (and at
 * worst kill) every process the gateway started; once the ledger is closed, launches fail.
 *
 * <p>Thread-safe. {@link #launch()} makes a directory and returns without waiting for the spawner:
 * call it from the pool's thread, never on an event loop. Launches overlap, so the helper forks the
 * next worker while the previous one is still connecting back.
 */
public final class ProcessWorkerLauncher implements WorkerLauncher {

    /** Names the worker's working directory in its environment. */
    public static final String WORK_DIR_VARIABLE = "TETHER_WORK_DIR";
    /** Longest wait for the spawner to start a worker (fork, connect back, exec). */
    static final Duration SPAWN_TIMEOUT = Duration.ofSeconds(30);
    /** How often a resumed worker looks whether its previous worker's directory is gone. */
    static final long CLAIM_RETRY_MILLIS = 50;

    private static final Logger log = LoggerFactory.getLogger(ProcessWorkerLauncher.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ProcessWorkerConfig config;
    private final ScheduledExecutorService timers;
    private final Spawner spawner;
    private final WorkerLedger ledger;
    /** Where each worker tree gets its control groups; null when limits are polled. */
    private final ControlGroups groups;

    private final List<String> command;
    private final WireCodec codec = new WireCodec();

    /**
     * @param timers runs the stop sequence, /proc scans, signals and clean-up; must not be an event
     *     loop (those do file I/O)
     * @param spawner starts the processes; the gateway's one
     * @param ledger the gateway's ledger of live workers, shared by all its launchers
     */
    public ProcessWorkerLauncher(
            ProcessWorkerConfig config, ScheduledExecutorService timers, Spawner spawner, WorkerLedger ledger) {
        this(config, timers, spawner, ledger, null);
    }

    /**
     * @param groups where each worker tree gets its own control groups ({@link ControlGroups#choose}),
     *     or null: {@code limits.rss_hard_limit} is then only polled
     */
    public ProcessWorkerLauncher(
            ProcessWorkerConfig config,
            ScheduledExecutorService timers,
            Spawner spawner,
            WorkerLedger ledger,
            ControlGroups groups) {
        this.groups = groups;
        this.config = requireNonNull(config, "config");
        this.timers = requireNonNull(timers, "timers");
        this.spawner = requireNonNull(spawner, "spawner");
        this.ledger = requireNonNull(ledger, "ledger");
        List<String> resolved = new ArrayList<>();
        String java = javaExecutable();
        String classpath = absoluteClasspath(System.getProperty("java.class.path", ""));
        for (String argument : config.command()) {
            resolved.add(argument.replace(ProcessWorkerConfig.JAVA_PLACEHOLDER, java)
                    .replace(ProcessWorkerConfig.CLASSPATH_PLACEHOLDER, classpath));
        }
        this.command = List.copyOf(resolved);
    }

    /**
     * The class path with every entry made absolute: workers run in their own working directory,
     * where a relative entry such as {@code gateway/target/gateway.jar} would name nothing.
     */
    static String absoluteClasspath(String classpath) {
        if (classpath.isEmpty()) {
            return classpath;
        }
        List<String> entries = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator, -1)) {
            entries.add(
                    entry.isEmpty()
                            ? entry
                            : Path.of(entry).toAbsolutePath().normalize().toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    /** The command every worker runs, placeholders replaced. */
    public List<String> command() {
        return command;
    }

    /**
     * Starts one worker: makes its working directory and asks the spawner for the process, without
     * waiting for it. The stage completes with the worker (not ready yet: wait for
     * {@link ProcessWorker#ready()}) once its process runs and its connections are here, on
     * {@code timers}; or exceptionally when it cannot be started or is not started within
     * {@link #SPAWN_TIMEOUT}. A process that arrives after that timeout is killed (its exit removes
     * its working directory), so a slow spawn never leaves a worker nobody owns.
     *
     * @throws IOException at once when the working directory cannot be made, the ledger is closed
     *     (the gateway is shutting down), or the spawner refuses the request (the directory is
     *     removed again)
     */
    @Override
    public CompletionStage<ProcessWorker> launch() throws IOException {
        return launch(null);
    }

    /** Whether {@code worker.process.protocol} resumes a session only in a worker started for it (Claude Code's {@code --resume}). */
    @Override
    public boolean startsFrom(JsonNode resume) {
        return startsFrom(resume, false);
    }

    @Override
    public boolean startsFrom(JsonNode resume, boolean fork) {
        return !WorkerProtocols.startArguments(config, resume, fork).isEmpty();
    }

    /**
     * Like {@link #launch()}, for a session continuing from checkpoint {@code resume}: the command
     * gets the arguments the protocol resumes with (none for most), and the worker knows what it
     * was started for.
     */
    @Override
    public CompletionStage<ProcessWorker> launch(JsonNode resume) throws IOException {
        return launch(resume, false);
    }

    /**
     * Like {@link #launch(JsonNode)}; with {@code fork}, for a fork of the session {@code resume}
     * belongs to (contract 1.2, 8.2): the protocol's fork arguments, in a fresh directory (the
     * forked session's worker still runs in its own).
     */
    @Override
    public CompletionStage<ProcessWorker> launch(JsonNode resume, boolean fork) throws IOException {
        List<String> command = new ArrayList<>(this.command);
        command.addAll(WorkerProtocols.startArguments(config, resume, fork));
        WorkerLedger.Entry entry = ledger.reserve();
        Path previous = fork ? null : WorkerProtocols.startDirectory(config, resume);
        if (previous != null) {
            CompletableFuture<ProcessWorker> started = new CompletableFuture<>();
            claim(previous, System.nanoTime() + SPAWN_TIMEOUT.toNanos(), command, resume, entry, started);
            return started;
        }
        Path workDir;
        try {
            workDir = WorkDirs.create(config.workRoot());
        } catch (IOException | RuntimeException | Error e) {
            entry.abandoned();
            throw e;
        }
        return spawnIn(workDir, command, resume, fork, entry);
    }

    /**
     * Starts the worker in {@code dir}, the directory a previous worker of the session ran in (an
     * agent CLI keeps its conversations by working directory), once that worker's clean-up has
     * removed it: tried again every {@value #CLAIM_RETRY_MILLIS} ms on {@code timers}, never
     * blocking, for at most {@link #SPAWN_TIMEOUT}.
     */
    private void claim(
            Path dir,
            long deadline,
            List<String> command,
            JsonNode resume,
            WorkerLedger.Entry entry,
            CompletableFuture<ProcessWorker> started) {
        try {
            if (WorkDirs.createExactly(dir)) {
                spawnIn(dir, command, resume, false, entry).whenComplete((worker, error) -> {
                    if (error != null) {
                        started.completeExceptionally(error);
                    } else {
                        started.complete(worker);
                    }
                });
                return;
            }
        } catch (IOException | RuntimeException e) {
            entry.abandoned();
            started.completeExceptionally(
                    new IOException("cannot start worker " + command + " in " + dir + ": " + e.getMessage(), e));
            return;
        }
        if (System.nanoTime() - deadline > 0) {
            entry.abandoned();
            started.completeExceptionally(new IOException("cannot start worker " + command + ": the working directory "
                    + dir + " of the session's previous worker is still there after " + SPAWN_TIMEOUT));
            return;
        }
        Unwatched.schedule(
                timers,
                () -> claim(dir, deadline, command, resume, entry, started),
                CLAIM_RETRY_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    private CompletionStage<ProcessWorker> spawnIn(
            Path workDir, List<String> command, JsonNode resume, boolean fork, WorkerLedger.Entry entry)
            throws IOException {
        ControlGroups.ControlGroup group = null;
        CompletionStage<SpawnedProcess> spawning;
        try {
            if (groups != null) {
                group = groups.create(Long.toHexString(RANDOM.nextLong()), config.maxProcesses());
            }
            List<String> limits = SpawnLimits.of(config, group, groups != null && groups.limitsProcesses());
            spawning = spawner.spawn(command, environment(workDir), workDir, limits);
        } catch (IOException | RuntimeException | Error e) {
            entry.abandoned();
            throw cannotStart(workDir, group, e);
        }
        ControlGroups.ControlGroup workerGroup = group;
        CompletableFuture<ProcessWorker> started = new CompletableFuture<>();
        ScheduledFuture<?> timeout = timers.schedule(
                () -> started.completeExceptionally(
                        new IOException("cannot start worker " + command + ": not started within " + SPAWN_TIMEOUT)),
                SPAWN_TIMEOUT.toNanos(),
                TimeUnit.NANOSECONDS);
        spawning.whenCompleteAsync(
                (process, error) -> { // on timers: a failure removes the directory
                    timeout.cancel(false);
                    if (error != null) {
                        entry.abandoned();
                        started.completeExceptionally(cannotStart(workDir, workerGroup, error));
                        return;
                    }
                    ProcessWorker worker =
                            new ProcessWorker(config, timers, process, workDir, codec, resume, fork, workerGroup);
                    entry.started(worker);
                    log.atDebug().addKeyValue("worker", process.pid()).log("worker started in {}", workDir);
                    if (!started.complete(worker)) {
                        log.warn("worker {} started after its launch had timed out: killing it", process.pid());
                        worker.kill();
                    }
                },
                timers);
        return started;
    }

    private Map<String, String> environment(Path workDir) {
        Map<String, String> env = new LinkedHashMap<>();
        Map<String, String> ours = System.getenv();
        for (String name : config.envAllow()) {
            String value = ours.get(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        env.putAll(config.env());
        env.put(WORK_DIR_VARIABLE, workDir.toString());
        return env;
    }

    private IOException cannotStart(Path workDir, ControlGroups.ControlGroup group, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        IOException failure = new IOException("cannot start worker " + command + ": " + cause.getMessage(), cause);
        if (group != null) {
            // A child that joined the group and then failed may not have exited yet.
            Unwatched.whenComplete(
                    group.removeWhenEmpty(
                            timers, ProcessWorker.GROUP_REMOVE_ATTEMPTS, ProcessWorker.GROUP_REMOVE_RETRY_MILLIS),
                    (removed, failed) -> {
                        if (!Boolean.TRUE.equals(removed)) {
                            log.warn("cannot remove control group {} of a worker that did not start", group);
                        }
                    });
        }
        try {
            WorkDirs.deleteRecursively(workDir);
        } catch (IOException suppressed) {
            failure.addSuppressed(suppressed);
        }
        return failure;
    }

    static String javaExecutable() {
        Optional<String> running = ProcessHandle.current().info().command();
        if (running.isPresent() && Files.isExecutable(Path.of(running.get()))) {
            return running.get();
        }
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
