package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * When one {@link Session} may sleep without a worker (contract 1.2, 8.9): its worker has had no
 * turn for {@code limits.hibernate_after} and has sent a checkpoint since its last turn began. It
 * only keeps that account, in the session's clock's milliseconds; the session tells it what
 * happens and asks it, and itself checks that nothing else holds the worker (a turn, a queued
 * message, a pending request, a replacement, a drain).
 *
 * <p>The time the session becomes due is published through a volatile field, so that the
 * {@link HibernationSweep} can skip every session that is not due without hopping onto its loop.
 *
 * <p><b>Threading:</b> owned by a session and changed only on its event loop; {@link #dueBy} may be
 * read from any thread.
 */
final class Hibernation {

    private static final long NEVER = Long.MAX_VALUE;

    private final long afterMillis;
    /** Clock millis the worker's last turn ended (or it went idle first); {@link #NEVER} while a turn runs or before. */
    private long quietSince = NEVER;
    /** A checkpoint came since the last turn began (or the worker was resumed from one and had no turn since). */
    private boolean checkpointed;

    private volatile long dueAt = NEVER;

    /** @param after {@code limits.hibernate_after}; zero: the session never sleeps */
    Hibernation(Duration after) {
        requireNonNull(after, "after");
        this.afterMillis = after.isZero() ? NEVER : after.toMillis();
    }

    /** A message went to the worker: what it checkpointed before no longer holds everything. */
    void turnStarted() {
        quietSince = NEVER;
        checkpointed = false;
        publish();
    }

    /** The worker sent a checkpoint. */
    void checkpointed() {
        checkpointed = true;
        publish();
    }

    /** The session went idle on its worker at {@code nowMillis}: its quiet time counts from then. */
    void wentIdle(long nowMillis) {
        quietSince = nowMillis;
        publish();
    }

    /**
     * The session continues from a checkpoint with no turn after it (moved from another node): as
     * if that checkpoint had just come.
     */
    void resumedFromCheckpoint() {
        checkpointed = true;
        publish();
    }

    /** The session fell asleep, or woke: nothing counts until its worker goes idle again. */
    void reset() {
        quietSince = NEVER;
        publish();
    }

    /** Whether the session may be due by {@code nowMillis}. Any thread. */
    boolean dueBy(long nowMillis) {
        long due = dueAt;
        return due != NEVER && due <= nowMillis;
    }

    /**
     * Whether the session sleeps now, at {@code nowMillis}, given whether nothing but the idle
     * worker holds it ({@code idleWorkerOnly}: no turn, queue, pending request, replacement, drain
     * or hand-off). A worker that never checkpoints is never put to sleep.
     */
    boolean sleepNow(long nowMillis, boolean idleWorkerOnly) {
        return idleWorkerOnly
                && checkpointed
                && quietSince != NEVER
                && afterMillis != NEVER
                && nowMillis - quietSince >= afterMillis;
    }

    private void publish() {
        dueAt = checkpointed && quietSince != NEVER && afterMillis != NEVER ? quietSince + afterMillis : NEVER;
    }
}
