package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import dev.tether.testkit.TcpRelay;
import java.time.Duration;

/**
 * One planned failure of a virtual user's connection and how it comes back: how the connection is
 * cut, how long the user stays away, and how the resume goes (several connections racing for the
 * session, a cut during its handshake or during its replay, a {@code last_seq} below what was
 * processed). Immutable; the chaos scenario draws them, {@link VirtualUser#cut(Disruption)} acts
 * them out.
 *
 * @param cut          how the connection ends
 * @param offline      time from the cut to the resume
 * @param aimed        wait (up to a second) for the next delta of a turn and cut right after it, so that
 *                     the rest of the turn crosses the cut
 * @param expectExpiry the user stays away past the gateway's reconnect window: the resume must come back
 *                     {@code session_expired}, and the user starts a new session
 * @param racers       connections that resume the session at once (1: an ordinary resume); exactly one must win
 * @param handshakeCut where the first resume attempt's handshake is cut, or null for none
 * @param replayCut    the resume is cut again right after the first replayed event, while more are due
 * @param rewind       resume with {@code last_seq} this many seqs below what was processed (not below the
 *                     last ack), so that the replay re-sends seen events to compare
 */
public record Disruption(
        Cut cut,
        Duration offline,
        boolean aimed,
        boolean expectExpiry,
        int racers,
        TcpRelay.HandshakeCut handshakeCut,
        boolean replayCut,
        int rewind) {

    /** How a connection ends. */
    public enum Cut {
        /** A WebSocket close (1000) from the client. */
        CLEAN("clean"),
        /** A TCP reset both sides see at once. */
        ABRUPT("abrupt"),
        /** The connection stays open and drops every byte: only heartbeats find it. */
        BLACKHOLE("blackhole"),
        /** The client stops reading (and writing): the gateway's writes back up, heartbeats must find it. */
        STALL("stall");

        private final String key;

        Cut(String key) {
            this.key = key;
        }

        /** The name in counters ({@code cuts_<key>}). */
        public String key() {
            return key;
        }

        /** Whether the connection is left half-open rather than closed. */
        public boolean halfOpen() {
            return this == BLACKHOLE || this == STALL;
        }
    }

    public Disruption {
        requireNonNull(cut, "cut");
        requireNonNull(offline, "offline");
        if (offline.isNegative()) {
            throw new IllegalArgumentException("offline: " + offline + " (expected: >= 0)");
        }
        if (racers < 1) {
            throw new IllegalArgumentException("racers: " + racers + " (expected: >= 1)");
        }
        if (rewind < 0) {
            throw new IllegalArgumentException("rewind: " + rewind + " (expected: >= 0)");
        }
    }

    /** A plain cut (clean, or abrupt when the user has a relay) and a plain resume after {@code offline}. */
    public static Disruption of(boolean abrupt, Duration offline) {
        return new Disruption(abrupt ? Cut.ABRUPT : Cut.CLEAN, offline, false, false, 1, null, false, 0);
    }
}
