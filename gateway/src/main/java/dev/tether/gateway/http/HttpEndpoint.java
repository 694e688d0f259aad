package dev.tether.gateway.http;

import io.netty.handler.codec.http.FullHttpRequest;

/**
 * One plain HTTP endpoint served next to the WebSocket (probes, metrics) or on the admin listener,
 * answering from memory. Runs on the connection's event loop: it must answer at once and never
 * block; an endpoint that needs other threads is an {@link AsyncHttpEndpoint}.
 */
@FunctionalInterface
public interface HttpEndpoint {

    /** The response to {@code request}; the router writes it and releases the request. */
    HttpAnswer handle(FullHttpRequest request);
}
