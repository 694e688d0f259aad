package dev.tether.gateway.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.time.Duration;

/**
 * The {@code limits} section: how the gateway supervises each session and its worker. Immutable and
 * thread-safe.
 *
 * @param maxRestarts worker restarts (crash, RSS) a session survives within {@code restartWindow};
 *     one more ends it, {@code limits.max_restarts}
 * @param restartWindow see {@code maxRestarts}, {@code limits.restart_window}
 * @param rssPollInterval how often the RSS of each worker's process tree is sampled, {@code limits.rss_poll_interval}
 * @param rssSoftLimit above it the worker is replaced once its current turn ends, {@code limits.rss_soft_limit}
 * @param rssHardLimit above it the worker is killed at once and replaced, {@code limits.rss_hard_limit}
 * @param maxDuration longest life of a session, {@code limits.max_duration}
 * @param warningRatio fraction of {@code maxDuration} at which the client is warned, {@code limits.warning_ratio}
 * @param durationGrace time a running turn gets to finish once {@code maxDuration} is reached, {@code limits.duration_grace}
 * @param idleTimeout a session with no client message for this long while idle ends, {@code limits.idle_timeout}
 * @param firstMessageTimeout a session that never gets a first message ends after this long,
 *     {@code limits.first_message_timeout}
 * @param interruptAfterDisconnect a detached session's running turn is interrupted after this long,
 *     {@code limits.interrupt_after_disconnect}
 * @param turnStallTimeout a running turn with no worker output for this long gets notice
 *     {@code turn_stalled}, is interrupted after as long again and its worker replaced after as long
 *     more, {@code limits.turn_stall_timeout}; 0 turns it off
 * @param maxPendingRequests a worker's requests to the user (contract 7.3) unanswered at once; one
 *     more is refused (notice {@code request_refused}, the worker told {@code cancelled}),
 *     {@code limits.max_pending_requests}
 * @param requestTimeout a request unanswered this long resolves {@code timeout}, {@code limits.request_timeout}
 * @param maxRememberedRequests resolved request ids a session remembers, so that a late
 *     {@code respond} gets {@code request_resolved} rather than {@code request_not_found},
 *     {@code limits.max_remembered_requests}
 * @param maxExtensions {@code extend}s a session may be granted (contract 1.2, 8.3); 0 refuses
 *     every one, {@code limits.max_extensions}
 * @param extension how much later each granted {@code extend} moves the session's end, {@code limits.extension}
 * @param hibernateAfter a session whose worker has had no turn for this long, and has sent a
 *     checkpoint since its last one, sleeps without a worker (contract 1.2, 8.9); 0 never,
 *     {@code limits.hibernate_after}
 */
