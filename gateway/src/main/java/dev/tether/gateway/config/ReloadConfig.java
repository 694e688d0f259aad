package dev.tether.gateway.config;

import java.time.Duration;

/**
 * The {@code reload} section: live reload of this file. Immutable and thread-safe.
 *
 * @param watch re-read the file when it changes (SIGHUP always re-reads it), {@code reload.watch}
 * @param interval how often the file is checked for changes, {@code reload.interval}
 */
public record ReloadConfig(boolean watch, Duration interval) {

    public static final boolean DEFAULT_WATCH = true;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);

    public ReloadConfig {
        Check.between("reload.interval", interval, Duration.ofMillis(100), Duration.ofHours(1));
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static ReloadConfig defaults() {
        return new ReloadConfig(DEFAULT_WATCH, DEFAULT_INTERVAL);
    }
}
