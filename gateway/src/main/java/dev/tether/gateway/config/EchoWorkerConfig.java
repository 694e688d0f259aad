package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code worker.echo} section: how the built-in echo worker paces its reply. Immutable and
 * thread-safe.
 *
 * @param deltas streamed deltas before the final message, {@code worker.echo.deltas}, 1..1000; default 3
 * @param deltaInterval pause between deltas, {@code worker.echo.delta_interval}, 0..10s; default 20ms
 */
public record EchoWorkerConfig(int deltas, Duration deltaInterval) {

    public static final int DEFAULT_DELTAS = 3;
    public static final int MIN_DELTAS = 1;
    public static final int MAX_DELTAS = 1000;
    public static final Duration DEFAULT_DELTA_INTERVAL = Duration.ofMillis(20);
    public static final Duration MAX_DELTA_INTERVAL = Duration.ofSeconds(10);

    public EchoWorkerConfig {
        Check.between("worker.echo.deltas", deltas, MIN_DELTAS, MAX_DELTAS);
        Check.between("worker.echo.delta_interval", deltaInterval, Duration.ZERO, MAX_DELTA_INTERVAL);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static EchoWorkerConfig defaults() {
        return new EchoWorkerConfig(DEFAULT_DELTAS, DEFAULT_DELTA_INTERVAL);
    }
}
