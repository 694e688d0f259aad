package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code pool} section: the pre-warmed pool of subprocess workers. Immutable and thread-safe.
 *
 * @param minIdle warm workers kept ready for new sessions, {@code pool.min_idle}
 * @param maxWorkers live workers at most (warm, starting and in sessions), {@code pool.max_workers}
 * @param spawnInterval least time between two background spawns, {@code pool.spawn_interval}
 * @param initTimeout time a worker has to say {@code ready}, {@code pool.init_timeout}
 * @param backoffInitial delay before the next spawn after a failed one, doubled per consecutive
 *     failure, {@code pool.backoff_initial}
 * @param backoffMax the longest such delay, {@code pool.backoff_max}
 * @param breakerFailures consecutive spawn failures that open the circuit breaker, {@code pool.breaker_failures}
 * @param breakerCooldown how long an open breaker pauses spawning before one trial spawn,
 *     {@code pool.breaker_cooldown}
 * @param requireWarmOnStart fail start-up unless a worker becomes warm within
 *     {@code warm_start_timeout}, {@code pool.require_warm_on_start}
 * @param warmStartTimeout see {@code requireWarmOnStart}, {@code pool.warm_start_timeout}
 */
public record PoolConfig(
        int minIdle,
        int maxWorkers,
        Duration spawnInterval,
        Duration initTimeout,
        Duration backoffInitial,
        Duration backoffMax,
        int breakerFailures,
        Duration breakerCooldown,
        boolean requireWarmOnStart,
        Duration warmStartTimeout) {

    public static final int DEFAULT_MIN_IDLE = 2;
    public static final int MAX_MIN_IDLE = 10_000;
    public static final int DEFAULT_MAX_WORKERS = 200;
    public static final int MAX_MAX_WORKERS = 100_000;
    public static final Duration DEFAULT_SPAWN_INTERVAL = Duration.ofMillis(250);
    public static final Duration DEFAULT_INIT_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofMinutes(1);
    public static final int DEFAULT_BREAKER_FAILURES = 5;
    public static final Duration DEFAULT_BREAKER_COOLDOWN = Duration.ofSeconds(30);
    public static final boolean DEFAULT_REQUIRE_WARM_ON_START = false;
    public static final Duration DEFAULT_WARM_START_TIMEOUT = Duration.ofSeconds(60);

    public PoolConfig {
        Check.between("pool.min_idle", minIdle, 0, MAX_MIN_IDLE);
        Check.between("pool.max_workers", maxWorkers, 1, MAX_MAX_WORKERS);
        if (minIdle > maxWorkers) {
            throw new ConfigException("pool.min_idle", minIdle, "<= pool.max_workers (" + maxWorkers + ")");
        }
        Check.between("pool.spawn_interval", spawnInterval, Duration.ZERO, Duration.ofMinutes(10));
        Check.positive("pool.init_timeout", initTimeout);
        Check.positive("pool.backoff_initial", backoffInitial);
        Check.positive("pool.backoff_max", backoffMax);
        if (backoffMax.compareTo(backoffInitial) < 0) {
            throw new ConfigException(
                    "pool.backoff_max",
                    Durations.format(backoffMax),
                    ">= pool.backoff_initial (" + Durations.format(backoffInitial) + ")");
        }
        Check.between("pool.breaker_failures", breakerFailures, 1, 1000);
        Check.positive("pool.breaker_cooldown", breakerCooldown);
        Check.positive("pool.warm_start_timeout", warmStartTimeout);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static PoolConfig defaults() {
        return new PoolConfig(
                DEFAULT_MIN_IDLE,
                DEFAULT_MAX_WORKERS,
                DEFAULT_SPAWN_INTERVAL,
                DEFAULT_INIT_TIMEOUT,
                DEFAULT_BACKOFF_INITIAL,
                DEFAULT_BACKOFF_MAX,
                DEFAULT_BREAKER_FAILURES,
                DEFAULT_BREAKER_COOLDOWN,
                DEFAULT_REQUIRE_WARM_ON_START,
                DEFAULT_WARM_START_TIMEOUT);
    }
}
