package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code drain} section: how the gateway stops gracefully (SIGTERM or the admin API).
 * Immutable and thread-safe.
 *
 * @param timeout turns in progress get this long to finish once a drain starts; then workers are
 *     stopped and connections closed with 1001, {@code drain.timeout}
 * @param retryAfter seconds clients are told to wait, in {@code shutting_down.retry_after} and the
 *     {@code Retry-After} of 503 {@code shutting_down}, {@code drain.retry_after}
 */
public record DrainConfig(Duration timeout, Duration retryAfter) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(5);

    public DrainConfig {
        Check.between("drain.timeout", timeout, Duration.ZERO, Duration.ofHours(1));
        Check.between("drain.retry_after", retryAfter, Duration.ofSeconds(1), Duration.ofHours(1));
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static DrainConfig defaults() {
        return new DrainConfig(DEFAULT_TIMEOUT, DEFAULT_RETRY_AFTER);
    }
}
