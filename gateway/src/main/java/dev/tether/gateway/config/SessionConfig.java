package dev.tether.gateway.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.time.Duration;
import java.util.List;

/**
 * The {@code sessions} section: how long a detached session survives, how much it may buffer for
 * replay, and how many sessions the gateway and each user may hold. Every bound a peer could grow is
 * here, each with a named outcome on overflow. Immutable and thread-safe.
 *
 * @param reconnectWindow how long a detached session waits for its client, {@code sessions.reconnect_window},
 *     > 0; default 5m
 * @param tombstoneTtl how long an ended session's id is remembered so a late resume gets a precise
 *     refusal, {@code sessions.tombstone_ttl}, > 0; default 1h
 * @param tombstoneMaxEntries most tombstones kept, {@code sessions.tombstone_max_entries}, >= 1;
 *     default 100000
 * @param replayMaxMessages most messages in a session's replay buffer, {@code sessions.replay_max_messages},
 *     >= 1; default 10000
 * @param replayMaxBytes most payload bytes in a session's replay buffer, {@code sessions.replay_max_bytes},
 *     >= 1KiB; default 8MiB
 * @param maxQueuedMessages client messages queued while the worker is busy,
 *     {@code sessions.max_queued_messages}, >= 0 where 0 means no queueing; default 64
 * @param maxTrackedMessageIds recent client message ids remembered for de-duplication,
 *     {@code sessions.max_tracked_message_ids}, >= 1; default 4096
 * @param maxSessions sessions the gateway holds at once, {@code sessions.max_sessions}, >= 1; default 1000
 * @param maxSessionsPerUser sessions one user holds at once, {@code sessions.max_sessions_per_user}, >= 1;
 *     default 10
 * @param retryAfter the {@code Retry-After} sent with 429 and 503 refusals, {@code sessions.retry_after},
 *     >= 1s; default 5s
 * @param store where sessions live, {@code sessions.store}: {@code memory} (this node only; the
 *     default) or {@code redis} (shared by the nodes, contract 7.1; needs {@code server.node_id})
 * @param redis the Redis of {@code store: redis}, {@code sessions.redis}
 * @param handoffTimeout how long a running turn may take to finish when another node takes the
 *     session over, before it is interrupted, {@code sessions.handoff_timeout}, 0..1h; default 30s
 * @param maxViewersPerSession read-only viewer connections one session holds at once (contract 7.4),
 *     {@code sessions.max_viewers_per_session}, 0..10000 where 0 means no viewers; default 8
 * @param admission the line of {@code wait=1} connections waiting for capacity (contract 8.1),
 *     {@code sessions.admission}
 */
