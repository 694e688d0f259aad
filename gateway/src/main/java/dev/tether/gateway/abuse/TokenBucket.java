package dev.tether.gateway.abuse;

/**
 * A token bucket: holds up to {@code capacity} tokens, refilled continuously at {@code ratePerSecond};
 * each admitted event takes one. A new bucket is full. Time is passed in by the caller (nanoseconds
 * from one monotonic source), so the bucket reads no clock.
 *
 * <p>Not thread-safe: confine it to one thread (a session's loop) or guard it (the address limiter
 * locks each bucket).
 */
public final class TokenBucket {

    private final double capacity;
    private final double tokensPerNano;
    private double tokens;
    private long refilledAt;

    /**
     * @param ratePerSecond tokens added per second, > 0
     * @param capacity the most tokens held, and the burst a fresh bucket admits, >= 1
     * @param now the current time in nanoseconds, from the same source later calls use
     */
    public TokenBucket(double ratePerSecond, int capacity, long now) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("ratePerSecond must be > 0 and finite: " + ratePerSecond);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1: " + capacity);
        }
        this.capacity = capacity;
        this.tokensPerNano = ratePerSecond / 1e9;
        this.tokens = capacity;
        this.refilledAt = now;
    }

    /** Takes a token if one is available at {@code now}; false leaves the bucket as it was. */
    public boolean tryTake(long now) {
        refill(now);
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** Nanoseconds from {@code now} until a token is available; 0 when one is available now. */
    public long nanosUntilToken(long now) {
        refill(now);
        if (tokens >= 1) {
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / tokensPerNano));
    }

    /** Nanoseconds an empty bucket takes to fill up: after this long untouched a bucket is as good as new. */
    public long nanosToFill() {
        return (long) Math.ceil(capacity / tokensPerNano);
    }

    private void refill(long now) {
        long elapsed = now - refilledAt;
        if (elapsed <= 0) {
            // Time did not move (or a caller's reading raced another's): nothing to add.
            return;
        }
        refilledAt = now;
        tokens = Math.min(capacity, tokens + elapsed * tokensPerNano);
    }
}
