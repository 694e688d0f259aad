package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * When a session sends: open loop (each message at its time in a {@link SessionSchedule}, late
 * ones at once, their latency still counted from their time) or closed loop (a fixed number of
 * messages in flight, the next sent when an answer comes: what the server can take, with latency
 * from the actual send). A timer on the session's event loop wakes it for the next due message;
 * every message due by then goes out in that one wake-up.
 *
 * <p>Confined to the session's event loop; {@link #done()} may be read from any thread.
 */
final class Pacer {

    private final EventLoop loop;
    private final LongSupplier clock;
    private final LongConsumer send;
    private final long endNanos;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final SessionSchedule schedule;
    private final int inFlight;
    private long next;
    private boolean stopped;

    /**
     * @param send called on the loop with the time a message counts from (its due time, or now in a closed loop)
     * @param endNanos nothing is sent that is due at or after it
     */
    private Pacer(
            EventLoop loop,
            LongSupplier clock,
            LongConsumer send,
            long endNanos,
            SessionSchedule schedule,
            int inFlight) {
        this.loop = requireNonNull(loop, "loop");
        this.clock = requireNonNull(clock, "clock");
        this.send = requireNonNull(send, "send");
        this.endNanos = endNanos;
        this.schedule = schedule;
        this.inFlight = inFlight;
    }

    /** An open-loop pacer on {@code schedule}; {@code clock} is System.nanoTime (tests give their own). */
    static Pacer open(EventLoop loop, LongSupplier clock, LongConsumer send, SessionSchedule schedule, long endNanos) {
        return new Pacer(loop, clock, send, endNanos, requireNonNull(schedule, "schedule"), 0);
    }

    /** A closed-loop pacer keeping {@code inFlight} messages outstanding from {@code startNanos}. */
    static Pacer closed(
            EventLoop loop, LongSupplier clock, LongConsumer send, int inFlight, long startNanos, long endNanos) {
        if (inFlight < 1) {
            throw new IllegalArgumentException("--in-flight: " + inFlight + " (expected: >= 1)");
        }
        return new Pacer(loop, clock, send, endNanos, new SessionSchedule(startNanos, 1, 0, 1), inFlight);
    }

    /** Starts pacing (call on the loop). */
    void start() {
        assert loop.inEventLoop();
        if (inFlight == 0) {
            tick();
        } else {
            long start = schedule.startNanos();
            loop.schedule(this::startClosed, Math.max(0, start - clock.getAsLong()), TimeUnit.NANOSECONDS)
                    .addListener(Unwatched.LOG_FAILURE);
            loop.schedule(this::stop, Math.max(0, endNanos - clock.getAsLong()), TimeUnit.NANOSECONDS)
                    .addListener(Unwatched.LOG_FAILURE);
        }
    }

    /** Completes when this pacer has sent its last message. */
    CompletableFuture<Void> done() {
        return done;
    }

    /** A message was answered (result or refusal): a closed loop sends the next one. */
    void answered(long nowNanos) {
        assert loop.inEventLoop();
        if (inFlight > 0 && !stopped && nowNanos < endNanos) {
            send.accept(nowNanos);
        }
    }

    /** Stops sending (the session ended or closes). */
    void stop() {
        stopped = true;
        done.complete(null);
    }

    private void startClosed() {
        for (int i = 0; i < inFlight && !stopped; i++) {
            send.accept(clock.getAsLong());
        }
    }

    private void tick() {
        if (stopped) {
            return;
        }
        long now = clock.getAsLong();
        while (true) {
            long due = schedule.dueAt(next);
            if (due >= endNanos) {
                stop();
                return;
            }
            if (due > now) {
                loop.schedule(this::tick, due - now, TimeUnit.NANOSECONDS).addListener(Unwatched.LOG_FAILURE);
                return;
            }
            next++;
            send.accept(due);
        }
    }
}
