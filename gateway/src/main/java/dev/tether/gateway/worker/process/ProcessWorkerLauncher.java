package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.protocol.WireCodec;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts {@link ProcessWorker}s from the {@code worker.process} config: resolves the command once
 * ({@code ${java}}, {@code ${classpath}}, the {@code setsid} prefix), then gives every worker a
 * fresh working directory under {@code work_root} and a clean environment (only {@code env_allow}
 * variables taken from the gateway's environment, then {@code env}, then
 * {@code TETHER_WORK_DIR}).
 *
 * <p>The worker runs under {@code setsid}, so it leads a new session and process group whose id is
 * its pid: its whole tree can be found and signalled, even after its descendants are orphaned,
 * without ever touching the gateway's own group.
 *
 * <p>Every launch is put on the gateway's {@link WorkerLedger} before its working directory is made
 * and stays there until the worker's exit has been handled, so a shutdown can wait for (and at
 * worst kill) every process the gateway started; once the ledger is closed, launches fail.
 *
 * <p>Thread-safe. {@link #launch()} blocks briefly (directory creation, fork and exec): call it from
 * the pool's thread, never on an event loop.
 */
public final class ProcessWorkerLauncher {

    /** Names the worker's working directory in its environment. */
    public static final String WORK_DIR_VARIABLE = "TETHER_WORK_DIR";

    private static final Logger log = LoggerFactory.getLogger(ProcessWorkerLauncher.class);
    private static final List<String> SETSID_LOCATIONS = List.of("/usr/bin/setsid", "/bin/setsid");

    private final ProcessWorkerConfig config;
    private final ScheduledExecutorService timers;
    private final WorkerLedger ledger;
    private final List<String> command;
    private final WireCodec codec = new WireCodec();

    /**
     * A launcher with a ledger of its own (for tools and tests that start workers directly).
     *
     * @see #ProcessWorkerLauncher(ProcessWorkerConfig, ScheduledExecutorService, WorkerLedger)
     */
    public ProcessWorkerLauncher(ProcessWorkerConfig config, ScheduledExecutorService timers) {
        this(config, timers, new WorkerLedger());
    }

    /**
     * @param timers runs the stop sequence, /proc scans, signals and clean-up; must not be an event
     *     loop (those do file I/O)
     * @param ledger the gateway's ledger of live workers, shared by all its launchers
     * @throws IllegalStateException when {@code setsid} (util-linux) cannot be found
     */
    public ProcessWorkerLauncher(ProcessWorkerConfig config, ScheduledExecutorService timers, WorkerLedger ledger) {
        this.config = requireNonNull(config, "config");
        this.timers = requireNonNull(timers, "timers");
        this.ledger = requireNonNull(ledger, "ledger");
        List<String> resolved = new ArrayList<>();
        resolved.add(setsid().orElseThrow(() -> new IllegalStateException(
                "setsid not found in /usr/bin, /bin or PATH: subprocess workers need it (util-linux) to run "
                        + "in a process group of their own")));
        String java = javaExecutable();
        String classpath = absoluteClasspath(System.getProperty("java.class.path", ""));
        for (String argument : config.command()) {
            resolved.add(argument.replace(ProcessWorkerConfig.JAVA_PLACEHOLDER, java)
                    .replace(ProcessWorkerConfig.CLASSPATH_PLACEHOLDER, classpath));
        }
        this.command = List.copyOf(resolved);
    }

    /** The command every worker runs, placeholders replaced, {@code setsid} first. */
    /**
     * The class path with every entry made absolute: workers run in their own working directory,
     * where a relative entry such as {@code gateway/target/gateway.jar} would name nothing.
     */
    static String absoluteClasspath(String classpath) {
        if (classpath.isEmpty()) {
            return classpath;
        }
        List<String> entries = new ArrayList<>();
        for (String entry : classpath.split(java.io.File.pathSeparator, -1)) {
            entries.add(entry.isEmpty() ? entry : java.nio.file.Path.of(entry).toAbsolutePath().normalize().toString());
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    public List<String> command() {
        return command;
    }

    /**
     * Starts one worker. It is not ready yet: wait for {@link ProcessWorker#ready()}.
     *
     * @throws IOException when the working directory cannot be made or the program cannot be
     *     started, or the ledger is closed (the gateway is shutting down)
     */
    public ProcessWorker launch() throws IOException {
        WorkerLedger.Entry entry = ledger.reserve();
        ProcessWorker worker;
        try {
            worker = start();
        } catch (IOException | RuntimeException | Error e) {
            entry.abandoned();
            throw e;
        }
        entry.started(worker);
        return worker;
    }

    private ProcessWorker start() throws IOException {
        Path workDir = WorkDirs.create(config.workRoot());
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        Map<String, String> env = builder.environment();
        env.clear();
        Map<String, String> ours = System.getenv();
        for (String name : config.envAllow()) {
            String value = ours.get(name);
            if (value != null) {
                env.put(name, value);
            }
        }
        env.putAll(config.env());
        env.put(WORK_DIR_VARIABLE, workDir.toString());
        Process process;
        try {
            process = builder.start();
        } catch (IOException | RuntimeException e) {
            try {
                WorkDirs.deleteRecursively(workDir);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IOException("cannot start worker " + command + ": " + e.getMessage(), e);
        }
        log.atDebug().addKeyValue("worker", process.pid()).log("worker started in {}", workDir);
        try {
            return new ProcessWorker(config, timers, process, workDir, codec);
        } catch (RuntimeException | Error e) {
            // Without its ProcessWorker nothing would ever stop the process or remove its directory.
            process.destroyForcibly();
            try {
                WorkDirs.deleteRecursively(workDir);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    static String javaExecutable() {
        Optional<String> running = ProcessHandle.current().info().command();
        if (running.isPresent() && Files.isExecutable(Path.of(running.get()))) {
            return running.get();
        }
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static Optional<String> setsid() {
        List<String> candidates = new ArrayList<>(SETSID_LOCATIONS);
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "setsid").toString());
                }
            }
        }
        return candidates.stream().filter(c -> Files.isExecutable(Path.of(c))).findFirst();
    }
}
