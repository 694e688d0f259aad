/**
 * Metrics: {@link dev.tether.gateway.metrics.GatewayMetrics}, the events the gateway reports;
 * {@link dev.tether.gateway.metrics.MicrometerMetrics}, its Micrometer implementation;
 * {@link dev.tether.gateway.metrics.MeterNames}, every meter name and tag in one place; and
 * {@link dev.tether.gateway.metrics.PrometheusEndpoint}, {@code GET /metrics}. The meters are listed
 * in docs/operations.md.
 */
package dev.tether.gateway.metrics;
