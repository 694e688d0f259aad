package dev.tether.loadtest.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How ending a session on purpose turned out, for both clients ({@link VirtualUser#end()}, the
 * engine's {@code EngineSession.end()}). Immutable.
 *
 * @param ended  the server closed with 1000 after {@code end} (for websocketd: after the close)
 * @param detail for a failure, what happened: {@code close_<code>}, {@code no_status} (closed with 1000
 *     without {@code status ended client_end} first), {@code already_ended} (the session had ended
 *     before, e.g. a resume refused), {@code no_session} (it never opened); {@link #await} adds
 *     {@code timeout} and {@code failed}; null when ended
 */
public record EndOutcome(boolean ended, String detail) {
    public static final EndOutcome ENDED = new EndOutcome(true, null);
    public static final EndOutcome ALREADY_ENDED = new EndOutcome(false, "already_ended");

    /**
     * What ending a session comes to without sending {@code end}: {@code no_session} when it never
     * opened, {@code already_ended} when it has ended; null when {@code end} is to be sent.
     */
    public static EndOutcome unsent(boolean opened, boolean ended) {
        if (!opened) {
            return new EndOutcome(false, "no_session");
        }
        return ended ? ALREADY_ENDED : null;
    }

    /** What {@code end} came to by {@code deadlineNanos} ({@link System#nanoTime()}): {@code timeout} if nothing yet. */
    public static EndOutcome await(CompletableFuture<EndOutcome> end, long deadlineNanos) throws InterruptedException {
        try {
            return end.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return new EndOutcome(false, "timeout");
        } catch (ExecutionException e) {
            return new EndOutcome(false, "failed");
        }
    }
}
