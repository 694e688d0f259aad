package dev.tether.loadtest.scenario;

/**
 * When each message of an open-loop workload is due: message {@code k} (0, 1, 2, ...) at
 * {@code start + k / rate}, whatever happened to the earlier ones. The sender takes every message
 * whose time has come, late or not, so a stall shows up as latency measured from these times
 * (no coordinated omission) instead of as a quietly lower rate.
 *
 * <p>Pure arithmetic on the nanosecond times it is given; one sender thread uses it.
 */
final class OpenLoopSchedule {

    private final long startNanos;
    private final double nanosPerMessage;
    private long next;

    /**
     * @param startNanos    when message 0 is due
     * @param ratePerSecond messages per second in total, > 0
     */
    OpenLoopSchedule(long startNanos, double ratePerSecond) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("--rate: " + ratePerSecond + " (expected: > 0)");
        }
        this.startNanos = startNanos;
        this.nanosPerMessage = 1e9 / ratePerSecond;
    }

    /** When message {@code k} is due. */
    long scheduledAt(long k) {
        return startNanos + Math.round(k * nanosPerMessage);
    }

    /** When the next message not yet taken is due. */
    long nextDue() {
        return scheduledAt(next);
    }

    /**
     * Takes the next message if it is due at {@code nowNanos}.
     *
     * @return its number, or -1 when it is not due yet
     */
    long take(long nowNanos) {
        if (scheduledAt(next) > nowNanos) {
            return -1;
        }
        return next++;
    }

    /** How many messages have been taken. */
    long taken() {
        return next;
    }
}
