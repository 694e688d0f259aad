package dev.tether.gateway.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The {@code worker.process} section: how subprocess workers are started, fed and stopped.
 * Immutable and thread-safe.
 *
 * <p>In {@code command}, {@code ${java}} stands for the {@code java} executable running the gateway
 * and {@code ${classpath}} for the gateway's own class path, so the bundled demo worker runs
 * without any path in the config; both are replaced when a worker starts.
 *
 * @param command program and arguments, {@code worker.process.command}; non-empty
 * @param envAllow variables passed through from the gateway's environment, {@code worker.process.env_allow}
 * @param env variables set explicitly for every worker, {@code worker.process.env}
 * @param workRoot directory under which each session's worker gets its own working directory,
 *     removed when the session ends, {@code worker.process.work_root}
 * @param maxLineBytes longest output line read from a worker; the rest of a longer line is dropped
 *     and the client gets notice {@code output_truncated}, {@code worker.process.max_line_bytes}
 * @param maxPendingEvents output lines handled in one turn of the session's event loop; the rest
 *     waits for the next turn, the worker's stdout unread meanwhile (it blocks on its socket),
 *     {@code worker.process.max_pending_events}
 * @param stopGrace time a worker has to exit after the {@code shutdown} line before SIGTERM,
 *     {@code worker.process.stop_grace}
 * @param killGrace time after SIGTERM before SIGKILL, {@code worker.process.kill_grace}
 * @param maxCheckpointBytes largest worker checkpoint kept (its {@code state}, as JSON); a larger one
 *     is refused with notice {@code checkpoint_too_large} and the previous one kept,
 *     {@code worker.process.max_checkpoint_bytes}
 * @param protocol what the worker's stdin and stdout mean, {@code worker.process.protocol}: one of
 *     {@link #PROTOCOLS} (docs/workers.md)
 * @param oomScoreAdj every worker's {@code /proc/<pid>/oom_score_adj}, set before its program
 *     starts: above the gateway's, the kernel's OOM killer takes a worker first,
 *     {@code worker.process.oom_score_adj}
 * @param maxOpenFiles {@code RLIMIT_NOFILE} of every worker process, {@code worker.process.max_open_files}
 * @param maxProcesses processes and threads of one worker's tree: the group's {@code pids.max} with
 *     control groups, else {@code RLIMIT_NPROC} (per user, not enforced for root); 0 = no limit,
 *     {@code worker.process.max_processes}
 * @param maxFileSize {@code RLIMIT_FSIZE}, the largest file a worker may write; 0 = no limit,
 *     {@code worker.process.max_file_size}
 * @param maxCpuTime {@code RLIMIT_CPU} of every worker process, whole seconds; 0 = no limit,
 *     {@code worker.process.max_cpu_time}
 * @param coreDumps whether a crashing worker may write a core dump (false: {@code RLIMIT_CORE} 0),
 *     {@code worker.process.core_dumps}
 * @param limitEnforcement how {@code limits.rss_hard_limit} and {@code max_processes} are enforced,
 *     {@code worker.process.limit_enforcement}: one of {@link #LIMIT_ENFORCEMENTS}
 * @param diskSoftLimit a worker's working directory over it: notice {@code disk_warning}, once per
 *     worker; 0 = off, {@code worker.process.disk_soft_limit}
 * @param diskHardLimit over it: notice {@code disk_limit}, the worker killed and replaced (counts
 *     against {@code limits.max_restarts}); 0 = off, {@code worker.process.disk_hard_limit}
 * @param diskPollInterval how often each worker's directory is measured a step further,
 *     {@code worker.process.disk_poll_interval}
 * @param diskScanEntries directory entries one step visits per worker; a larger directory takes
 *     several steps to measure, {@code worker.process.disk_scan_entries}
 */
public record ProcessWorkerConfig(
        List<String> command,
        List<String> envAllow,
        Map<String, String> env,
        Path workRoot,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int maxLineBytes,

        int maxPendingEvents,
        Duration stopGrace,
        Duration killGrace,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int maxCheckpointBytes,

        String protocol,
        int oomScoreAdj,
        int maxOpenFiles,
        int maxProcesses,

        @JsonDeserialize(using = ConfigMapper.LongByteSizeDeserializer.class)
        long maxFileSize,

        Duration maxCpuTime,
        boolean coreDumps,
        String limitEnforcement,

        @JsonDeserialize(using = ConfigMapper.LongByteSizeDeserializer.class)
        long diskSoftLimit,

        @JsonDeserialize(using = ConfigMapper.LongByteSizeDeserializer.class)
        long diskHardLimit,

        Duration diskPollInterval,
        int diskScanEntries) {

    /** Replaced by the path of the {@code java} executable running the gateway. */
    public static final String JAVA_PLACEHOLDER = "${java}";
    /** Replaced by the gateway's class path (its jar when run with {@code java -jar}). */
    public static final String CLASSPATH_PLACEHOLDER = "${classpath}";

    public static final List<String> DEFAULT_COMMAND = List.of(
            JAVA_PLACEHOLDER,
            "-Xms16m",
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xss512k",
            "-cp",
            CLASSPATH_PLACEHOLDER,
            "dev.tether.demo.DemoWorker");
    public static final List<String> DEFAULT_ENV_ALLOW = List.of("PATH", "LANG", "LC_ALL", "TZ");
    public static final Map<String, String> DEFAULT_ENV = Map.of("DEMO_READY_DELAY", "1s");
    public static final Path DEFAULT_WORK_ROOT = Path.of("/tmp/tether-sessions");
    public static final int DEFAULT_MAX_LINE_BYTES = (int) ByteSizes.MIB;
    public static final int MIN_MAX_LINE_BYTES = (int) ByteSizes.KIB;
    public static final int MAX_MAX_LINE_BYTES = (int) (64 * ByteSizes.MIB);
    public static final int DEFAULT_MAX_PENDING_EVENTS = 32;
    public static final int MAX_MAX_PENDING_EVENTS = 1_000_000;
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(5);
    public static final Duration DEFAULT_KILL_GRACE = Duration.ofSeconds(2);
    public static final Duration MAX_GRACE = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_CHECKPOINT_BYTES = (int) (64 * ByteSizes.KIB);
    public static final int MIN_MAX_CHECKPOINT_BYTES = 64;
    /** Tether's own worker protocol (contract section 5). */
    public static final String TETHER = "tether";
    /** Any line program, as websocketd runs it: stdout lines are events, messages are stdin lines, no turns. */
    public static final String LINES = "lines";
    /** Claude Code's CLI in its stream-json mode. */
    public static final String CLAUDE_STREAM_JSON = "claude-stream-json";
    /** Codex's app-server (JSON-RPC over stdio). */
    public static final String CODEX_APP_SERVER = "codex-app-server";
    /** The values {@code worker.process.protocol} takes. */
    public static final List<String> PROTOCOLS = List.of(TETHER, LINES, CLAUDE_STREAM_JSON, CODEX_APP_SERVER);

    public static final int DEFAULT_OOM_SCORE_ADJ = 500;
    public static final int DEFAULT_MAX_OPEN_FILES = 4096;
    public static final int MIN_MAX_OPEN_FILES = 64;
    public static final int MAX_MAX_OPEN_FILES = 1 << 20;
    public static final int DEFAULT_MAX_PROCESSES = 1024;
    public static final int MIN_MAX_PROCESSES = 8;
    public static final int MAX_MAX_PROCESSES = 4_194_304;
    public static final long DEFAULT_MAX_FILE_SIZE = ByteSizes.GIB;
    public static final long MIN_MAX_FILE_SIZE = ByteSizes.MIB;
    public static final Duration DEFAULT_MAX_CPU_TIME = Duration.ZERO;
    /** Control groups where the gateway can make them, else polling (the default). */
    public static final String AUTO = "auto";
    /** Control groups, or the gateway does not start. */
    public static final String CGROUP = "cgroup";
    /** Polling only: {@code limits.rss_hard_limit} by the RSS sampler, {@code max_processes} by {@code RLIMIT_NPROC}. */
    public static final String POLL = "poll";
    /** The values {@code worker.process.limit_enforcement} takes. */
    public static final List<String> LIMIT_ENFORCEMENTS = List.of(AUTO, CGROUP, POLL);

    public static final long DEFAULT_DISK_SOFT_LIMIT = ByteSizes.GIB;
    public static final long DEFAULT_DISK_HARD_LIMIT = 2 * ByteSizes.GIB;
    public static final Duration DEFAULT_DISK_POLL_INTERVAL = Duration.ofSeconds(10);
    public static final int DEFAULT_DISK_SCAN_ENTRIES = 10_000;
    public static final int MIN_DISK_SCAN_ENTRIES = 16;
    public static final int MAX_DISK_SCAN_ENTRIES = 1_000_000;

    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * Variables a worker must never get, allowed or explicit: they make the dynamic loader or the JVM
     * load code the worker did not ask for.
     */
    public static boolean dangerous(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return upper.startsWith("LD_")
                || upper.startsWith("DYLD_")
                || upper.equals("JAVA_TOOL_OPTIONS")
                || upper.equals("_JAVA_OPTIONS")
                || upper.equals("JDK_JAVA_OPTIONS")
                || upper.equals("JAVA_OPTIONS")
                || upper.equals("CLASSPATH")
                || upper.equals("NODE_OPTIONS")
                || upper.equals("PYTHONSTARTUP")
                || upper.equals("PYTHONPATH")
                || upper.equals("PERL5OPT")
                || upper.equals("RUBYOPT")
                || upper.equals("BASH_ENV")
                || upper.equals("ENV")
                || upper.equals("PROMPT_COMMAND")
                || upper.equals("IFS")
                || upper.equals("GCONV_PATH")
                || upper.equals("MALLOC_CHECK_")
                || upper.startsWith("TETHER_");
    }

    public ProcessWorkerConfig {
        String key = "worker.process";
        if (command == null || command.isEmpty() || command.stream().anyMatch(a -> a == null || a.isEmpty())) {
            throw new ConfigException(key + ".command", command, "a non-empty list of non-empty strings");
        }
        if (command.stream().anyMatch(a -> a.indexOf('\0') >= 0)) {
            throw new ConfigException(
                    key + ".command",
                    "an argument with a NUL character",
                    "arguments without NUL characters (a process cannot receive them)");
        }
        command = List.copyOf(command);
        envAllow = envAllow == null ? List.of() : List.copyOf(envAllow);
        for (int i = 0; i < envAllow.size(); i++) {
            checkVariable(key + ".env_allow[" + i + "]", envAllow.get(i));
        }
        env = env == null ? Map.of() : Map.copyOf(env);
        for (Map.Entry<String, String> variable : new TreeMap<>(env).entrySet()) {
            checkVariable(key + ".env." + variable.getKey(), variable.getKey());
            Check.notNull(key + ".env." + variable.getKey(), variable.getValue(), "a string");
            if (variable.getValue().indexOf('\0') >= 0) {
                throw new ConfigException(
                        key + ".env." + variable.getKey(),
                        "a value with a NUL character",
                        "a value without NUL characters (a process cannot receive them)");
            }
        }
        Check.notNull(key + ".work_root", workRoot, "a directory path");
        Check.bytesBetween(key + ".max_line_bytes", maxLineBytes, MIN_MAX_LINE_BYTES, MAX_MAX_LINE_BYTES);
        Check.between(key + ".max_pending_events", maxPendingEvents, 1, MAX_MAX_PENDING_EVENTS);
        Check.between(key + ".stop_grace", stopGrace, Duration.ZERO, MAX_GRACE);
        Check.between(key + ".kill_grace", killGrace, Duration.ZERO, MAX_GRACE);
        Check.bytesBetween(
                key + ".max_checkpoint_bytes", maxCheckpointBytes, MIN_MAX_CHECKPOINT_BYTES, MAX_MAX_LINE_BYTES);
        protocol = protocol == null ? TETHER : protocol;
        if (!PROTOCOLS.contains(protocol)) {
            throw new ConfigException(key + ".protocol", protocol, "one of " + String.join(", ", PROTOCOLS));
        }
        Check.between(key + ".oom_score_adj", oomScoreAdj, -1000, 1000);
        Check.between(key + ".max_open_files", maxOpenFiles, MIN_MAX_OPEN_FILES, MAX_MAX_OPEN_FILES);
        if (maxProcesses != 0) {
            Check.between(key + ".max_processes", maxProcesses, MIN_MAX_PROCESSES, MAX_MAX_PROCESSES);
        }
        if (maxFileSize != 0) {
            Check.bytesAtLeast(key + ".max_file_size", maxFileSize, MIN_MAX_FILE_SIZE);
        }
        maxCpuTime = maxCpuTime == null ? DEFAULT_MAX_CPU_TIME : maxCpuTime;
        Check.between(key + ".max_cpu_time", maxCpuTime, Duration.ZERO, Duration.ofDays(365));
        if (maxCpuTime.toNanos() % 1_000_000_000L != 0) {
            throw new ConfigException(
                    key + ".max_cpu_time", maxCpuTime, "whole seconds (RLIMIT_CPU counts seconds), or 0 for no limit");
        }
        limitEnforcement = limitEnforcement == null ? AUTO : limitEnforcement;
        if (!LIMIT_ENFORCEMENTS.contains(limitEnforcement)) {
            throw new ConfigException(
                    key + ".limit_enforcement", limitEnforcement, "one of " + String.join(", ", LIMIT_ENFORCEMENTS));
        }
        checkDiskLimit(key + ".disk_soft_limit", diskSoftLimit);
        checkDiskLimit(key + ".disk_hard_limit", diskHardLimit);
        if (diskSoftLimit > 0 && diskHardLimit > 0 && diskHardLimit < diskSoftLimit) {
            throw new ConfigException(
                    key + ".disk_hard_limit",
                    ByteSizes.format(diskHardLimit),
                    "0 (off) or >= worker.process.disk_soft_limit (" + ByteSizes.format(diskSoftLimit) + ")");
        }
        diskPollInterval = diskPollInterval == null ? DEFAULT_DISK_POLL_INTERVAL : diskPollInterval;
        Check.between(key + ".disk_poll_interval", diskPollInterval, Duration.ofMillis(10), Duration.ofHours(1));
        Check.between(key + ".disk_scan_entries", diskScanEntries, MIN_DISK_SCAN_ENTRIES, MAX_DISK_SCAN_ENTRIES);
    }

    /** Whether either disk limit is on: only then are working directories measured. */
    public boolean diskLimited() {
        return diskSoftLimit > 0 || diskHardLimit > 0;
    }

    private static void checkDiskLimit(String key, long bytes) {
        if (bytes != 0 && bytes < ByteSizes.MIB) {
            throw new ConfigException(key, ByteSizes.format(bytes), "0 (off) or at least 1MiB");
        }
    }

    /**
     * A worker speaking Tether's own protocol, with the default kernel-enforced and disk limits (as
     * {@link #defaults()} has them).
     */
    public ProcessWorkerConfig(
            List<String> command,
            List<String> envAllow,
            Map<String, String> env,
            Path workRoot,
            int maxLineBytes,
            int maxPendingEvents,
            Duration stopGrace,
            Duration killGrace,
            int maxCheckpointBytes) {
        this(
                command,
                envAllow,
                env,
                workRoot,
                maxLineBytes,
                maxPendingEvents,
                stopGrace,
                killGrace,
                maxCheckpointBytes,
                TETHER,
                DEFAULT_OOM_SCORE_ADJ,
                DEFAULT_MAX_OPEN_FILES,
                DEFAULT_MAX_PROCESSES,
                DEFAULT_MAX_FILE_SIZE,
                DEFAULT_MAX_CPU_TIME,
                false,
                AUTO,
                DEFAULT_DISK_SOFT_LIMIT,
                DEFAULT_DISK_HARD_LIMIT,
                DEFAULT_DISK_POLL_INTERVAL,
                DEFAULT_DISK_SCAN_ENTRIES);
    }

    private static void checkVariable(String key, String name) {
        if (name == null || !VARIABLE_NAME.matcher(name).matches()) {
            throw new ConfigException(key, name, "an environment variable name");
        }
        if (dangerous(name)) {
            throw new ConfigException(
                    key,
                    name,
                    "a variable that cannot inject code (LD_*, DYLD_*, JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, "
                            + "JDK_JAVA_OPTIONS, CLASSPATH, NODE_OPTIONS, PYTHONPATH, BASH_ENV, TETHER_* ... are refused)");
        }
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}: the bundled demo worker. */
    public static ProcessWorkerConfig defaults() {
        return new ProcessWorkerConfig(
                DEFAULT_COMMAND,
                DEFAULT_ENV_ALLOW,
                DEFAULT_ENV,
                DEFAULT_WORK_ROOT,
                DEFAULT_MAX_LINE_BYTES,
                DEFAULT_MAX_PENDING_EVENTS,
                DEFAULT_STOP_GRACE,
                DEFAULT_KILL_GRACE,
                DEFAULT_MAX_CHECKPOINT_BYTES);
    }
}
