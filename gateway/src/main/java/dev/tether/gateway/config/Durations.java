package dev.tether.gateway.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and formats durations the way they are written in {@code config/gateway.yaml} and on the
 * command line: an integer and one unit, {@code ns}, {@code us}, {@code ms}, {@code s}, {@code m},
 * {@code h} or {@code d} ({@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 2d}). A bare
 * {@code 0} is accepted; a leading {@code -} is parsed so that validation can name the negative
 * value instead of calling it garbage. Stateless and thread-safe.
 */
public final class Durations {
    /** What a duration looks like, for error messages. */
    public static final String EXPECTED = "a duration like 250ms, 30s, 5m, 1h or 2d";

    private static final Pattern SYNTAX = Pattern.compile("(-?)(\\d+)\\s*(ns|us|ms|s|m|h|d)");
    private static final long SECONDS_PER_DAY = 86_400;

    private Durations() {}

    /**
     * Parses {@code text}, e.g. {@code 30s}.
     *
     * @throws IllegalArgumentException if {@code text} is not an integer followed by a known unit,
     *     or does not fit in a {@link Duration}
     */
    public static Duration parse(String text) {
        requireNonNull(text, "text");
        String trimmed = text.strip();
        if (trimmed.equals("0")) {
            return Duration.ZERO;
        }
        Matcher matcher = SYNTAX.matcher(trimmed);
        if (!matcher.matches()) {
            throw invalid(text);
        }
        try {
            long amount = Long.parseLong(matcher.group(2));
            Duration duration = switch (matcher.group(3)) {
                case "ns" -> Duration.ofNanos(amount);
                case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1_000L));
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                case "d" -> Duration.ofDays(amount);
                default -> throw invalid(text);
            };
            return matcher.group(1).isEmpty() ? duration : duration.negated();
        } catch (ArithmeticException | NumberFormatException e) {
            throw invalid(text);
        }
    }

    /**
     * Formats {@code duration} with the largest unit that represents it exactly, so that
     * {@code parse(format(d)).equals(d)}: {@code 300s} becomes {@code 5m}, zero becomes {@code 0s}.
     */
    public static String format(Duration duration) {
        requireNonNull(duration, "duration");
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        long seconds = duration.getSeconds();
        int nanos = duration.getNano();
        if (nanos == 0) {
            if (seconds != 0 && seconds % SECONDS_PER_DAY == 0) {
                return seconds / SECONDS_PER_DAY + "d";
            }
            if (seconds != 0 && seconds % 3_600 == 0) {
                return seconds / 3_600 + "h";
            }
            if (seconds != 0 && seconds % 60 == 0) {
                return seconds / 60 + "m";
            }
            return seconds + "s";
        }
        if (nanos % 1_000_000 == 0) {
            return duration.toMillis() + "ms";
        }
        if (nanos % 1_000 == 0) {
            return duration.toNanos() / 1_000 + "us";
        }
        return duration.toNanos() + "ns";
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("invalid duration '" + text + "' (expected: " + EXPECTED + ")");
    }
}
