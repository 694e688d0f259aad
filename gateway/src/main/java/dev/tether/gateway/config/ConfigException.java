package dev.tether.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * A configuration that cannot be used. The message names the key, the offending value and what
 * was expected, e.g. {@code sessions.reconnect_window: -5s (expected: > 0)}, so that an operator
 * can fix the file without reading code.
 *
 * <p>Thrown at startup by {@link ConfigLoader} and by the compact constructors of the config
 * records; never thrown once a {@link GatewayConfig} exists.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    /**
     * A bad value for one key.
     *
     * @param key the full dotted key, e.g. {@code sessions.reconnect_window}
     * @param value the value as read; durations are shown as written in YAML
     * @param expected what would have been accepted, e.g. {@code > 0}
     */
    public ConfigException(String key, Object value, String expected) {
        super(key + ": " + render(value) + " (expected: " + expected + ")");
        this.key = key;
    }

    /** A problem not tied to one key, such as a missing or unparsable file. */
    public ConfigException(String message, Throwable cause) {
        super(message, cause);
        this.key = null;
    }

    private ConfigException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The full dotted key this exception is about, or {@code null} for whole-file problems. */
    public String key() {
        return key;
    }

    /** The same problem, with a note that the value came from environment variable {@code name}. */
    ConfigException fromEnvironment(String name) {
        String message = getMessage();
        if (key != null && message.startsWith(key + ":")) {
            message = key + " (from " + name + ")" + message.substring(key.length());
        }
        return new ConfigException(key, message, this);
    }

    static String render(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof Duration duration) {
            return Durations.format(duration);
        }
        if (value instanceof String text) {
            return text.isEmpty() ? "\"\"" : text;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(ConfigException::render).toList().toString();
        }
        return String.valueOf(value);
    }
}
