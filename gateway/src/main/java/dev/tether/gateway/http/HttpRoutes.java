package dev.tether.gateway.http;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The plain HTTP endpoints of one listener, by method and path, and what the listener answers when
 * none matches. A path is exact ({@code /healthz}) or a template whose {@code {name}} segments match
 * any one non-empty segment ({@code /admin/sessions/{id}}). A {@code GET} route also serves {@code
 * HEAD}. Built once at start-up, then read-only and shared by every connection.
 *
 * <p>A path no route has is either passed on to the next pipeline stage (the main listener: the
 * WebSocket upgrade comes next) or answered with {@link Builder#notFound}; a path that some route has,
 * with another method, is answered 405 with an {@code Allow} header.
 */
public final class HttpRoutes {

    /** What {@link #match} found for a request. */
    public sealed interface Match {
        /** A route: call {@code endpoint}. */
        record Found(AsyncHttpEndpoint endpoint, Map<String, String> pathParams) implements Match {}

        /** The path is routed but not for this method: answer {@code answer} (405). */
        record WrongMethod(HttpAnswer answer) implements Match {}

        /** No route has the path: answer {@code notFound}, or pass the request on when there is none. */
        record NoRoute() implements Match {}
    }

    private record Route(HttpMethod method, String template, List<String> segments, AsyncHttpEndpoint endpoint) {

        /** The path parameters when {@code path} fits this route's template, else null. */
        Map<String, String> bind(String[] path) {
            if (path.length != segments.size()) {
                return null;
            }
            Map<String, String> params = new HashMap<>();
            for (int i = 0; i < segments.size(); i++) {
                String segment = segments.get(i);
                if (isParameter(segment)) {
                    if (path[i].isEmpty()) {
                        return null;
                    }
                    params.put(segment.substring(1, segment.length() - 1), path[i]);
                } else if (!segment.equals(path[i])) {
                    return null;
                }
            }
            return params;
        }
    }

    private final List<Route> routes;
    private final HttpAnswer notFound;
    private final Function<String, HttpAnswer> methodNotAllowed;
    private final HttpAnswer failed;

    private HttpRoutes(Builder builder) {
        this.routes = List.copyOf(builder.routes);
        this.notFound = builder.notFound;
        this.methodNotAllowed = builder.methodNotAllowed;
        this.failed = builder.failed;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The route for {@code method} on {@code path} (without the query), or why there is none. */
    public Match match(HttpMethod method, String path) {
        requireNonNull(method, "method");
        String[] segments = path.split("/", -1);
        HttpMethod wanted = HttpMethod.HEAD.equals(method) ? HttpMethod.GET : method;
        Set<String> allowed = new LinkedHashSet<>();
        for (Route route : routes) {
            Map<String, String> params = route.bind(segments);
            if (params == null) {
                continue;
            }
            if (route.method().equals(wanted)) {
                return new Match.Found(route.endpoint(), params);
            }
            allowed.add(route.method().name());
            if (HttpMethod.GET.equals(route.method())) {
                allowed.add(HttpMethod.HEAD.name());
            }
        }
        if (allowed.isEmpty()) {
            return new Match.NoRoute();
        }
        String allow = String.join(", ", allowed);
        return new Match.WrongMethod(methodNotAllowed.apply(allow).withHeader("Allow", allow));
    }

    /** The answer for a path no route has, or null when such requests go on to the next stage. */
    public HttpAnswer notFound() {
        return notFound;
    }

    /** The answer when an endpoint fails (throws, or its stage completes exceptionally): a 500. */
    public HttpAnswer failed() {
        return failed;
    }

    /** Every routed path (templates as written). */
    public Set<String> paths() {
        Set<String> paths = new LinkedHashSet<>();
        routes.forEach(route -> paths.add(route.template()));
        return paths;
    }

    private static boolean isParameter(String segment) {
        return segment.length() > 2 && segment.startsWith("{") && segment.endsWith("}");
    }

    /** Collects endpoints; a method and path may be registered once. */
    public static final class Builder {
        private final List<Route> routes = new ArrayList<>();
        private HttpAnswer notFound;
        private Function<String, HttpAnswer> methodNotAllowed = allow -> HttpAnswer.text(
                HttpResponseStatus.METHOD_NOT_ALLOWED,
                "text/plain; charset=utf-8",
                "method not allowed: use " + allow + "\n");

        private HttpAnswer failed = HttpAnswer.text(
                HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", "internal error\n");

        /** A {@code GET} (and {@code HEAD}) endpoint that answers from memory. */
        public Builder add(String path, HttpEndpoint endpoint) {
            requireNonNull(endpoint, "endpoint");
            return add(
                    HttpMethod.GET, path, call -> CompletableFuture.completedFuture(endpoint.handle(call.request())));
        }

        /** An endpoint for {@code method} on {@code path}, which may hold {@code {name}} segments. */
        public Builder add(HttpMethod method, String path, AsyncHttpEndpoint endpoint) {
            requireNonNull(method, "method");
            requireNonNull(path, "path");
            requireNonNull(endpoint, "endpoint");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with /: " + path);
            }
            if (HttpMethod.HEAD.equals(method)) {
                throw new IllegalArgumentException("HEAD is served by the GET route: " + path);
            }
            String[] segments = path.split("/", -1);
            for (Route route : routes) {
                if (route.method().equals(method) && route.template().equals(path)) {
                    throw new IllegalArgumentException("path registered twice: " + method + " " + path);
                }
            }
            routes.add(new Route(method, path, List.of(segments), endpoint));
            return this;
        }

        /** Answers requests for unrouted paths with {@code answer} instead of passing them on. */
        public Builder notFound(HttpAnswer answer) {
            this.notFound = requireNonNull(answer, "answer");
            return this;
        }

        /** The 405 answer, given the methods allowed on the path ({@code "GET, HEAD"}); the router adds {@code Allow}. */
        public Builder methodNotAllowed(Function<String, HttpAnswer> answer) {
            this.methodNotAllowed = requireNonNull(answer, "answer");
            return this;
        }

        /** The answer when an endpoint fails, instead of a plain-text 500. */
        public Builder failed(HttpAnswer answer) {
            this.failed = requireNonNull(answer, "answer");
            return this;
        }

        public HttpRoutes build() {
            return new HttpRoutes(this);
        }
    }
}
