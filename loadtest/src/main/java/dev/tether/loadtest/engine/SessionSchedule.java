package dev.tether.loadtest.engine;

/**
 * One session's share of an open-loop schedule. The run's schedule is the same as the Tyrus
 * path's ({@code OpenLoopSchedule}): message {@code k} is due at {@code start + k / rate} and goes
 * to session {@code k mod sessions}. So session {@code i}'s {@code j}-th message is {@code k = i +
 * j * sessions}: each session can pace itself on its own event loop, and together they send
 * exactly the run's schedule. Latency counts from these times (coordinated omission corrected).
 *
 * <p>Pure arithmetic; immutable.
 */
public record SessionSchedule(long startNanos, double ratePerSecond, int index, int sessions) {

    public SessionSchedule {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("--rate: " + ratePerSecond + " (expected: > 0)");
        }
        if (sessions < 1 || index < 0 || index >= sessions) {
            throw new IllegalArgumentException("session " + index + " of " + sessions);
        }
    }

    /** When this session's {@code j}-th message (0, 1, ...) is due. */
    public long dueAt(long j) {
        long k = index + j * (long) sessions;
        return startNanos + Math.round(k * (1e9 / ratePerSecond));
    }
}
