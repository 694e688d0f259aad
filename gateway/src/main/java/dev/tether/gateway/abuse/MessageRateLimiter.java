package dev.tether.gateway.abuse;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.config.AbuseConfig;

/**
 * The message rate of one session: every client frame takes a token from a {@link TokenBucket}
 * ({@code abuse.messages_per_second}, {@code abuse.message_burst}); a frame without a token is
 * refused ({@code rate_limited}) and is a strike. The {@code abuse.max_strikes}-th strike within a
 * {@code abuse.strike_window} asks for the connection to be closed (4008), and clears the strikes:
 * the close settles them, so a client that resumes starts with no strikes (but with the tokens the
 * bucket has, which a reconnect does not refill).
 *
 * <p>The window is fixed, not sliding: it opens at the first strike after the previous window
 * ended and lasts {@code strike_window}; its strike count starts at 0. So a client that spreads its
 * strikes over the boundary of two windows can get up to twice {@code max_strikes - 1} refusals
 * without a close, and the state is two numbers however large {@code max_strikes} is.
 *
 * <p>Belongs to the session, not the connection, so a reconnect does not reset the bucket. Not
 * thread-safe: used only on the session's event loop.
 */
public final class MessageRateLimiter {

    /** What to do with a frame. */
    public enum Verdict {
        /** Within the rate: handle the frame. */
        ALLOWED,
        /** Over the rate: answer {@code rate_limited} and ignore the frame. */
        LIMITED,
        /** Over the rate, and the last strike allowed: answer {@code rate_limited}, then close 4008. */
        CLOSE
    }

    private final Ticker ticker;
    private final TokenBucket bucket;
    private final int maxStrikes;
    private final long windowNanos;
    private int strikes;
    private long windowStart;

    public MessageRateLimiter(AbuseConfig config, Ticker ticker) {
        requireNonNull(config, "config");
        this.ticker = requireNonNull(ticker, "ticker");
        this.bucket = new TokenBucket(config.messagesPerSecond(), config.messageBurst(), ticker.read());
        this.maxStrikes = config.maxStrikes();
        this.windowNanos = config.strikeWindow().toNanos();
    }

    /** Counts one client frame. */
    public Verdict take() {
        long now = ticker.read();
        if (bucket.tryTake(now)) {
            return Verdict.ALLOWED;
        }
        if (strikes == 0 || now - windowStart >= windowNanos) {
            windowStart = now;
            strikes = 0;
        }
        strikes++;
        if (strikes < maxStrikes) {
            return Verdict.LIMITED;
        }
        strikes = 0;
        return Verdict.CLOSE;
    }

    /** Strikes in the current window, 0 right after a {@link Verdict#CLOSE} (for tests). */
    public int strikes() {
        return strikes;
    }
}
