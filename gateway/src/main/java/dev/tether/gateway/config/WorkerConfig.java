package dev.tether.gateway.config;

import java.util.List;

/**
 * The {@code worker} section: which worker backs each session, and that worker's own settings.
 * Immutable and thread-safe.
 *
 * @param kind the worker implementation, {@code worker.kind}, one of {@link #KINDS}; default
 *     {@value #DEFAULT_KIND}
 * @param echo settings of the built-in echo worker, {@code worker.echo}
 */
public record WorkerConfig(String kind, EchoWorkerConfig echo) {

    /** The built-in worker that answers each prompt with a few deltas and a final message. */
    public static final String KIND_ECHO = "echo";
    public static final List<String> KINDS = List.of(KIND_ECHO);
    public static final String DEFAULT_KIND = KIND_ECHO;

    public WorkerConfig {
        if (!Check.isOneOf(kind, KINDS)) {
            throw new ConfigException("worker.kind", kind, "one of " + KINDS);
        }
        Check.notNull("worker.echo", echo, "a mapping with the echo worker's settings");
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static WorkerConfig defaults() {
        return new WorkerConfig(DEFAULT_KIND, EchoWorkerConfig.defaults());
    }
}
