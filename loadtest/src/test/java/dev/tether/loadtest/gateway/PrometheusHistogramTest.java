package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Reading, subtracting and estimating quantiles of a Prometheus histogram as the gateway exposes it. */
class PrometheusHistogramTest {

    private static PrometheusText metrics(int below10ms, int below100ms, int total, double sum) {
        return PrometheusText.parse("""
                tether_session_start_seconds_bucket{start="warm",le="0.01"} %d
                tether_session_start_seconds_bucket{start="warm",le="0.1"} %d
                tether_session_start_seconds_bucket{start="warm",le="+Inf"} %d
                tether_session_start_seconds_count{start="warm"} %d
                tether_session_start_seconds_sum{start="warm"} %s
                tether_session_start_seconds_bucket{start="cold",le="0.01"} 0
                tether_session_start_seconds_bucket{start="cold",le="0.1"} 0
                tether_session_start_seconds_bucket{start="cold",le="+Inf"} 7
                tether_session_start_seconds_count{start="cold"} 7
                tether_session_start_seconds_sum{start="cold"} 14.0
                """.formatted(below10ms, below100ms, total, total, sum));
    }

    private static PrometheusHistogram warm(PrometheusText text) {
        return PrometheusHistogram.read(text, "tether_session_start_seconds", l -> "warm".equals(l.get("start")))
                .orElseThrow();
    }

    @Test
    void quantilesInterpolateInsideTheirBucketAsPrometheusDoes() {
        PrometheusHistogram h = warm(metrics(10, 20, 20, 0.5));
        assertEquals(20, h.count());
        assertEquals(0.025, h.mean(), 1e-12);
        assertEquals(0.005, h.quantile(0.25), 1e-12, "rank 5 of the 10 in [0, 0.01]");
        assertEquals(0.01 + 0.09 * 0.8, h.quantile(0.9), 1e-12, "rank 18: 8 of the 10 in (0.01, 0.1]");
        PrometheusHistogram cold = PrometheusHistogram.read(
                        metrics(0, 0, 0, 0), "tether_session_start_seconds", l -> "cold".equals(l.get("start")))
                .orElseThrow();
        assertEquals(0.1, cold.quantile(0.5), 1e-12, "past the last finite bound: that bound");
    }

    @Test
    void aLaterReadingMinusAnEarlierOneCoversWhatHappenedBetween() {
        PrometheusHistogram before = warm(metrics(3, 3, 3, 0.015));
        PrometheusHistogram after = warm(metrics(13, 23, 23, 1.015));
        PrometheusHistogram between = after.minus(before);
        assertEquals(20, between.count());
        assertEquals(0.05, between.mean(), 1e-12);
        assertEquals(0.005, between.quantile(0.25), 1e-12);
        assertTrue(Double.isNaN(before.minus(before).quantile(0.5)), "nothing between two equal readings");
        assertTrue(PrometheusHistogram.read(metrics(0, 0, 0, 0), "missing", l -> true)
                .isEmpty());
    }
}
