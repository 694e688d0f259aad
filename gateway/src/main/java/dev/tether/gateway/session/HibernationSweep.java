package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Looks every {@link #INTERVAL} for sessions due to sleep ({@code limits.hibernate_after}, contract
 * 1.2, 8.9) by the gateway's clock, and hands each due one its check, which it makes on its own
 * loop ({@link Session#hibernateIfDue}). A round reads one volatile field per session and hops
 * onto a loop only for a session that may be due, so it costs little however many sessions sleep
 * or work; it never touches session state itself.
 *
 * <p>Time is the injected {@link Clock} (not the loops' timers), so tests move it and see the
 * session fall asleep within a round.
 *
 * <p><b>Threading:</b> runs on its own thread; {@link #start} and {@link #close} from any thread.
 */
public final class HibernationSweep implements AutoCloseable {

    /** How often sessions are looked at: a session sleeps at most this long after it is due. */
    public static final Duration INTERVAL = Duration.ofSeconds(1);

    private final Supplier<? extends Iterable<Session>> sessions;
    private final Clock clock;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread t = new Thread(runnable, "tether-hibernate");
        t.setDaemon(true);
        return t;
    });

    /** @param sessions called once per round: the live sessions */
    public HibernationSweep(Supplier<? extends Iterable<Session>> sessions, Clock clock) {
        this.sessions = requireNonNull(sessions, "sessions");
        this.clock = requireNonNull(clock, "clock");
    }

    public void start() {
        long nanos = INTERVAL.toNanos();
        Unwatched.scheduleWithFixedDelay(thread, this::round, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** One look at every session. */
    void round() {
        long now = clock.millis();
        for (Session session : sessions.get()) {
            if (session.sleepDueBy(now)) {
                session.hibernateIfDue();
            }
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
