package dev.tether.gateway.agents;

import java.util.concurrent.CompletableFuture;

/**
 * A reply scripted on a model-API stand-in, followed as it is served, so a test can act at the
 * right moment (interrupt while a slow stream is under way) and see how it ended (did the CLI drop
 * the connection). Its futures complete on the stand-in's event loop; wait on them with a deadline.
 */
public final class ServedReply {

    /** How a reply ended. */
    public enum Outcome {
        /** Written in full (a stream to its last event, a JSON or error body). */
        COMPLETED,
        /** Cut off by the stand-in, as scripted. */
        CUT,
        /** The client closed the connection before the stream ended (an interrupted turn). */
        CLOSED_BY_CLIENT
    }

    private final CompletableFuture<RecordedRequest> started = new CompletableFuture<>();
    private final CompletableFuture<Outcome> finished = new CompletableFuture<>();

    ServedReply() {}

    /** Completes with the request this reply answers, once its first bytes are written. */
    public CompletableFuture<RecordedRequest> started() {
        return started;
    }

    /** Completes with how the reply ended. */
    public CompletableFuture<Outcome> finished() {
        return finished;
    }
}
