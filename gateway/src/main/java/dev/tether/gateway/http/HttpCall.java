package dev.tether.gateway.http;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.http.FullHttpRequest;
import java.util.Map;

/**
 * One request as an {@link AsyncHttpEndpoint} sees it: the aggregated request and the values of the
 * route's path parameters ({@code {id}} in {@code /admin/sessions/{id}}).
 *
 * <p>The request belongs to the router, which releases it once the answer is complete; an endpoint
 * reads what it needs and does not keep it.
 *
 * @param request the request, valid until the endpoint's answer completes
 * @param pathParams parameter name to the (undecoded) path segment it matched
 */
public record HttpCall(FullHttpRequest request, Map<String, String> pathParams) {

    public HttpCall {
        requireNonNull(request, "request");
        pathParams = Map.copyOf(requireNonNull(pathParams, "pathParams"));
    }

    /** The value of path parameter {@code name}. */
    public String param(String name) {
        String value = pathParams.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no path parameter " + name + " in this route");
        }
        return value;
    }
}
