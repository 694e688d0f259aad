package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A virtual user's time away from its session, from a cut (planned, or a drop it did not plan)
 * until one connection has resumed it: the plan, the attempts, the connections racing in the
 * current attempt and what became of each, and what the gateway said if it refused the resume.
 * State only, with answers for its user's decisions; guarded by the user's lock.
 */
final class Outage {

    /** What the current attempt has come to. */
    enum Decision {
        /** Connections are still open without a winner. */
        WAIT,
        /** One connection is left, with its session_ready: it owns the session. */
        SETTLE,
        /** Every connection ended and the gateway said the session is gone (expired, not found, refused). */
        SESSION_GONE,
        /** Every connection ended because the handshake was cut on purpose: try again at once. */
        RETRY_NOW,
        /** Every connection ended unplanned: try again a little later. */
        RETRY_LATER,
        /** Too many unplanned failures in a row. */
        GIVE_UP
    }

    final Disruption plan;
    final long cutAtNanos;
    /** Resume attempts so far (a handshake cut or a failure makes another). */
    int attempt;

    long attemptStartNanos;
    /** The gateway answered an attempt with {@code session_busy} (resume again later), as it may while sessions move. */
    boolean busy;
    /** With several gateway nodes: the node the current attempt went to. */
    String lastNode;
    /** From the cut to the first attempt. */
    long offlineNanos;
    /** The current attempt's handshake is cut on purpose: its failure is planned. */
    boolean handshakeCut;
    /** Unplanned failed attempts in a row. */
    int failures;
    /** A half-open connection's gateway side closed (heartbeat) before the first attempt. */
    boolean halfOpenFound;
    /** {@code session_expired}'s reason, when the gateway said so. */
    String expiredReason;

    boolean notFound;
    boolean invalidSequence;
    private final List<Wire> racers = new ArrayList<>();
    private final Set<Wire> out = new HashSet<>();

    Outage(Disruption plan, long cutAtNanos) {
        this.plan = requireNonNull(plan, "plan");
        this.cutAtNanos = cutAtNanos;
    }

    /** A new attempt begins at {@code now}; the previous one's connections are all out. */
    void newAttempt(long now) {
        if (attempt == 0) {
            offlineNanos = now - cutAtNanos;
        }
        attempt++;
        attemptStartNanos = now;
        handshakeCut = false;
        racers.clear();
        out.clear();
    }

    void add(Wire racer) {
        racers.add(racer);
    }

    boolean races(Wire wire) {
        return racers.contains(wire);
    }

    /** {@code racer} ended (closed, refused, failed); false when it had already. */
    boolean out(Wire racer) {
        return racers.contains(racer) && out.add(racer);
    }

    boolean isOut(Wire racer) {
        return out.contains(racer);
    }

    /** How many connections this attempt opened. */
    int size() {
        return racers.size();
    }

    /** Every connection of this attempt has ended. */
    boolean allOut() {
        return out.size() == racers.size();
    }

    /** The one connection left with its {@code session_ready}, once every other has ended; else null. */
    Wire winner() {
        Wire left = null;
        for (Wire racer : racers) {
            if (!out.contains(racer)) {
                if (left != null) {
                    return null;
                }
                left = racer;
            }
        }
        return left != null && left.sawReady ? left : null;
    }

    /**
     * Decides what the current attempt has come to, counting an unplanned failure when every
     * connection ended without one; {@code maxFailures} in a row give up.
     */
    Decision decide(int maxFailures) {
        if (winner() != null) {
            return Decision.SETTLE;
        }
        if (!allOut()) {
            return Decision.WAIT;
        }
        if (expiredReason != null || notFound || invalidSequence) {
            return Decision.SESSION_GONE;
        }
        if (handshakeCut) {
            return Decision.RETRY_NOW;
        }
        failures++;
        return failures >= maxFailures ? Decision.GIVE_UP : Decision.RETRY_LATER;
    }

    /** The connections still open (for closing them when the user stops). */
    List<Wire> open() {
        List<Wire> open = new ArrayList<>();
        for (Wire racer : racers) {
            if (!out.contains(racer)) {
                open.add(racer);
            }
        }
        return open;
    }
}
