package dev.tether.testkit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for a state that nothing signals (a process table, a pool's status, a log line, a session
 * ending on a server timer) by looking again and again until a deadline. The wait ends as soon as
 * the condition holds; the deadline only bounds a failing test, and the short pause between looks
 * only spaces them out, so correctness never rests on the time waited. Where there is a future or a
 * latch to wait on, wait on that instead.
 *
 * <p>A timeout fails with an {@link AssertionError} that names what was awaited and, where the
 * caller polls a value, the last value seen: {@code not within PT15S: the pool drained (last
 * observed: PoolStatus[live=2, ...])}. Exceptions thrown by the condition end the wait at once.
 *
 * <p>Runs on the calling thread (a test's, never an event loop: it parks).
 */
public final class Poll {

    /** How long a wait lasts when the caller names no deadline. */
    public static final Duration DEADLINE = Duration.ofSeconds(15);

    private static final long PAUSE_NANOS = Duration.ofMillis(10).toNanos();

    private static final Poll SYSTEM = new Poll(System::nanoTime, () -> LockSupport.parkNanos(PAUSE_NANOS));

    private final LongSupplier nanoTime;
    private final Runnable pause;

    /** A poller on {@code nanoTime} that runs {@code pause} between looks (tests give both). */
    Poll(LongSupplier nanoTime, Runnable pause) {
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
        this.pause = requireNonNull(pause, "pause");
    }

    /** Waits up to {@link #DEADLINE} until {@code condition} holds; fails naming {@code what}. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, DEADLINE, condition);
    }

    /** Waits up to {@code deadline} until {@code condition} holds; fails naming {@code what}. */
    public static void until(String what, Duration deadline, BooleanSupplier condition) {
        requireNonNull(condition, "condition");
        SYSTEM.await(
                what, deadline, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty(), null);
    }

    /**
     * Observes a value until {@code done} accepts it, up to {@link #DEADLINE}, and returns it; on a
     * timeout the failure names {@code what} and the last value observed.
     */
    public static <T> T until(String what, Supplier<T> observe, Predicate<? super T> done) {
        return until(what, DEADLINE, observe, done);
    }

    /** As {@link #until(String, Supplier, Predicate)}, up to {@code deadline}. */
    public static <T> T until(String what, Duration deadline, Supplier<T> observe, Predicate<? super T> done) {
        return SYSTEM.observe(what, deadline, observe, done);
    }

    /** Tries {@code attempt} until it yields a value, up to {@link #DEADLINE}, and returns it. */
    public static <T> T present(String what, Supplier<Optional<T>> attempt) {
        return present(what, DEADLINE, attempt);
    }

    /** Tries {@code attempt} until it yields a value, up to {@code deadline}, and returns it. */
    public static <T> T present(String what, Duration deadline, Supplier<Optional<T>> attempt) {
        return SYSTEM.await(what, deadline, attempt, null);
    }

    /** The loop behind {@link #until(String, Duration, Supplier, Predicate)}. */
    <T> T observe(String what, Duration deadline, Supplier<T> observe, Predicate<? super T> done) {
        requireNonNull(observe, "observe");
        requireNonNull(done, "done");
        Object[] last = {null};
        return await(
                        what,
                        deadline,
                        () -> {
                            T value = observe.get();
                            last[0] = value;
                            return done.test(value) ? Optional.of(new Holder<>(value)) : Optional.empty();
                        },
                        () -> String.valueOf(last[0]))
                .value();
    }

    /**
     * The one polling loop: looks at {@code attempt} until it is present or {@code deadline} has
     * passed; {@code lastObserved}, when not null, is added to the failure.
     */
    <T> T await(String what, Duration deadline, Supplier<Optional<T>> attempt, Supplier<String> lastObserved) {
        requireNonNull(what, "what");
        requireNonNull(attempt, "attempt");
        if (deadline.isNegative()) {
            throw new IllegalArgumentException("deadline: " + deadline + " (expected: >= 0)");
        }
        long end = nanoTime.getAsLong() + deadline.toNanos();
        while (true) {
            Optional<T> value = attempt.get();
            if (value.isPresent()) {
                return value.get();
            }
            if (nanoTime.getAsLong() - end >= 0) {
                String seen = lastObserved == null ? "" : " (last observed: " + lastObserved.get() + ")";
                throw new AssertionError("not within " + deadline + ": " + what + seen);
            }
            pause.run();
        }
    }

    /** A polled value that may be null, carried through an {@link Optional}. */
    private record Holder<T>(T value) {}
}
