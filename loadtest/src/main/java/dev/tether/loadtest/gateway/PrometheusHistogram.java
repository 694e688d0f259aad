package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * One Prometheus histogram read from {@code /metrics}: its cumulative buckets ({@code _bucket} by
 * {@code le}), {@code _count} and {@code _sum}. Two readings subtract, so that a figure covers only
 * what happened between them; quantiles are estimated as Prometheus's {@code histogram_quantile}
 * does, by linear interpolation inside the bucket the rank falls in. Immutable.
 */
public final class PrometheusHistogram {

    private final NavigableMap<Double, Double> cumulative;
    private final double count;
    private final double sum;

    private PrometheusHistogram(NavigableMap<Double, Double> cumulative, double count, double sum) {
        this.cumulative = cumulative;
        this.count = count;
        this.sum = sum;
    }

    /**
     * The histogram {@code name} (without the {@code _bucket} suffix) of the series whose labels pass
     * {@code labels}; empty when {@code metrics} has no such buckets.
     */
    public static Optional<PrometheusHistogram> read(
            PrometheusText metrics, String name, Predicate<Map<String, String>> labels) {
        requireNonNull(name, "name");
        TreeMap<Double, Double> buckets = new TreeMap<>();
        for (PrometheusText.Sample s : metrics.samples(name + "_bucket", labels)) {
            String le = s.labels().get("le");
            if (le != null) {
                buckets.merge(
                        "+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le), s.value(), Double::sum);
            }
        }
        if (buckets.isEmpty()) {
            return Optional.empty();
        }
        double count = metrics.samples(name + "_count", labels).stream()
                .mapToDouble(PrometheusText.Sample::value)
                .sum();
        double sum = metrics.samples(name + "_sum", labels).stream()
                .mapToDouble(PrometheusText.Sample::value)
                .sum();
        return Optional.of(new PrometheusHistogram(buckets, count, sum));
    }

    /** What was observed since {@code earlier} (a reading of the same histogram); buckets absent there count from 0. */
    public PrometheusHistogram minus(PrometheusHistogram earlier) {
        TreeMap<Double, Double> delta = new TreeMap<>();
        cumulative.forEach((le, n) -> delta.put(le, n - earlier.cumulative.getOrDefault(le, 0.0)));
        return new PrometheusHistogram(delta, count - earlier.count, sum - earlier.sum);
    }

    /** Observations counted. */
    public long count() {
        return Math.round(count);
    }

    /** The mean observation, NaN without any. */
    public double mean() {
        return count > 0 ? sum / count : Double.NaN;
    }

    /**
     * The estimated {@code q} quantile (0 to 1): linear inside the bucket the rank falls in, from
     * the bucket below's bound (0 for the first); the highest finite bound when it falls in
     * {@code +Inf}. NaN without observations.
     */
    public double quantile(double q) {
        if (q < 0 || q > 1) {
            throw new IllegalArgumentException("q: " + q + " (expected: 0 to 1)");
        }
        double total = cumulative.isEmpty() ? 0 : cumulative.lastEntry().getValue();
        if (total <= 0) {
            return Double.NaN;
        }
        double rank = q * total;
        double lowerBound = 0;
        double lowerCount = 0;
        for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
            if (bucket.getValue() >= rank) {
                if (bucket.getKey().isInfinite()) {
                    return lowerBound;
                }
                double inBucket = bucket.getValue() - lowerCount;
                double fraction = inBucket <= 0 ? 1 : (rank - lowerCount) / inBucket;
                return lowerBound + (bucket.getKey() - lowerBound) * fraction;
            }
            lowerBound = bucket.getKey();
            lowerCount = bucket.getValue();
        }
        return lowerBound;
    }
}
