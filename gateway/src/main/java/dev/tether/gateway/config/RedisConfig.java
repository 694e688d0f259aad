package dev.tether.gateway.config;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code sessions.redis} section: the Redis that holds sessions when {@code sessions.store} is
 * {@code redis}. Immutable and thread-safe.
 *
 * @param uri where it is, {@code sessions.redis.uri} (environment override {@code TETHER_REDIS_URI},
 *     the place for a password): {@code redis://host:port[/db]}, {@code rediss://} for TLS, or
 *     {@code redis-sentinel://host:port[,host:port]/db#master} for Sentinel, or
 *     {@code redis-cluster://host:port[,host:port...]} ({@code rediss-cluster://} for TLS) for a Redis
 *     Cluster, the hosts being seed nodes from which the client learns the rest
 * @param lease how long this node's claim on its sessions lasts without renewal, {@code sessions.redis.lease},
 *     1s..10m; renewed every third of it. A node that dies holds its sessions this long.
 * @param writeMode when history reaches the client, {@code sessions.redis.write_mode}:
 *     {@code before_send} (default: a frame is sent once it is stored, so a node that dies loses
 *     nothing a client saw) or {@code batched} (sent at once, stored in the next batch; seqs are
 *     reserved ahead, so what a dead node sent but never stored is a {@code replay_gap})
 * @param unavailableAfter how long a store write may go unanswered before the session shows its
 *     output without waiting for the store (notice {@code store_unavailable}),
 *     {@code sessions.redis.unavailable_after}, 100ms..1m
 */
public record RedisConfig(String uri, Duration lease, String writeMode, Duration unavailableAfter) {

    public static final String WRITE_BEFORE_SEND = "before_send";
    public static final String WRITE_BATCHED = "batched";
    public static final List<String> WRITE_MODES = List.of(WRITE_BEFORE_SEND, WRITE_BATCHED);
    public static final Duration DEFAULT_UNAVAILABLE_AFTER = Duration.ofSeconds(1);

    public static final String DEFAULT_URI = "redis://127.0.0.1:6379";
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(10);
    public static final Duration MIN_LEASE = Duration.ofSeconds(1);
    public static final Duration MAX_LEASE = Duration.ofMinutes(10);

    /** A Redis Cluster's seed nodes after the scheme and any user-info: {@code host:port[,host:port...]}, then options. */
    private static final Pattern CLUSTER_SEEDS =
            Pattern.compile("[^,/?#:@]+:\\d{1,5}(,[^,/?#:@]+:\\d{1,5})*([/?#].*)?");

    public RedisConfig {
        if (uri == null || !validUri(uri)) {
            // The value itself is not shown: it may hold a password.
            throw new ConfigException(
                    "sessions.redis.uri",
                    uri == null ? null : "(not shown)",
                    "redis://host:port, rediss://host:port, redis-sentinel://host:port/db#master"
                            + " or redis-cluster://host:port,host:port");
        }
        Check.between("sessions.redis.lease", lease, MIN_LEASE, MAX_LEASE);
        if (!Check.isOneOf(writeMode, WRITE_MODES)) {
            throw new ConfigException("sessions.redis.write_mode", writeMode, "one of " + WRITE_MODES);
        }
        Check.between(
                "sessions.redis.unavailable_after", unavailableAfter, Duration.ofMillis(100), Duration.ofMinutes(1));
    }

    private static boolean validUri(String uri) {
        if (uri.indexOf('\0') >= 0 || uri.chars().anyMatch(Character::isWhitespace)) {
            return false;
        }
        for (String cluster : List.of("redis-cluster://", "rediss-cluster://")) {
            if (uri.startsWith(cluster)) {
                String rest = uri.substring(cluster.length());
                return CLUSTER_SEEDS
                        .matcher(rest.substring(rest.lastIndexOf('@') + 1))
                        .matches();
            }
        }
        return uri.startsWith("redis://") || uri.startsWith("rediss://") || uri.startsWith("redis-sentinel://");
    }

    /** Whether frames are sent before they are stored ({@code write_mode: batched}). */
    public boolean batched() {
        return WRITE_BATCHED.equals(writeMode);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static RedisConfig defaults() {
        return new RedisConfig(DEFAULT_URI, DEFAULT_LEASE, WRITE_BEFORE_SEND, DEFAULT_UNAVAILABLE_AFTER);
    }
}
