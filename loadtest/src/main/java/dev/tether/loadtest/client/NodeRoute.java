package dev.tether.loadtest.client;

import java.net.URI;

/**
 * Where a virtual user connects when several gateway nodes share their sessions: the node a
 * session was served by ({@code session_ready.node}) while it is up, else another node that is up,
 * as a client behind a proxy would be routed. It also tells the user what happened to a node (a
 * drain, a kill), so that the connection lost with it is expected and the time to get the session
 * back on another node can be measured from the fault. Implementations are thread-safe.
 */
public interface NodeRoute {

    /** A node a connection can go to: its id ({@code server.node_id}) and its WebSocket endpoint. */
    record Node(String id, URI uri) {}

    /**
     * A fault put on a node.
     *
     * @param kind    {@code drain}, {@code kill} or {@code restart}
     * @param atNanos when the signal went ({@link System#nanoTime()})
     */
    record Fault(String kind, long atNanos) {}

    /**
     * The node for a new connection: {@code preferred} when it is up (and not {@code elsewhere}),
     * else another node that is up ({@code user} spreads the choice), or the preferred one anyway
     * when no other is up.
     *
     * @param preferred the node that served the session last, or null for a new session
     * @param elsewhere avoid {@code preferred} even when it is up (a live hand-off)
     */
    Node pick(String preferred, boolean elsewhere, int user);

    /** Share of resumes a user sends to another node while its session's node is up (live hand-offs), 0 to 1. */
    double hopRatio();

    /** The last fault put on {@code node}, or null when none was. */
    Fault lastFault(String node);
}
