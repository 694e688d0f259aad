package dev.tether.gateway.http;

import io.netty.handler.codec.http.FullHttpRequest;

/**
 * One plain HTTP endpoint served next to the WebSocket (probes, metrics) or on the admin listener.
 * Runs on the connection's event loop: it must answer from memory and never block.
 */
@FunctionalInterface
public interface HttpEndpoint {

    /** The response to {@code request}; the router writes it and releases the request. */
    HttpAnswer handle(FullHttpRequest request);
}
