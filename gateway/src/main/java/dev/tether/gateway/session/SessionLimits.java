package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.LimitsConfig;
import io.netty.util.concurrent.EventExecutor;
import java.time.Instant;

/**
 * The time limits of one {@link Session}: {@code limits.first_message_timeout} until its first
 * message, {@code limits.idle_timeout} between turns once it has had one, and
 * {@code limits.max_duration} overall, with a {@code duration_warning} notice at
 * {@code limits.warning_ratio} of it and {@code limits.duration_grace} for a turn still running when
 * it is reached.
 *
 * <p><b>Threading:</b> not thread-safe; owned by a session and used only on its event loop. Its
 * timers run there too.
 */
final class SessionLimits {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** What the limits need of their session; called on the session's event loop. */
    interface Host {
        /** Whether a turn is running. */
        boolean turnRunning();

        /** Whether the session is idle (status {@code idle}). */
        boolean idle();

        /** Adds a {@code notice} to the session's history. */
        void notice(String code, String message, ObjectNode details);

        /** Ends the session. */
        void end(EndReason reason);
    }

    private final LimitsConfig limits;
    private final Instant startedAt;
    private final Host host;
    private final Timer firstMessageTimer;
    private final Timer idleTimer;
    private final Timer durationWarningTimer;
    private final Timer durationLimitTimer;
    private boolean messaged;
    private boolean durationReached;

    SessionLimits(EventExecutor executor, LimitsConfig limits, Instant startedAt, Host host) {
        this.limits = requireNonNull(limits, "limits");
        this.startedAt = requireNonNull(startedAt, "startedAt");
        this.host = requireNonNull(host, "host");
        this.firstMessageTimer = new Timer(executor);
        this.idleTimer = new Timer(executor);
        this.durationWarningTimer = new Timer(executor);
        this.durationLimitTimer = new Timer(executor);
    }

    /** Starts the first-message and duration clocks (when the session starts). */
    void start() {
        firstMessageTimer.arm(limits.firstMessageTimeout(), () -> {
            if (!messaged) {
                host.end(EndReason.FIRST_MESSAGE_TIMEOUT);
            }
        });
        durationWarningTimer.arm(limits.maxDuration().multipliedBy(Math.round(limits.warningRatio() * 1000)).dividedBy(1000),
                this::warnDuration);
        durationLimitTimer.arm(limits.maxDuration(), this::onDurationReached);
    }

    /** A message was taken: the first-message and idle clocks stop. */
    void messageTaken() {
        messaged = true;
        firstMessageTimer.cancel();
        idleTimer.cancel();
    }

    /** The session went idle: the idle clock starts, once the session has had a message. */
    void wentIdle() {
        if (!messaged) {
            return;
        }
        idleTimer.arm(limits.idleTimeout(), () -> {
            if (host.idle()) {
                host.end(EndReason.IDLE_TIMEOUT);
            }
        });
    }

    /** Whether the maximum duration has been reached (the session ends when its turn does). */
    boolean durationReached() {
        return durationReached;
    }

    /** Stops every clock (the session ended). */
    void cancel() {
        firstMessageTimer.cancel();
        idleTimer.cancel();
        durationWarningTimer.cancel();
        durationLimitTimer.cancel();
    }

    private void warnDuration() {
        Instant endsAt = startedAt.plus(limits.maxDuration());
        host.notice("duration_warning", "the session will end at its maximum duration",
                JSON.objectNode().put("ends_at", endsAt.getEpochSecond()));
    }

    private void onDurationReached() {
        durationReached = true;
        if (!host.turnRunning()) {
            host.end(EndReason.DURATION_LIMIT);
            return;
        }
        host.notice("duration_limit", "maximum duration reached: the running turn may finish",
                JSON.objectNode().put("grace_seconds", limits.durationGrace().toSeconds()));
        durationLimitTimer.arm(limits.durationGrace(), () -> host.end(EndReason.DURATION_LIMIT));
    }
}
