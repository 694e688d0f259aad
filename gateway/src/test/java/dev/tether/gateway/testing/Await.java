package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for conditions with a deadline, polling them: for states only visible by looking (a process
 * table, a pool's status), where there is no future or latch to wait on. The short park between
 * polls only spaces them out; correctness rests on the condition, never on the time waited.
 */
public final class Await {

    /** Deadline of a wait when the test names none. */
    public static final Duration DEADLINE = Duration.ofSeconds(15);

    private static final long POLL_NANOS = Duration.ofMillis(20).toNanos();

    private Await() {}

    /** Polls {@code condition} until it holds, failing with {@code what} after {@link #DEADLINE}. */
    public static void until(String what, BooleanSupplier condition) {
        until(DEADLINE, what, condition);
    }

    /** Polls {@code condition} until it holds, failing with {@code what} after {@code deadline}. */
    public static void until(Duration deadline, String what, BooleanSupplier condition) {
        value(deadline, () -> what, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    /** Like {@link #until(String, BooleanSupplier)}, with {@code what} computed on failure (so it can show the state then). */
    public static void until(Supplier<String> what, BooleanSupplier condition) {
        value(DEADLINE, what, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    /** Polls {@code attempt} until it yields a value; {@code what} (computed on failure) explains a timeout. */
    public static <T> T value(Duration deadline, Supplier<String> what, Supplier<Optional<T>> attempt) {
        long end = System.nanoTime() + deadline.toNanos();
        while (true) {
            Optional<T> value = attempt.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (System.nanoTime() - end > 0) {
                fail("not within " + deadline + ": " + what.get());
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
    }
}
