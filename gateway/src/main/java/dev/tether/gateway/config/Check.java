package dev.tether.gateway.config;

import java.time.Duration;
import java.util.List;

/** Range checks shared by the config records' compact constructors; each names the key on failure. */
final class Check {
    private Check() {}

    static <T> T notNull(String key, T value, String expected) {
        if (value == null) {
            throw new ConfigException(key, null, expected);
        }
        return value;
    }

    static String notBlank(String key, String value, String expected) {
        if (value == null || value.isBlank()) {
            throw new ConfigException(key, value, expected);
        }
        return value;
    }

    /** Whether {@code value} is in {@code allowed}; unlike {@code List.of(..).contains}, null-safe. */
    static boolean isOneOf(String value, List<String> allowed) {
        return value != null && allowed.contains(value);
    }

    static void between(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ConfigException(key, value, min + ".." + max);
        }
    }

    static void atLeast(String key, long value, long min) {
        if (value < min) {
            throw new ConfigException(key, value, ">= " + min);
        }
    }

    static void bytesBetween(String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ConfigException(
                    key, ByteSizes.format(value), ByteSizes.format(min) + ".." + ByteSizes.format(max));
        }
    }

    static void bytesAtLeast(String key, long value, long min) {
        if (value < min) {
            throw new ConfigException(key, ByteSizes.format(value), ">= " + ByteSizes.format(min));
        }
    }

    static void positive(String key, Duration value) {
        notNull(key, value, "> 0");
        if (value.isNegative() || value.isZero()) {
            throw new ConfigException(key, value, "> 0");
        }
    }

    static void atLeast(String key, Duration value, Duration min) {
        String expected = ">= " + Durations.format(min);
        notNull(key, value, expected);
        if (value.compareTo(min) < 0) {
            throw new ConfigException(key, value, expected);
        }
    }

    static void between(String key, Duration value, Duration min, Duration max) {
        String expected = Durations.format(min) + ".." + Durations.format(max);
        notNull(key, value, expected);
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw new ConfigException(key, value, expected);
        }
    }
}
