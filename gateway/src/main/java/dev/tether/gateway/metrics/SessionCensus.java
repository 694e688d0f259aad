package dev.tether.gateway.metrics;

import static java.util.Objects.requireNonNull;

import dev.tether.protocol.SessionState;
import java.util.Map;

/**
 * A snapshot of the live sessions, taken at scrape time through the session registry (from
 * volatile fields each session publishes on its own loop), for the sampled session gauges.
 *
 * @param byState live sessions per state; states without sessions may be absent
 * @param attached sessions with a connection
 * @param detached sessions without one
 * @param replayMessages history messages kept for replay, summed
 * @param replayBytes encoded bytes kept for replay, summed
 * @param storeAway sessions showing output without waiting for the shared store, which does not answer
 */
public record SessionCensus(
        Map<SessionState, Integer> byState,
        int attached,
        int detached,
        long replayMessages,
        long replayBytes,
        int storeAway) {

    public SessionCensus {
        byState = Map.copyOf(requireNonNull(byState, "byState"));
    }

    /** No sessions. */
    public static SessionCensus empty() {
        return new SessionCensus(Map.of(), 0, 0, 0, 0, 0);
    }

    /** Sessions in {@code state}. */
    public int count(SessionState state) {
        return byState.getOrDefault(state, 0);
    }
}
