package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The samples of a Prometheus text exposition (what the gateway's {@code /metrics} answers): one
 * {@link Sample} per line {@code name{label="value",...} value}; comments ({@code # HELP},
 * {@code # TYPE}) and timestamps are ignored. Enough for the few gauges and histograms the load test
 * reads; the Prometheus Java client writes this format but has no parser for it. Immutable.
 */
public final class PrometheusText {

    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
        public Sample {
            requireNonNull(name, "name");
            labels = Map.copyOf(labels);
        }
    }

    private static final Pattern LINE =
            Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+-?\\d+)?\\s*$");
    private static final Pattern LABEL =
            Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"\\s*,?");

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = List.copyOf(samples);
    }

    /** Parses {@code text}; lines that are not samples are skipped. */
    public static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : requireNonNull(text, "text").lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                while (l.lookingAt()) {
                    labels.put(l.group(1), unescape(l.group(2)));
                    l.region(l.end(), l.regionEnd());
                }
            }
            Double value = value(m.group(3));
            if (value != null) {
                samples.add(new Sample(m.group(1), labels, value));
            }
        }
        return new PrometheusText(samples);
    }

    /** Every sample of metric {@code name} whose labels pass {@code labels}. */
    public List<Sample> samples(String name, Predicate<Map<String, String>> labels) {
        return samples.stream()
                .filter(s -> s.name().equals(name) && labels.test(s.labels()))
                .toList();
    }

    /** The sum of the samples of {@code name}, every label value together; empty when there is none. */
    public OptionalDouble sum(String name) {
        List<Sample> found = samples(name, l -> true);
        return found.isEmpty()
                ? OptionalDouble.empty()
                : OptionalDouble.of(found.stream().mapToDouble(Sample::value).sum());
    }

    /** The value of the first sample of {@code name} that has label {@code key} = {@code value}. */
    public OptionalDouble value(String name, String key, String value) {
        return samples(name, l -> value.equals(l.get(key))).stream()
                .mapToDouble(Sample::value)
                .findFirst();
    }

    private static Double value(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                try {
                    yield Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    yield null;
                }
            }
        };
    }

    private static String unescape(String value) {
        return value.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }
}
