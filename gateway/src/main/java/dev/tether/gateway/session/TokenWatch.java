package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.TokenRejectedException;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.metrics.MeterNames;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
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
 * auth_refresh}, which it also checks ({@link #refresh}).
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
    private final TokenVerification verifier;
    private final GatewayMetrics metrics;
    private final Timer refreshTimer;
    private final Timer graceTimer;
    private Connection watched;
    /** Watches a viewer: a refresh keeps the viewer's own subject and must still grant the view. */
    private final boolean viewer;

    TokenWatch(String sessionId, String subject, EventExecutor executor, SessionContext context) {
        this(sessionId, subject, executor, context, false);
    }

    /** @param viewer whether the watched connection is a viewer of the session (contract 7.4) */
    TokenWatch(String sessionId, String subject, EventExecutor executor, SessionContext context, boolean viewer) {
        this.viewer = viewer;
        this.sessionId = requireNonNull(sessionId, "sessionId");
        this.subject = requireNonNull(subject, "subject");
        this.auth = context.auth();
        this.clock = context.clock();
        this.verifier = context.verifier();
        this.metrics = context.metrics();
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

    /**
     * An {@code auth_refresh} from {@code connection}: a valid token for the session's subject (for a
     * viewer: the viewer's own subject, still the owner or listed in its {@code view} claim) is answered {@code auth_ok} and watched from now on; any other is answered error
     * {@code auth_refresh_failed} and the connection keeps its old token.
     *
     * @return whether the new token was taken
     */
    boolean refresh(Connection connection, String token) {
        VerifiedToken refreshed;
        try {
            refreshed = verifier.verify(token);
        } catch (TokenRejectedException e) {
            metrics.authFailed(MeterNames.STAGE_REFRESH, e.reason().name());
            connection.send(
                    ServerMessage.ErrorFrame.of(ErrorCode.AUTH_REFRESH_FAILED, "token refused: " + e.getMessage()));
            return false;
        }
        if (!refreshed.subject().equals(viewer ? connection.token().subject() : subject)) {
            metrics.authFailed(MeterNames.STAGE_REFRESH, MeterNames.AUTH_WRONG_SUBJECT);
            connection.send(ServerMessage.ErrorFrame.of(ErrorCode.AUTH_REFRESH_FAILED, "token is for another subject"));
            return false;
        }
        if (viewer && !refreshed.mayView(sessionId, subject)) {
            metrics.authFailed(MeterNames.STAGE_REFRESH, MeterNames.AUTH_NO_VIEW);
            connection.send(ServerMessage.ErrorFrame.of(
                    ErrorCode.AUTH_REFRESH_FAILED, "token does not grant viewing this session"));
            return false;
        }
        connection.token(refreshed);
        connection.send(new ServerMessage.AuthOk(refreshed.expiresAt().getEpochSecond()));
        watch(connection);
        return true;
    }

    private void askForRefresh() {
        Connection connection = watched;
        if (connection == null) {
            return;
        }
        connection.send(
                new ServerMessage.RefreshRequired(connection.token().expiresAt().getEpochSecond()));
        refreshTimer.arm(auth.refreshInterval(), this::askForRefresh);
    }

    private void closeExpired() {
        Connection connection = watched;
        if (connection == null) {
            return;
        }
        refreshTimer.cancel();
        log.atInfo()
                .addKeyValue("session", sessionId)
                .addKeyValue("subject", subject)
                .log("token expired {} ago and was not refreshed: closing 4010", auth.expiredGrace());
        connection.close(CloseCode.TOKEN_EXPIRED);
    }
}