public record LimitsConfig(
        int maxRestarts,
        Duration restartWindow,
        Duration rssPollInterval,

        @JsonDeserialize(using = ConfigMapper.LongByteSizeDeserializer.class)
        long rssSoftLimit,

        @JsonDeserialize(using = ConfigMapper.LongByteSizeDeserializer.class)
        long rssHardLimit,

        Duration maxDuration,
        double warningRatio,
        Duration durationGrace,
        Duration idleTimeout,
        Duration firstMessageTimeout,
        Duration interruptAfterDisconnect,
        Duration turnStallTimeout,
        int maxPendingRequests,
        Duration requestTimeout,
        int maxRememberedRequests,
        int maxExtensions,
        Duration extension,
        Duration hibernateAfter) {

    public static final int DEFAULT_MAX_RESTARTS = 3;
    public static final Duration DEFAULT_RESTART_WINDOW = Duration.ofMinutes(10);
    public static final Duration DEFAULT_RSS_POLL_INTERVAL = Duration.ofSeconds(5);
    public static final long DEFAULT_RSS_SOFT_LIMIT = 512 * ByteSizes.MIB;
    public static final long DEFAULT_RSS_HARD_LIMIT = ByteSizes.GIB;
    public static final Duration DEFAULT_MAX_DURATION = Duration.ofHours(8);
    public static final double DEFAULT_WARNING_RATIO = 0.9;
    public static final Duration DEFAULT_DURATION_GRACE = Duration.ofMinutes(2);
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_FIRST_MESSAGE_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_INTERRUPT_AFTER_DISCONNECT = Duration.ofMinutes(2);
    public static final Duration DEFAULT_TURN_STALL_TIMEOUT = Duration.ofMinutes(10);
    public static final int DEFAULT_MAX_PENDING_REQUESTS = 16;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(30);
    public static final int DEFAULT_MAX_REMEMBERED_REQUESTS = 1000;
    public static final int DEFAULT_MAX_EXTENSIONS = 0;
    public static final Duration DEFAULT_EXTENSION = Duration.ofHours(1);
    /**
     * Off: a wake costs a worker start (seconds for an agent CLI) on the first message after the
     * sleep, and only the operator knows whether the configured worker checkpoints what it needs.
     */
    public static final Duration DEFAULT_HIBERNATE_AFTER = Duration.ZERO;

    public LimitsConfig {
        Check.between("limits.max_restarts", maxRestarts, 0, 1000);
        Check.positive("limits.restart_window", restartWindow);
        Check.atLeast("limits.rss_poll_interval", rssPollInterval, Duration.ofMillis(10));
        Check.bytesAtLeast("limits.rss_soft_limit", rssSoftLimit, ByteSizes.MIB);
        Check.bytesAtLeast("limits.rss_hard_limit", rssHardLimit, ByteSizes.MIB);
        if (rssHardLimit < rssSoftLimit) {
            throw new ConfigException(
                    "limits.rss_hard_limit",
                    ByteSizes.format(rssHardLimit),
                    ">= limits.rss_soft_limit (" + ByteSizes.format(rssSoftLimit) + ")");
        }
        Check.positive("limits.max_duration", maxDuration);
        if (!(warningRatio > 0 && warningRatio < 1)) {
            throw new ConfigException("limits.warning_ratio", warningRatio, "a fraction between 0 and 1, exclusive");
        }
        Check.between("limits.duration_grace", durationGrace, Duration.ZERO, Duration.ofHours(1));
        Check.positive("limits.idle_timeout", idleTimeout);
        Check.positive("limits.first_message_timeout", firstMessageTimeout);
        Check.positive("limits.interrupt_after_disconnect", interruptAfterDisconnect);
        Check.between("limits.turn_stall_timeout", turnStallTimeout, Duration.ZERO, Duration.ofDays(1));
        Check.between("limits.max_pending_requests", maxPendingRequests, 0, 10_000);
        Check.between("limits.request_timeout", requestTimeout, Duration.ofMillis(1), Duration.ofDays(7));
        Check.between("limits.max_remembered_requests", maxRememberedRequests, 0, 1_000_000);
        Check.between("limits.max_extensions", maxExtensions, 0, 100);
        Check.between("limits.extension", extension, Duration.ofSeconds(1), Duration.ofDays(1));
        Check.between("limits.hibernate_after", hibernateAfter, Duration.ZERO, Duration.ofDays(7));
    }

    /** Whether sessions sleep when idle ({@code limits.hibernate_after} is not 0). */
    public boolean hibernates() {
        return !hibernateAfter.isZero();
    }

    /** The longest a session can run: {@code max_duration} with every extension it may be granted. */
    public Duration longestDuration() {
        return maxDuration.plus(extension.multipliedBy(maxExtensions));
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static LimitsConfig defaults() {
        return new LimitsConfig(
                DEFAULT_MAX_RESTARTS,
                DEFAULT_RESTART_WINDOW,
                DEFAULT_RSS_POLL_INTERVAL,
                DEFAULT_RSS_SOFT_LIMIT,
                DEFAULT_RSS_HARD_LIMIT,
                DEFAULT_MAX_DURATION,
                DEFAULT_WARNING_RATIO,
                DEFAULT_DURATION_GRACE,
                DEFAULT_IDLE_TIMEOUT,
                DEFAULT_FIRST_MESSAGE_TIMEOUT,
                DEFAULT_INTERRUPT_AFTER_DISCONNECT,
                DEFAULT_TURN_STALL_TIMEOUT,
                DEFAULT_MAX_PENDING_REQUESTS,
                DEFAULT_REQUEST_TIMEOUT,
                DEFAULT_MAX_REMEMBERED_REQUESTS,
                DEFAULT_MAX_EXTENSIONS,
                DEFAULT_EXTENSION,
                DEFAULT_HIBERNATE_AFTER);
    }
}
