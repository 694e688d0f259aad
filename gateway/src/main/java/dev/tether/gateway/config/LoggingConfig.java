package dev.tether.gateway.config;

import java.util.List;

/**
 * The {@code logging} section. Immutable and thread-safe.
 *
 * @param format {@code text} for people, {@code json} (one JSON object per line) for log shippers,
 *     {@code logging.format}
 */
public record LoggingConfig(String format) {

    public static final String TEXT = "text";
    public static final String JSON = "json";
    public static final List<String> FORMATS = List.of(TEXT, JSON);
    public static final String DEFAULT_FORMAT = TEXT;

    public LoggingConfig {
        if (!Check.isOneOf(format, FORMATS)) {
            throw new ConfigException("logging.format", format, "one of " + FORMATS);
        }
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static LoggingConfig defaults() {
        return new LoggingConfig(DEFAULT_FORMAT);
    }
}
