package dev.tether.gateway.abuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AddressRateLimiterTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(42);
    private final Ticker ticker = now::get;

    private static AddressRateLimiter limiter(String abuse, Ticker ticker) {
        GatewayConfig config = ConfigLoader.parse("abuse:\n" + abuse, Map.of());
        return new AddressRateLimiter(config.abuse(), ticker);
    }

    private static InetSocketAddress peer(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }

    @Test
    void burstThenRefusalWithTheTimeUntilTheNextToken() {
        AddressRateLimiter limiter = limiter("  connections_per_second: 4\n  connection_burst: 3\n", ticker);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, limiter.tryAcquire(peer("10.0.0.1", 40000 + i)), "attempt " + i);
        }
        assertEquals(SECOND / 4, limiter.tryAcquire(peer("10.0.0.1", 40010)), "the port does not matter");
        assertEquals(SECOND / 4, limiter.nanosUntilAllowed(peer("10.0.0.1", 1)));
        now.addAndGet(SECOND / 4);
        assertEquals(0, limiter.nanosUntilAllowed(peer("10.0.0.1", 1)));
        assertEquals(0, limiter.tryAcquire(peer("10.0.0.1", 40011)));
        assertEquals(SECOND / 4, limiter.tryAcquire(peer("10.0.0.1", 40012)));
    }

    @Test
    void addressesHaveTheirOwnBuckets() {
        AddressRateLimiter limiter = limiter("  connections_per_second: 1\n  connection_burst: 1\n", ticker);
        assertEquals(0, limiter.tryAcquire(peer("10.0.0.1", 1)));
        assertTrue(limiter.tryAcquire(peer("10.0.0.1", 2)) > 0);
        assertEquals(0, limiter.tryAcquire(peer("10.0.0.2", 1)));
        assertEquals(0, limiter.tryAcquire(peer("::1", 1)));
        assertEquals(0, limiter.nanosUntilAllowed(peer("10.9.9.9", 1)), "an unknown address may connect");
    }

    @Test
    void idleAddressesAreForgottenAndTheCacheIsBounded() {
        AddressRateLimiter limiter = limiter("""
                  connections_per_second: 1
                  connection_burst: 5
                  max_tracked_addresses: 10
                """, ticker);
        for (int i = 0; i < 100; i++) {
            limiter.tryAcquire(peer("10.0.1." + i, 1));
        }
        assertTrue(limiter.trackedAddresses() <= 10, "bounded: " + limiter.trackedAddresses());
        now.addAndGet(11 * SECOND);
        assertEquals(0, limiter.trackedAddresses(), "untouched for twice the fill time (5s): forgotten");
    }
}
