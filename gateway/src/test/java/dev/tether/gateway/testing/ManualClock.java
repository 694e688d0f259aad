package dev.tether.gateway.testing;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A UTC clock that stands still until the test moves it: for code that takes an injected {@link Clock}. */
public final class ManualClock extends Clock {

    private volatile Instant now;

    public ManualClock(Instant start) {
        this.now = requireNonNull(start, "start");
    }

    /** Moves the clock to {@code instant} (back as well as forward). */
    public void set(Instant instant) {
        now = requireNonNull(instant, "instant");
    }

    /** Moves the clock forward by {@code duration}. */
    public void advance(Duration duration) {
        now = now.plus(duration);
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** The same clock: it only ever tells UTC instants. */
    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
