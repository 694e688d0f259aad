package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code sessions.redis} section: the Redis that holds sessions when {@code sessions.store} is
 * {@code redis}. Immutable and thread-safe.
 *
 * @param uri where it is, {@code sessions.redis.uri} (environment override {@code TETHER_REDIS_URI},
 *     the place for a password): {@code redis://host:port[/db]}, {@code rediss://} for TLS, or
 *     {@code redis-sentinel://host:port[,host:port]/db#master} for Sentinel
 * @param lease how long this node's claim on its sessions lasts without renewal, {@code sessions.redis.lease},
 *     1s..10m; renewed every third of it. A node that dies holds its sessions this long.
 */
public record RedisConfig(String uri, Duration lease) {

    public static final String DEFAULT_URI = "redis://127.0.0.1:6379";
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(10);
    public static final Duration MIN_LEASE = Duration.ofSeconds(1);
    public static final Duration MAX_LEASE = Duration.ofMinutes(10);

    public RedisConfig {
        if (uri == null || !(uri.startsWith("redis://") || uri.startsWith("rediss://") || uri.startsWith("redis-sentinel://"))
                || uri.indexOf('\0') >= 0 || uri.chars().anyMatch(Character::isWhitespace)) {
            // The value itself is not shown: it may hold a password.
            throw new ConfigException("sessions.redis.uri", uri == null ? null : "(not shown)",
                    "redis://host:port, rediss://host:port or redis-sentinel://host:port/db#master");
        }
        Check.between("sessions.redis.lease", lease, MIN_LEASE, MAX_LEASE);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static RedisConfig defaults() {
        return new RedisConfig(DEFAULT_URI, DEFAULT_LEASE);
    }
}
