package dev.tether.testkit;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that stands still until a test moves it ({@link #set}, {@link #advance}), for code that
 * takes a {@link Clock}: a test makes a token expire without waiting for it. Always UTC; read and
 * moved from any thread.
 */
public final class ManualClock extends Clock {

    private final AtomicReference<Instant> now;

    public ManualClock(Instant start) {
        this.now = new AtomicReference<>(requireNonNull(start, "start"));
    }

    /** Moves the clock to {@code instant}, forwards or back. */
    public void set(Instant instant) {
        now.set(requireNonNull(instant, "instant"));
    }

    /** Moves the clock on by {@code duration}. */
    public void advance(Duration duration) {
        requireNonNull(duration, "duration");
        now.updateAndGet(instant -> instant.plus(duration));
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** This clock: its zone does not matter to the instants it gives, which are all it is for. */
    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
