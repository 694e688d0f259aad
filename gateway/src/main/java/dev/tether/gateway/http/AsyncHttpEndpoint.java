package dev.tether.gateway.http;

import java.util.concurrent.CompletionStage;

/**
 * A plain HTTP endpoint whose answer may need work on other threads (the admin API gathers session
 * snapshots from their event loops). Called on the connection's event loop: it must not block, only
 * start work and return the stage; the router writes the answer when the stage completes, on the
 * connection's event loop.
 */
@FunctionalInterface
public interface AsyncHttpEndpoint {

    /** The answer to {@code call}; a stage that fails is answered 500. */
    CompletionStage<HttpAnswer> handle(HttpCall call);
}
