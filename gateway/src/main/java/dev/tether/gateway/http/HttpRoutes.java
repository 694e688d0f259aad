package dev.tether.gateway.http;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The plain HTTP endpoints of one listener, by exact path. Built once at start-up, then read-only
 * and shared by every connection.
 */
public final class HttpRoutes {

    private final Map<String, HttpEndpoint> endpoints;

    private HttpRoutes(Map<String, HttpEndpoint> endpoints) {
        this.endpoints = Map.copyOf(endpoints);
    }

    /** No endpoints: every path goes on to the WebSocket upgrade stage. */
    public static HttpRoutes none() {
        return new HttpRoutes(Map.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The endpoint for {@code path}, if any. */
    public Optional<HttpEndpoint> find(String path) {
        return Optional.ofNullable(endpoints.get(path));
    }

    /** Every routed path. */
    public java.util.Set<String> paths() {
        return endpoints.keySet();
    }

    /** Collects endpoints; a path may be registered once. */
    public static final class Builder {
        private final Map<String, HttpEndpoint> endpoints = new LinkedHashMap<>();

        public Builder add(String path, HttpEndpoint endpoint) {
            requireNonNull(path, "path");
            requireNonNull(endpoint, "endpoint");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with /: " + path);
            }
            if (endpoints.putIfAbsent(path, endpoint) != null) {
                throw new IllegalArgumentException("path registered twice: " + path);
            }
            return this;
        }

        public HttpRoutes build() {
            return new HttpRoutes(endpoints);
        }
    }
}
