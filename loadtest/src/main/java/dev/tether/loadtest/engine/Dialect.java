package dev.tether.loadtest.engine;

/**
 * What the engine speaks to a target.
 *
 * <ul>
 *   <li>{@link #TETHER}: the gateway's protocol (contract sections 1-3): a bearer token on the
 *       upgrade, {@code session_ready}, {@code message}/{@code accepted}/{@code event}/{@code status},
 *       {@code ack}, resume with {@code last_seq}, {@code end} at the end. The raw Netty baseline
 *       server speaks it too.</li>
 *   <li>{@link #LINES}: websocketd's line mode: no authentication and no envelope; each frame out
 *       is the worker's message line ({@code {"type":"message","id":...,"data":...}}, the same bytes
 *       as the gateway's {@code message} frame) and each frame in is one of the worker's event
 *       lines; a connection is a session (the worker process lives as long as it).</li>
 * </ul>
 */
public enum Dialect {
    TETHER,
    LINES;

    /** Whether the upgrade carries a bearer token and the server answers with {@code session_ready}. */
    boolean sessions() {
        return this == TETHER;
    }
}
