package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Watches a running turn for worker silence (contract 7.5, {@code limits.turn_stall_timeout}): after
 * the timeout with no output it reports {@link Stage#STALLED}, after as long again
 * {@link Stage#INTERRUPT}, and after as long again {@link Stage#RESTART}. Output at any stage starts
 * the count again. One timer per turn, not one per event: an event only notes how long the timer had
 * left, and when it fires it is armed again for the silence still missing.
 *
 * <p><b>Threading:</b> confined to the session's event loop, like the {@link Timer} it uses.
 */
final class StallWatch {

    /** What a silent turn has come to. */
    enum Stage {
        /** Silent for the timeout: the client is told (notice {@code turn_stalled}). */
        STALLED,
        /** Silent for twice the timeout: the turn is interrupted. */
        INTERRUPT,
        /** Silent for three times the timeout: the worker is replaced. */
        RESTART
    }

    private final Timer timer;
    private final Duration timeout;
    private final Consumer<Stage> onStage;
    /** Stages reached in the silence so far (0 to 3). */
    private int reached;
    /** What the timer had left, in ms, at the newest output since it was armed; -1 when none came. */
    private long leftAtOutput = -1;

    /** @param timeout the silence of each stage; zero turns the watch off */
    StallWatch(Timer timer, Duration timeout, Consumer<Stage> onStage) {
        this.timer = requireNonNull(timer, "timer");
        this.timeout = requireNonNull(timeout, "timeout");
        this.onStage = requireNonNull(onStage, "onStage");
    }

    /** A turn started (or a new worker runs it): the silence is counted from now. */
    void start() {
        reached = 0;
        leftAtOutput = -1;
        if (!timeout.isZero()) {
            timer.arm(timeout, this::expired);
        }
    }

    /** The worker said something for the running turn. */
    void output() {
        if (timer.armed()) {
            leftAtOutput = timer.remainingMillis();
        }
    }

    /** The turn ended, or the session did. */
    void stop() {
        timer.cancel();
        leftAtOutput = -1;
    }

    private void expired() {
        if (leftAtOutput >= 0) {
            // Output came since the timer was armed: silent only since then.
            long silentMillis = leftAtOutput;
            reached = 0;
            leftAtOutput = -1;
            timer.arm(timeout.minusMillis(silentMillis), this::expired);
            return;
        }
        reached++;
        if (reached < Stage.values().length) {
            timer.arm(timeout, this::expired);
        }
        onStage.accept(Stage.values()[reached - 1]);
    }
}
