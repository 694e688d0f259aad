package dev.tether.gateway.abuse;

import static dev.tether.gateway.abuse.MessageRateLimiter.Verdict.ALLOWED;
import static dev.tether.gateway.abuse.MessageRateLimiter.Verdict.CLOSE;
import static dev.tether.gateway.abuse.MessageRateLimiter.Verdict.LIMITED;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tether.gateway.config.ConfigLoader;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MessageRateLimiterTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(-5 * SECOND);
    private final MessageRateLimiter limiter =
            new MessageRateLimiter(ConfigLoader.parse("""
            abuse:
              messages_per_second: 10
              message_burst: 2
              max_strikes: 3
              strike_window: 10s
            """, Map.of()).abuse(), now::get);

    @Test
    void theMaxStrikesThStrikeWithinTheWindowCloses() {
        assertEquals(ALLOWED, limiter.take());
        assertEquals(ALLOWED, limiter.take());
        assertEquals(LIMITED, limiter.take());
        assertEquals(LIMITED, limiter.take());
        assertEquals(2, limiter.strikes());
        assertEquals(CLOSE, limiter.take());
        assertEquals(0, limiter.strikes(), "the close settles the strikes");
        assertEquals(LIMITED, limiter.take(), "still no token, but a fresh count of strikes");
        assertEquals(LIMITED, limiter.take());
        assertEquals(CLOSE, limiter.take());
    }

    @Test
    void tokensRefillAndAllowedFramesAreNoStrikes() {
        assertEquals(ALLOWED, limiter.take());
        assertEquals(ALLOWED, limiter.take());
        assertEquals(LIMITED, limiter.take());
        now.addAndGet(SECOND / 10);
        assertEquals(ALLOWED, limiter.take());
        assertEquals(LIMITED, limiter.take());
        assertEquals(2, limiter.strikes());
    }

    @Test
    void strikesOfAnEndedWindowDoNotCount() {
        limiter.take();
        limiter.take();
        assertEquals(LIMITED, limiter.take());
        assertEquals(LIMITED, limiter.take());
        // Still no token 10 s later only if we spend them: jump and drain the bucket again.
        now.addAndGet(10 * SECOND);
        assertEquals(ALLOWED, limiter.take());
        assertEquals(ALLOWED, limiter.take());
        assertEquals(LIMITED, limiter.take(), "a new window starts at 1");
        assertEquals(1, limiter.strikes());
        assertEquals(LIMITED, limiter.take());
        assertEquals(CLOSE, limiter.take());
    }
}