public record SessionConfig(
        Duration reconnectWindow,
        Duration tombstoneTtl,
        int tombstoneMaxEntries,
        int replayMaxMessages,

        @JsonDeserialize(using = ConfigMapper.LongByteSizeDeserializer.class)
        long replayMaxBytes,

        int maxQueuedMessages,
        int maxTrackedMessageIds,
        int maxSessions,
        int maxSessionsPerUser,
        Duration retryAfter,
        String store,
        RedisConfig redis,
        Duration handoffTimeout,
        int maxViewersPerSession,
        AdmissionConfig admission) {

    public static final String STORE_MEMORY = "memory";
    public static final String STORE_REDIS = "redis";
    public static final List<String> STORES = List.of(STORE_MEMORY, STORE_REDIS);
    public static final Duration DEFAULT_HANDOFF_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration MAX_HANDOFF_TIMEOUT = Duration.ofHours(1);

    /** The sessions section with the in-memory store (for tests and callers that predate the shared store). */
    public SessionConfig(
            Duration reconnectWindow,
            Duration tombstoneTtl,
            int tombstoneMaxEntries,
            int replayMaxMessages,
            long replayMaxBytes,
            int maxQueuedMessages,
            int maxTrackedMessageIds,
            int maxSessions,
            int maxSessionsPerUser,
            Duration retryAfter) {
        this(
                reconnectWindow,
                tombstoneTtl,
                tombstoneMaxEntries,
                replayMaxMessages,
                replayMaxBytes,
                maxQueuedMessages,
                maxTrackedMessageIds,
                maxSessions,
                maxSessionsPerUser,
                retryAfter,
                STORE_MEMORY,
                RedisConfig.defaults(),
                DEFAULT_HANDOFF_TIMEOUT,
                DEFAULT_MAX_VIEWERS_PER_SESSION,
                AdmissionConfig.defaults());
    }

    public static final Duration DEFAULT_RECONNECT_WINDOW = Duration.ofMinutes(5);
    public static final Duration DEFAULT_TOMBSTONE_TTL = Duration.ofHours(1);
    public static final int DEFAULT_TOMBSTONE_MAX_ENTRIES = 100_000;
    public static final int DEFAULT_REPLAY_MAX_MESSAGES = 10_000;
    public static final long DEFAULT_REPLAY_MAX_BYTES = 8 * ByteSizes.MIB;
    public static final long MIN_REPLAY_MAX_BYTES = ByteSizes.KIB;
    public static final int DEFAULT_MAX_QUEUED_MESSAGES = 64;
    public static final int DEFAULT_MAX_TRACKED_MESSAGE_IDS = 4096;
    public static final int DEFAULT_MAX_SESSIONS = 1000;
    public static final int DEFAULT_MAX_SESSIONS_PER_USER = 10;
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(5);
    public static final Duration MIN_RETRY_AFTER = Duration.ofSeconds(1);
    public static final int DEFAULT_MAX_VIEWERS_PER_SESSION = 8;
    public static final int MAX_VIEWERS_PER_SESSION = 10_000;

    public SessionConfig {
        Check.positive("sessions.reconnect_window", reconnectWindow);
        Check.positive("sessions.tombstone_ttl", tombstoneTtl);
        Check.atLeast("sessions.tombstone_max_entries", tombstoneMaxEntries, 1);
        Check.atLeast("sessions.replay_max_messages", replayMaxMessages, 1);
        Check.bytesAtLeast("sessions.replay_max_bytes", replayMaxBytes, MIN_REPLAY_MAX_BYTES);
        Check.atLeast("sessions.max_queued_messages", maxQueuedMessages, 0);
        Check.atLeast("sessions.max_tracked_message_ids", maxTrackedMessageIds, 1);
        Check.atLeast("sessions.max_sessions", maxSessions, 1);
        Check.atLeast("sessions.max_sessions_per_user", maxSessionsPerUser, 1);
        Check.atLeast("sessions.retry_after", retryAfter, MIN_RETRY_AFTER);
        if (!Check.isOneOf(store, STORES)) {
            throw new ConfigException("sessions.store", store, "one of " + STORES);
        }
        Check.notNull("sessions.redis", redis, "a mapping");
        Check.between("sessions.handoff_timeout", handoffTimeout, Duration.ZERO, MAX_HANDOFF_TIMEOUT);
        Check.between("sessions.max_viewers_per_session", maxViewersPerSession, 0, MAX_VIEWERS_PER_SESSION);
        Check.notNull("sessions.admission", admission, "a mapping");
    }

    /** Whether sessions are kept in the store the nodes share ({@code store: redis}). */
    public boolean shared() {
        return STORE_REDIS.equals(store);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static SessionConfig defaults() {
        return new SessionConfig(
                DEFAULT_RECONNECT_WINDOW,
                DEFAULT_TOMBSTONE_TTL,
                DEFAULT_TOMBSTONE_MAX_ENTRIES,
                DEFAULT_REPLAY_MAX_MESSAGES,
                DEFAULT_REPLAY_MAX_BYTES,
                DEFAULT_MAX_QUEUED_MESSAGES,
                DEFAULT_MAX_TRACKED_MESSAGE_IDS,
                DEFAULT_MAX_SESSIONS,
                DEFAULT_MAX_SESSIONS_PER_USER,
                DEFAULT_RETRY_AFTER,
                STORE_MEMORY,
                RedisConfig.defaults(),
                DEFAULT_HANDOFF_TIMEOUT,
                DEFAULT_MAX_VIEWERS_PER_SESSION,
                AdmissionConfig.defaults());
    }
}
