package dev.tether.gateway.config;

import java.util.List;

/**
 * The {@code worker} section: which worker backs each session, and that worker's own settings.
 * Immutable and thread-safe.
 *
 * @param kind the worker implementation, {@code worker.kind}, one of {@link #KINDS}; default
 *     {@value #DEFAULT_KIND}
 * @param echo settings of the built-in echo worker, {@code worker.echo}
 * @param process settings of subprocess workers, {@code worker.process}
 */
public record WorkerConfig(String kind, EchoWorkerConfig echo, ProcessWorkerConfig process) {

    /** The built-in in-process worker that answers each prompt with a few deltas and a final message. */
    public static final String KIND_ECHO = "echo";
    /** One subprocess per session, from the pre-warmed pool, speaking JSON lines (docs/workers.md). */
    public static final String KIND_PROCESS = "process";

    public static final List<String> KINDS = List.of(KIND_ECHO, KIND_PROCESS);
    public static final String DEFAULT_KIND = KIND_PROCESS;

    public WorkerConfig {
        if (!Check.isOneOf(kind, KINDS)) {
            throw new ConfigException("worker.kind", kind, "one of " + KINDS);
        }
        Check.notNull("worker.echo", echo, "a mapping with the echo worker's settings");
        Check.notNull("worker.process", process, "a mapping with the subprocess workers' settings");
    }

    /** Whether sessions get subprocess workers from the pool. */
    public boolean usesProcesses() {
        return KIND_PROCESS.equals(kind);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static WorkerConfig defaults() {
        return new WorkerConfig(DEFAULT_KIND, EchoWorkerConfig.defaults(), ProcessWorkerConfig.defaults());
    }
}
