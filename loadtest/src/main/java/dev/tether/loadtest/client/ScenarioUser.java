package dev.tether.loadtest.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;

/**
 * One virtual user as the scenarios that run on either client drive it ({@code connect},
 * {@code resume}, {@code idle}): the Tyrus client's {@link VirtualUser} or the Netty engine's
 * {@code EngineSession}. Callable from any thread; each keeps its own threading.
 */
public interface ScenarioUser {

    /** A new message id, unique within the user's sessions. */
    String newId();

    /** Sends message {@code id} with {@code data}; its latency counts from {@code scheduledNanos}. */
    void send(String id, JsonNode data, long scheduledNanos);

    /** A clean (or abrupt) cut; the user resumes {@code resumeAfter} after the close. */
    void cut(boolean abrupt, Duration resumeAfter);

    /** Whether the session's first worker is ready. */
    boolean workerReady();

    /** Whether the session has ended or could not be resumed. */
    boolean ended();

    /**
     * Waits until every message is answered and a resume has caught up, at most until
     * {@code deadlineNanos}; blocks, so never on an event loop.
     */
    boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException;
}
