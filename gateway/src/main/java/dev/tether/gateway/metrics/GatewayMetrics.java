package dev.tether.gateway.metrics;

import dev.tether.gateway.abuse.ConnectionGate;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.UpgradeRefusal;
import java.time.Duration;

/**
 * The events the gateway reports for its metrics. Implemented over Micrometer by {@link
 * MicrometerMetrics}; {@link #NONE} ignores everything (tests of other concerns, and the
 * constructors that predate metrics).
 *
 * <p>Every method may be called from any thread and must be cheap and non-blocking: they are called
 * on event loops. Tag values passed as strings must come from a fixed set (enum wire names or the
 * constants in {@link MeterNames}), never from client input, so the number of series stays bounded.
 * State that is sampled rather than counted (sessions by state, replay buffers, the pool) is not
 * reported here: {@link MicrometerMetrics} reads it through thread-safe snapshots at scrape time.
 */
public interface GatewayMetrics {

    /** Reports nothing. */
    GatewayMetrics NONE = new GatewayMetrics() {};

    /** How a session got its first worker. */
    enum StartKind {
        /** A warm worker from the pool, ready at once. */
        WARM("warm"),
        /** A worker launched for the session, which waited in {@code preparing}. */
        COLD("cold");

        private final String tag;

        StartKind(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /** What made a session replace its worker. */
    enum RestartCause {
        /** The worker exited without being asked. */
        CRASH("crash"),
        /** Over {@code limits.rss_soft_limit}: replaced once the turn ends. */
        RSS_SOFT("rss_soft"),
        /** Over {@code limits.rss_hard_limit}: killed. */
        RSS_HARD("rss_hard"),
        /** Killed by the kernel at its control group's memory limit ({@code limits.rss_hard_limit}). */
        MEMORY_LIMIT("memory_limit"),
        /** Silent through a turn for three times {@code limits.turn_stall_timeout}: killed. */
        STALLED("stalled"),
        /** Its working directory over {@code worker.process.disk_hard_limit}: killed. */
        DISK_HARD("disk_hard");

        private final String tag;

        RestartCause(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /** A WebSocket handshake completed. */
    default void connectionOpened() {}

    /** A {@code wait=1} connection joined the admission line ({@code +1}) or left it ({@code -1}). */
    default void admissionWaiting(int delta) {}

    /** A waiting connection was admitted after waiting {@code waited}. */
    default void admissionWaited(Duration waited) {}

    /** A waiting connection waited longer than {@code sessions.admission.max_wait}. */
    default void admissionTimedOut() {}

    /** A WebSocket handshake completed with permessage-deflate negotiated (after {@link #connectionOpened()}). */
    default void connectionCompressed() {}

    /** A connection that had completed its handshake closed. */
    default void connectionClosed() {}

    /** An upgrade request was answered with an HTTP refusal. */
    default void upgradeRefused(UpgradeRefusal refusal) {}

    /** A connection was closed by an accept-time limit ({@link ConnectionGate.Outcome}). */
    default void connectionRefused(ConnectionGate.Outcome outcome) {}

    /** Accepting a connection failed: the process had no file descriptor left. */
    default void acceptFailed() {}

    /**
     * A token was refused.
     *
     * @param stage {@link MeterNames#STAGE_UPGRADE} or {@link MeterNames#STAGE_REFRESH}
     * @param reason a bounded reason: a {@code TokenRejectedException.Reason} name (any case) or a
     *     {@code MeterNames.AUTH_*} constant
     */
    default void authFailed(String stage, String reason) {}

    /** A client frame was decoded into a message. */
    default void messageIn() {}

    /** A server message was written to a client. */
    default void messageOut() {}

    /**
     * A {@code batch} frame (contract 8.4) was written to a client; each message in it is a {@link
     * #messageOut} too.
     */
    default void batchOut() {}

    /** A client frame was refused before it reached its session. */
    default void frameRejected(ErrorCode code) {}

    /**
     * A resume attached to a live session.
     *
     * @param replayed history messages re-sent to it
     * @param gap whether it was told {@code replay_gap}
     */
    default void resumed(int replayed, boolean gap) {}

    /** A session's first worker is ready, {@code elapsed} after the session was created. */
    default void sessionStarted(StartKind kind, Duration elapsed) {}

    /** A session ended; {@code reason} is its end reason on the wire. */
    default void sessionEnded(String reason) {}

    /**
     * A take-over of a session from the shared store finished, {@code elapsed} after a resume asked
     * for it; {@code outcome} is a {@code MeterNames.TAKEOVER_*} constant.
     */
    default void sessionTakenOver(String outcome, Duration elapsed) {}

    /** A session was created as a fork (contract 1.2, 8.2); {@code fromCheckpoint}: its parent had a checkpoint. */
    default void sessionForked(boolean fromCheckpoint) {}

    /** A session left this node alive; {@code reason} is a {@code MeterNames.LEFT_*} constant. */
    default void sessionLeft(String reason) {}

    /** A viewer connection attached to a session (contract 7.4). */
    default void viewerAttached() {}

    /**
     * A viewer connection left its session; {@code cutReason} is a {@code MeterNames.VIEWER_CUT_*}
     * constant when the gateway disconnected it, null when it went by itself (closed, token expired ...).
     */
    default void viewerDetached(String cutReason) {}

    /**
     * A running turn's worker stayed silent for {@code limits.turn_stall_timeout} once, twice or three
     * times; {@code stage} is {@code stalled}, {@code interrupt} or {@code restart}.
     */
    default void turnStalled(String stage) {}

    /** A worker's request to the user was shown to the client (contract 7.3). */
    default void requestOpened() {}

    /**
     * A worker's request was resolved: {@code answered}, {@code timeout}, {@code cancelled}, or
     * {@code refused} (over {@code limits.max_pending_requests}, never shown).
     */
    default void requestResolved(String outcome) {}

    /** A worker's first event of a turn came {@code elapsed} after the message was handed to it. */
    default void turnFirstEvent(Duration elapsed) {}

    /** A session went to sleep: its worker stopped ({@code limits.hibernate_after}, contract 1.2, 8.9). */
    default void sessionHibernated() {}

    /** A sleeping session's new worker was ready {@code elapsed} after the message that woke it. */
    default void sessionWoke(Duration elapsed) {}

    /** A session is replacing its worker. */
    default void workerRestarted(RestartCause cause) {}

    /**
     * One round of RSS sampling finished.
     *
     * @param workers worker process trees measured
     * @param totalBytes their RSS summed
     * @param maxBytes the largest of them (0 when none)
     */
    default void workerRss(int workers, long totalBytes, long maxBytes) {}

    /** A worker's working directory passed {@code worker.process.disk_soft_limit}: notice {@code disk_warning}. */
    default void diskWarning() {}

    /**
     * One round of disk measurement finished.
     *
     * @param workers working directories measured a step further
     * @param maxBytes the largest figure a finished measurement gave of any of them
     * @param entries directory entries visited in the round
     */
    default void workerDisk(int workers, long maxBytes, long entries) {}
}
