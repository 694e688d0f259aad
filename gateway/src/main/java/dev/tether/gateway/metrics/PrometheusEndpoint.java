package dev.tether.gateway.metrics;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpEndpoint;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * {@code GET /metrics}: the registry in the Prometheus text format (0.0.4). Scraping reads meters in
 * memory (gauges sample thread-safe snapshots), so it is fine on the connection's event loop.
 */
public final class PrometheusEndpoint implements HttpEndpoint {

    /** The content type of the Prometheus text exposition format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    public PrometheusEndpoint(PrometheusMeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
    }

    @Override
    public HttpAnswer handle(FullHttpRequest request) {
        return HttpAnswer.text(HttpResponseStatus.OK, CONTENT_TYPE, registry.scrape(CONTENT_TYPE));
    }
}
