package dev.tether.gateway.config;

import static java.util.Objects.requireNonNull;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and formats byte sizes as written in {@code config/gateway.yaml}: a plain integer of
 * bytes, or an integer with a binary unit {@code B}, {@code KiB}, {@code MiB} or {@code GiB}
 * ({@code 64KiB}, {@code 8MiB}, {@code 1GiB}). Decimal units such as {@code MB} are rejected
 * rather than guessed at. Stateless and thread-safe.
 */
public final class ByteSizes {
    /** One kibibyte, 1024 bytes. */
    public static final long KIB = 1024L;
    /** One mebibyte. */
    public static final long MIB = 1024L * KIB;
    /** One gibibyte. */
    public static final long GIB = 1024L * MIB;

    /** What a byte size looks like, for error messages. */
    public static final String EXPECTED = "a byte count or a size like 64KiB, 8MiB or 1GiB";

    private static final Pattern SYNTAX = Pattern.compile("(-?)(\\d+)\\s*(B|KiB|MiB|GiB)?");

    private ByteSizes() {}

    /**
     * Parses {@code text}, e.g. {@code 8MiB} or {@code 1048576}.
     *
     * @throws IllegalArgumentException if the unit is unknown or the size does not fit in a long
     */
    public static long parse(String text) {
        requireNonNull(text, "text");
        Matcher matcher = SYNTAX.matcher(text.strip());
        if (!matcher.matches()) {
            throw invalid(text);
        }
        String unit = matcher.group(3) == null ? "B" : matcher.group(3);
        long multiplier = switch (unit) {
            case "KiB" -> KIB;
            case "MiB" -> MIB;
            case "GiB" -> GIB;
            default -> 1L;
        };
        try {
            long bytes = Math.multiplyExact(Long.parseLong(matcher.group(2)), multiplier);
            return matcher.group(1).isEmpty() ? bytes : -bytes;
        } catch (ArithmeticException | NumberFormatException e) {
            throw invalid(text);
        }
    }

    /**
     * Formats {@code bytes} with the largest binary unit that represents it exactly:
     * {@code 8388608} becomes {@code 8MiB}, {@code 1000} stays {@code 1000}.
     */
    public static String format(long bytes) {
        if (bytes == 0) {
            return "0";
        }
        if (bytes % GIB == 0) {
            return bytes / GIB + "GiB";
        }
        if (bytes % MIB == 0) {
            return bytes / MIB + "MiB";
        }
        if (bytes % KIB == 0) {
            return bytes / KIB + "KiB";
        }
        return Long.toString(bytes);
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("invalid byte size '" + text + "' (expected: " + EXPECTED + ")");
    }
}
