package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition that nothing signals (a session ending on a server timer, a socket noticing
 * a reset), by checking it again and again until a deadline. Never a fixed sleep: the wait ends as
 * soon as the condition holds, and the deadline only bounds a failing test.
 */
public final class Poll {

    private static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private Poll() {}

    /** Waits up to {@link TestClient#TIMEOUT} for {@code condition}; fails naming {@code what}. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, TestClient.TIMEOUT, condition);
    }

    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + timeout + ": " + what);
            }
            LockSupport.parkNanos(PAUSE_NANOS);
        }
    }

    /** Tries {@code attempt} until it yields a non-null result, up to {@link TestClient#TIMEOUT}. */
    public static <T> T untilPresent(String what, Supplier<T> attempt) {
        long deadline = System.nanoTime() + TestClient.TIMEOUT.toNanos();
        while (true) {
            T result = attempt.get();
            if (result != null) {
                return result;
            }
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + TestClient.TIMEOUT + ": " + what);
            }
            LockSupport.parkNanos(PAUSE_NANOS);
        }
    }
}
