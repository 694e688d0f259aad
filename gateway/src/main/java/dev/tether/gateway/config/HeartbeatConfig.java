package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code heartbeat} section: WebSocket pings that keep idle connections alive through proxies
 * and find dead peers. Immutable and thread-safe.
 *
 * @param interval a ping is sent to a connection that has sent nothing for this long; keep it below
 *     every proxy's read timeout, {@code heartbeat.interval}
 * @param timeout a connection from which nothing (no pong, no frame) arrived for this long is
 *     closed as dead; its session goes on detached, {@code heartbeat.timeout}
 */
public record HeartbeatConfig(Duration interval, Duration timeout) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(20);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public HeartbeatConfig {
        Check.between("heartbeat.interval", interval, Duration.ofMillis(100), Duration.ofHours(1));
        Check.between("heartbeat.timeout", timeout, Duration.ofMillis(100), Duration.ofHours(1));
        if (timeout.compareTo(interval) <= 0) {
            throw new ConfigException(
                    "heartbeat.timeout",
                    Durations.format(timeout),
                    "> heartbeat.interval (" + Durations.format(interval) + ")");
        }
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static HeartbeatConfig defaults() {
        return new HeartbeatConfig(DEFAULT_INTERVAL, DEFAULT_TIMEOUT);
    }
}
