package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.LimitsConfig;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The timers of one {@link Session}'s time limits: {@code limits.first_message_timeout} until its
 * first message, {@code limits.idle_timeout} between turns once it has had one,
 * {@code limits.max_duration} overall with a warning at {@code limits.warning_ratio} of it, and
 * {@code limits.duration_grace} for a turn still running at the maximum. Each granted extension
 * ({@code limits.extension}, contract 1.2 section 8.3) moves the end, and the warning with it, later.
 * It only keeps time: when a
 * timer runs out it reports a {@link Tick}, and the session decides what that means for it (an idle
 * timeout while a turn runs means nothing, say).
 *
 * <p><b>Threading:</b> not thread-safe; owned by a session and used only on its event loop, where
 * its timers run and its ticks are delivered.
 */
final class SessionClock {

    /** A timer that ran out. */
    enum Tick {
        /** No message within {@code limits.first_message_timeout} of the start. */
        FIRST_MESSAGE_TIMEOUT,
        /** No message for {@code limits.idle_timeout} since the session last went idle. */
        IDLE_TIMEOUT,
        /** {@code limits.warning_ratio} of {@code limits.max_duration} has passed. */
        DURATION_WARNING,
        /** {@code limits.max_duration} has passed. */
        DURATION_REACHED,
        /** {@code limits.duration_grace} has passed since {@link #DURATION_REACHED}. */
        DURATION_GRACE_OVER
    }

    private final LimitsConfig limits;
    private final Consumer<Tick> ticks;
    private final Timer firstMessageTimer;
    private final Timer idleTimer;
    private final Timer durationWarningTimer;
    private final Timer durationTimer;
    private boolean messaged;
    /** The session's length from its creation: {@code limits.max_duration} plus its extensions so far. */
    private Duration length;

    /** @param ticks where the ticks go, called on the loop */
    SessionClock(EventExecutor executor, LimitsConfig limits, Consumer<Tick> ticks) {
        this.limits = requireNonNull(limits, "limits");
        this.ticks = requireNonNull(ticks, "ticks");
        this.firstMessageTimer = new Timer(executor);
        this.idleTimer = new Timer(executor);
        this.durationWarningTimer = new Timer(executor);
        this.durationTimer = new Timer(executor);
        this.length = limits.maxDuration();
    }

    /** Starts the first-message and duration clocks (when the session starts). */
    void start() {
        start(Duration.ZERO, false, 0);
    }

    /**
     * Starts the clocks of a session that has run for {@code elapsed} already (it moved here from
     * another node): its duration limits count from its creation, lengthened by the
     * {@code extensions} it was granted; with {@code messaged}, it had its first message, so the
     * first-message clock does not run.
     */
    void start(Duration elapsed, boolean messaged, int extensions) {
        this.messaged = messaged;
        if (!messaged) {
            firstMessageTimer.arm(
                    remaining(limits.firstMessageTimeout(), elapsed), () -> ticks.accept(Tick.FIRST_MESSAGE_TIMEOUT));
        }
        length = limits.maxDuration().plus(limits.extension().multipliedBy(extensions));
        armDuration(remaining(length, elapsed));
    }

    /**
     * Moves the end {@code limits.extension} later (a granted {@code extend}); the warning comes again
     * as long before the new end as it came before the first. Only before {@link Tick#DURATION_REACHED}.
     */
    void extend() {
        length = length.plus(limits.extension());
        armDuration(Duration.ofMillis(durationTimer.remainingMillis()).plus(limits.extension()));
    }

    /** The session's length from its creation, extensions included. */
    Duration length() {
        return length;
    }

    /** Arms the warning and the end for an end {@code left} from now. */
    private void armDuration(Duration left) {
        Duration warnIn = left.minus(limits.maxDuration().minus(warningAfter()));
        if (warnIn.isNegative() || warnIn.isZero()) {
            durationWarningTimer.cancel();
        } else {
            durationWarningTimer.arm(warnIn, () -> ticks.accept(Tick.DURATION_WARNING));
        }
        durationTimer.arm(left, () -> ticks.accept(Tick.DURATION_REACHED));
    }

    private static Duration remaining(Duration limit, Duration elapsed) {
        Duration left = limit.minus(elapsed);
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** A message was taken: the first-message and idle clocks stop. */
    void messageTaken() {
        messaged = true;
        firstMessageTimer.cancel();
        idleTimer.cancel();
    }

    /** The session went idle: the idle clock starts, once the session has had a message. */
    void wentIdle() {
        if (messaged) {
            idleTimer.arm(limits.idleTimeout(), () -> ticks.accept(Tick.IDLE_TIMEOUT));
        }
    }

    /** The maximum duration was reached with a turn running: the grace starts. */
    void graceStarted() {
        durationTimer.arm(limits.durationGrace(), () -> ticks.accept(Tick.DURATION_GRACE_OVER));
    }

    /** Stops every clock (the session ended). */
    void cancel() {
        firstMessageTimer.cancel();
        idleTimer.cancel();
        durationWarningTimer.cancel();
        durationTimer.cancel();
    }

    private Duration warningAfter() {
        return limits.maxDuration()
                .multipliedBy(Math.round(limits.warningRatio() * 1000))
                .dividedBy(1000);
    }
}
