package dev.tether.gateway.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.time.Duration;

/**
 * The {@code abuse} section: limits that keep one client from harming the gateway or other users.
 * Immutable and thread-safe.
 *
 * @param connectionsPerSecond upgrade attempts allowed per client address per second (token bucket
 *     refill rate); beyond it 429 {@code too_many_connections}, {@code abuse.connections_per_second}
 * @param connectionBurst the bucket size: attempts allowed at once, {@code abuse.connection_burst}
 * @param maxTrackedAddresses client addresses whose buckets are remembered at most (least recently
 *     seen forgotten first), {@code abuse.max_tracked_addresses}
 * @param messagesPerSecond client frames allowed per session per second (token bucket refill rate);
 *     beyond it error {@code rate_limited}, {@code abuse.messages_per_second}
 * @param messageBurst the bucket size, {@code abuse.message_burst}
 * @param maxStrikes rate-limited frames within {@code strikeWindow} that close the connection with
 *     4008, {@code abuse.max_strikes}
 * @param strikeWindow see {@code maxStrikes}, {@code abuse.strike_window}
 * @param maxMessageBytes largest {@code message.data}, as JSON text, in bytes; beyond it error
 *     {@code message_too_large}, {@code abuse.max_message_bytes}
 * @param outboundHighWater unsent bytes of a connection above which it counts as not reading,
 *     {@code abuse.outbound_high_water}
 * @param outboundStallTimeout a connection that stays above the high-water mark this long is
 *     closed (its session goes on detached, within its replay bounds), {@code abuse.outbound_stall_timeout}
 * @param maxOutboundBytes unsent bytes of a connection at which it is closed at once,
 *     {@code abuse.max_outbound_bytes}
 * @param maxConnectionsPerAddress open connections (HTTP or WebSocket) one client address may hold,
 *     counted from accept; the next is closed at once, {@code abuse.max_connections_per_address}
 * @param maxPendingHandshakes connections accepted and not yet upgraded, in all; beyond it the oldest
 *     of them is closed to make room, {@code abuse.max_pending_handshakes}
 */
public record AbuseConfig(
        double connectionsPerSecond,
        int connectionBurst,
        int maxTrackedAddresses,
        double messagesPerSecond,
        int messageBurst,
        int maxStrikes,
        Duration strikeWindow,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int maxMessageBytes,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int outboundHighWater,

        Duration outboundStallTimeout,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int maxOutboundBytes,

        int maxConnectionsPerAddress,
        int maxPendingHandshakes) {

    public static final double DEFAULT_CONNECTIONS_PER_SECOND = 10;
    public static final int DEFAULT_CONNECTION_BURST = 30;
    public static final int DEFAULT_MAX_TRACKED_ADDRESSES = 100_000;
    public static final double DEFAULT_MESSAGES_PER_SECOND = 50;
    public static final int DEFAULT_MESSAGE_BURST = 100;
    public static final int DEFAULT_MAX_STRIKES = 50;
    public static final Duration DEFAULT_STRIKE_WINDOW = Duration.ofSeconds(10);
    public static final int DEFAULT_MAX_MESSAGE_BYTES = (int) (256 * ByteSizes.KIB);
    public static final int DEFAULT_OUTBOUND_HIGH_WATER = (int) ByteSizes.MIB;
    public static final Duration DEFAULT_OUTBOUND_STALL_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_OUTBOUND_BYTES = (int) (8 * ByteSizes.MIB);
    public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
    public static final int DEFAULT_MAX_PENDING_HANDSHAKES = 1024;

    public AbuseConfig {
        checkRate("abuse.connections_per_second", connectionsPerSecond);
        Check.between("abuse.connection_burst", connectionBurst, 1, 1_000_000);
        Check.between("abuse.max_tracked_addresses", maxTrackedAddresses, 1, 100_000_000);
        checkRate("abuse.messages_per_second", messagesPerSecond);
        Check.between("abuse.message_burst", messageBurst, 1, 1_000_000);
        Check.between("abuse.max_strikes", maxStrikes, 1, 1_000_000);
        Check.positive("abuse.strike_window", strikeWindow);
        Check.bytesBetween("abuse.max_message_bytes", maxMessageBytes, 16, 64 * ByteSizes.MIB);
        Check.bytesBetween("abuse.outbound_high_water", outboundHighWater, 4 * ByteSizes.KIB, ByteSizes.GIB);
        Check.positive("abuse.outbound_stall_timeout", outboundStallTimeout);
        Check.bytesBetween("abuse.max_outbound_bytes", maxOutboundBytes, 4 * ByteSizes.KIB, ByteSizes.GIB);
        Check.between("abuse.max_connections_per_address", maxConnectionsPerAddress, 1, 10_000_000);
        Check.between("abuse.max_pending_handshakes", maxPendingHandshakes, 1, 10_000_000);
        if (maxOutboundBytes < outboundHighWater) {
            throw new ConfigException(
                    "abuse.max_outbound_bytes",
                    ByteSizes.format(maxOutboundBytes),
                    ">= abuse.outbound_high_water (" + ByteSizes.format(outboundHighWater) + ")");
        }
    }

    private static void checkRate(String key, double rate) {
        if (!(rate > 0) || Double.isInfinite(rate) || rate > 1_000_000) {
            throw new ConfigException(key, rate, "a rate per second > 0 and <= 1000000");
        }
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static AbuseConfig defaults() {
        return new AbuseConfig(
                DEFAULT_CONNECTIONS_PER_SECOND,
                DEFAULT_CONNECTION_BURST,
                DEFAULT_MAX_TRACKED_ADDRESSES,
                DEFAULT_MESSAGES_PER_SECOND,
                DEFAULT_MESSAGE_BURST,
                DEFAULT_MAX_STRIKES,
                DEFAULT_STRIKE_WINDOW,
                DEFAULT_MAX_MESSAGE_BYTES,
                DEFAULT_OUTBOUND_HIGH_WATER,
                DEFAULT_OUTBOUND_STALL_TIMEOUT,
                DEFAULT_MAX_OUTBOUND_BYTES,
                DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
                DEFAULT_MAX_PENDING_HANDSHAKES);
    }
}
