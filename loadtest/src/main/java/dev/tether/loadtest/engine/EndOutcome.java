package dev.tether.loadtest.engine;

/**
 * How {@link EngineSession#end()} turned out (the same vocabulary as the Tyrus client's). Immutable.
 *
 * @param ended  the server closed with 1000 after {@code end} (for websocketd: after the close)
 * @param detail for a failure: {@code close_<code>}, {@code no_status} (closed with 1000 without
 *     {@code status ended client_end} first), {@code already_ended}, {@code no_session}; callers that
 *     stop waiting add their own ({@code timeout}); null when ended
 */
public record EndOutcome(boolean ended, String detail) {
    public static final EndOutcome ENDED = new EndOutcome(true, null);
    public static final EndOutcome ALREADY_ENDED = new EndOutcome(false, "already_ended");
}
