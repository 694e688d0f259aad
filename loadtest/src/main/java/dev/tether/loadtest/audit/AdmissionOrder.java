package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The audit of a {@code surge} run's admission line (contract 8.1): every waiting client was served
 * in arrival order or timed out as configured.
 *
 * <p><b>Arrival order</b> is the order in which the gateway put the clients in line, which is the
 * order of their first {@code queued} frames. The {@code surge} scenario makes it exact: it opens
 * the waiting connections one after another, each only once the one before has its first
 * {@code queued} frame, so the gateway joined each before the next one's upgrade was even sent. A
 * client that got {@code session_ready} without a {@code queued} frame never waited and is not a
 * waiter.
 *
 * <p>What counts as a violation, for waiters given in arrival order:
 *
 * <ul>
 *   <li>{@link Kind#OVERTAKEN}: a waiter B was served ({@code session_ready} received) more than
 *       {@code slack} before an earlier waiter A was served or timed out (its
 *       {@code admission_timeout} received): B went ahead while A still waited. {@code slack} is the
 *       delivery jitter allowed between two connections (frames of two sockets may be read out of
 *       the order the gateway wrote them in).
 *   <li>{@link Kind#EARLY_TIMEOUT}: a waiter timed out less than {@code max_wait - slack} after its
 *       first {@code queued} frame.
 *   <li>{@link Kind#LATE}: a waiter was neither served nor timed out within {@code max_wait} + 1 s
 *       (the line checks time-outs once a second) + {@code slack} of its first {@code queued} frame.
 *   <li>{@link Kind#POSITION_ROSE}: a waiter's {@code position} went up (in a first-come,
 *       first-served line it only goes down: newcomers join behind).
 * </ul>
 *
 * <p>Waiters whose connection ended otherwise (refused, closed, drained) are left out of the order
 * (they are counted apart by the scenario). Pure function of its input; thread-safe.
 */
public final class AdmissionOrder {

    /** What a waiter's wait ended with. */
    public enum End {
        /** {@code session_ready}. */
        SERVED,
        /** error {@code admission_timeout} (close 1013). */
        TIMED_OUT,
        /** anything else (drained, closed, never answered): not audited for order. */
        OTHER
    }

    /** The kinds of violation; see the class comment. */
    public enum Kind {
        OVERTAKEN,
        EARLY_TIMEOUT,
        LATE,
        POSITION_ROSE
    }

    /**
     * One waiting client.
     *
     * @param id the client's index, for the report
     * @param firstQueuedNanos when its first {@code queued} frame arrived (System.nanoTime)
     * @param positions every place in line it was told, in order
     * @param end how its wait ended
     * @param endNanos when ({@code session_ready} or the {@code admission_timeout} error arrived)
     */
    public record Waiter(int id, long firstQueuedNanos, List<Integer> positions, End end, long endNanos) {
        public Waiter {
            requireNonNull(positions, "positions");
            requireNonNull(end, "end");
            positions = List.copyOf(positions);
        }
    }

    /** One violation: its kind, the waiter it concerns and what happened. */
    public record Violation(Kind kind, int id, String detail) {}

    private AdmissionOrder() {}

    /**
     * The violations among {@code waiters} (in arrival order) of a line with {@code maxWait}
     * ({@code sessions.admission.max_wait}), allowing {@code slack} of delivery jitter.
     */
    public static List<Violation> check(List<Waiter> waiters, Duration maxWait, Duration slack) {
        long slackNanos = slack.toNanos();
        long earliestTimeout = maxWait.toNanos() - slackNanos;
        long latest = maxWait.plusSeconds(1).toNanos() + slackNanos;
        List<Violation> violations = new ArrayList<>();
        Waiter lastEnding = null; // of the earlier waiters audited so far, the one whose wait ended last
        for (Waiter w : waiters) {
            for (int i = 1; i < w.positions().size(); i++) {
                if (w.positions().get(i) > w.positions().get(i - 1)) {
                    violations.add(new Violation(Kind.POSITION_ROSE, w.id(), "positions " + w.positions()));
                    break;
                }
            }
            if (w.end() == End.OTHER) {
                continue;
            }
            long waited = w.endNanos() - w.firstQueuedNanos();
            if (w.end() == End.TIMED_OUT && waited < earliestTimeout) {
                violations.add(new Violation(
                        Kind.EARLY_TIMEOUT, w.id(), "timed out after " + millis(waited) + " ms, max_wait " + maxWait));
            }
            if (waited > latest) {
                violations.add(new Violation(
                        Kind.LATE,
                        w.id(),
                        (w.end() == End.SERVED ? "served" : "timed out") + " after " + millis(waited) + " ms, max_wait "
                                + maxWait));
            }
            if (w.end() == End.SERVED && lastEnding != null && lastEnding.endNanos() - w.endNanos() > slackNanos) {
                violations.add(new Violation(
                        Kind.OVERTAKEN,
                        w.id(),
                        "served " + millis(lastEnding.endNanos() - w.endNanos()) + " ms before client "
                                + lastEnding.id() + ", which arrived earlier, was "
                                + (lastEnding.end() == End.SERVED ? "served" : "timed out")));
            }
            if (lastEnding == null || w.endNanos() > lastEnding.endNanos()) {
                lastEnding = w;
            }
        }
        return violations;
    }

    private static long millis(long nanos) {
        return Math.round(nanos / 1e6);
    }
}
