package dev.tether.gateway.abuse;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.config.AbuseConfig;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;

/**
 * Connection attempts per client address: one {@link TokenBucket} per address, refilled at
 * {@code abuse.connections_per_second} and holding {@code abuse.connection_burst}, so that a flood
 * from one address is refused (429 {@code too_many_connections}) before anything costly happens.
 *
 * <p>The address is the TCP peer's IP, never a header such as {@code X-Forwarded-For}: behind a
 * proxy every client shares the proxy's address (a documented limit). Buckets live in a Caffeine
 * cache bounded by {@code abuse.max_tracked_addresses} (least recently seen forgotten first); one
 * that has not been touched for twice its fill time is dropped, since by then it would be full
 * again anyway. Forgetting an address only ever gives it a full bucket.
 *
 * <p>Thread-safe and non-blocking: called from every event loop; each bucket is locked for the few
 * arithmetic operations of one attempt. Cache maintenance runs on the calling thread.
 */
public final class AddressRateLimiter {

    private final Cache<Object, TokenBucket> buckets;
    private final Ticker ticker;
    private final double ratePerSecond;
    private final int burst;

    public AddressRateLimiter(AbuseConfig config, Ticker ticker) {
        requireNonNull(config, "config");
        this.ticker = requireNonNull(ticker, "ticker");
        this.ratePerSecond = config.connectionsPerSecond();
        this.burst = config.connectionBurst();
        long fill = new TokenBucket(ratePerSecond, burst, 0).nanosToFill();
        this.buckets = Caffeine.newBuilder()
                .maximumSize(config.maxTrackedAddresses())
                .expireAfterAccess(
                        Duration.ofNanos(Math.max(fill, Duration.ofSeconds(1).toNanos()))
                                .multipliedBy(2))
                .executor(Runnable::run)
                .ticker(ticker)
                .build();
    }

    /**
     * Counts one connection attempt from {@code peer}. Returns 0 when it is allowed (a token was
     * taken), else the nanoseconds until the address may try again (nothing is taken).
     */
    public long tryAcquire(SocketAddress peer) {
        TokenBucket bucket = buckets.get(keyOf(peer), key -> new TokenBucket(ratePerSecond, burst, ticker.read()));
        synchronized (bucket) {
            long now = ticker.read();
            return bucket.tryTake(now) ? 0 : bucket.nanosUntilToken(now);
        }
    }

    /** Nanoseconds until {@code peer} may make an attempt, without counting one; 0 when it may now. */
    public long nanosUntilAllowed(SocketAddress peer) {
        TokenBucket bucket = buckets.getIfPresent(keyOf(peer));
        if (bucket == null) {
            return 0;
        }
        synchronized (bucket) {
            return bucket.nanosUntilToken(ticker.read());
        }
    }

    /** Addresses currently remembered (approximate; for tests and metrics). */
    public long trackedAddresses() {
        buckets.cleanUp();
        return buckets.estimatedSize();
    }

    /** The IP of an internet address (any port), else the address itself (embedded and local channels). */
    static Object keyOf(SocketAddress peer) {
        requireNonNull(peer, "peer");
        if (peer instanceof InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress();
        }
        return peer;
    }
}
