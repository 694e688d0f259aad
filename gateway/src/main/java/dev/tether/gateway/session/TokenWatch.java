package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.AuthConfig;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ServerMessage;
import io.netty.util.concurrent.EventExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the token of a session's attached connection: asks for a new one ({@code
 * refresh_required}) {@code auth.refresh_lead} before it expires, again every {@code
 * auth.refresh_interval} until it is refreshed, and closes the connection with 4010 once it has been
 * expired for {@code auth.expired_grace}. Re-armed by every attach and every accepted {@code
 * auth_refresh}.
 *
 * <p>Not thread-safe: owned by a session and used only on its event loop. "Now" comes from the
 * injected clock, so tests can move it together with the loop's timers.
 */
final class TokenWatch {

    private static final Logger log = LoggerFactory.getLogger(TokenWatch.class);

    private final String sessionId;
    private final String subject;
    private final AuthConfig auth;
    private final Clock clock;
    private final Timer refreshTimer;
    private final Timer graceTimer;
    private Connection watched;

    TokenWatch(String sessionId, String subject, EventExecutor executor, AuthConfig auth, Clock clock) {
        this.sessionId = requireNonNull(sessionId, "sessionId");
        this.subject = requireNonNull(subject, "subject");
        this.auth = requireNonNull(auth, "auth");
        this.clock = requireNonNull(clock, "clock");
        this.refreshTimer = new Timer(executor);
        this.graceTimer = new Timer(executor);
    }

    /** Starts watching {@code connection}'s current token (after an attach or a refresh). */
    void watch(Connection connection) {
        stop();
        watched = requireNonNull(connection, "connection");
        Instant expiresAt = connection.token().expiresAt();
        Duration untilAsk = Duration.between(clock.instant(), expiresAt.minus(auth.refreshLead()));
        if (untilAsk.isNegative() || untilAsk.isZero()) {
            askForRefresh();
        } else {
            refreshTimer.arm(untilAsk, this::askForRefresh);
        }
        Duration untilClose = Duration.between(clock.instant(), expiresAt.plus(auth.expiredGrace()));
        graceTimer.arm(untilClose.isNegative() ? Duration.ZERO : untilClose, this::closeExpired);
    }

    /** Stops watching (the connection went away or the session ended). */
    void stop() {
        refreshTimer.cancel();
        graceTimer.cancel();
        watched = null;
    }

    /** Whether {@code connection}'s token has expired (its messages are refused until a refresh). */
    boolean expired(Connection connection) {
        return !clock.instant().isBefore(connection.token().expiresAt());
    }

    private void askForRefresh() {
        Connection connection = watched;
        if (connection == null) {
            return;
        }
        connection.send(new ServerMessage.RefreshRequired(connection.token().expiresAt().getEpochSecond()));
        refreshTimer.arm(auth.refreshInterval(), this::askForRefresh);
    }

    private void closeExpired() {
        Connection connection = watched;
        if (connection == null) {
            return;
        }
        refreshTimer.cancel();
        log.atInfo().addKeyValue("session", sessionId).addKeyValue("subject", subject).log("token expired {} ago and was not refreshed: closing 4010",
                auth.expiredGrace());
        connection.close(CloseCode.TOKEN_EXPIRED);
    }
}
