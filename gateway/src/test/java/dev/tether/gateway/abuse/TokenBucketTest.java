package dev.tether.gateway.abuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TokenBucketTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long T0 = 123_456_789L;

    @Test
    void aNewBucketAdmitsItsBurstAtOnceThenNothing() {
        TokenBucket bucket = new TokenBucket(2, 3, T0);
        assertTrue(bucket.tryTake(T0));
        assertTrue(bucket.tryTake(T0));
        assertTrue(bucket.tryTake(T0));
        assertFalse(bucket.tryTake(T0));
        assertFalse(bucket.tryTake(T0), "a refusal takes nothing and gives nothing");
    }

    @Test
    void tokensComeBackAtTheRate() {
        TokenBucket bucket = new TokenBucket(2, 1, T0);
        assertTrue(bucket.tryTake(T0));
        assertEquals(SECOND / 2, bucket.nanosUntilToken(T0));
        assertFalse(bucket.tryTake(T0 + SECOND / 2 - 1));
        assertEquals(1, bucket.nanosUntilToken(T0 + SECOND / 2 - 1));
        assertTrue(bucket.tryTake(T0 + SECOND / 2));
    }

    @Test
    void refillStopsAtTheCapacity() {
        TokenBucket bucket = new TokenBucket(10, 2, T0);
        assertTrue(bucket.tryTake(T0));
        assertTrue(bucket.tryTake(T0));
        long later = T0 + 3600 * SECOND;
        assertTrue(bucket.tryTake(later));
        assertTrue(bucket.tryTake(later));
        assertFalse(bucket.tryTake(later), "an hour idle still yields only the burst");
    }

    @Test
    void fractionalRatesAndTimeGoingBackwards() {
        TokenBucket bucket = new TokenBucket(0.5, 1, T0);
        assertTrue(bucket.tryTake(T0));
        assertEquals(2 * SECOND, bucket.nanosUntilToken(T0));
        assertFalse(bucket.tryTake(T0 - SECOND), "an earlier reading adds nothing");
        assertEquals(2 * SECOND, bucket.nanosUntilToken(T0));
        assertTrue(bucket.tryTake(T0 + 2 * SECOND));
        assertEquals(2 * SECOND, bucket.nanosToFill());
    }

    @Test
    void nanosecondClockWrapsAround() {
        long nearMax = Long.MAX_VALUE - SECOND / 4;
        TokenBucket bucket = new TokenBucket(1, 1, nearMax);
        assertTrue(bucket.tryTake(nearMax));
        assertTrue(bucket.tryTake(nearMax + SECOND), "System.nanoTime differences survive overflow");
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(Double.NaN, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(1, 0, 0));
    }
}
