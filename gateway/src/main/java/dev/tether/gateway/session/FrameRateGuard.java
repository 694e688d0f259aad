package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.abuse.MessageRateLimiter;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The message rate of one {@link Session}'s client frames, and what a connection over it is told:
 * every frame takes a token from the session's {@link MessageRateLimiter}; a frame without one is
 * answered {@code rate_limited} and ignored, and the strike that reaches {@code abuse.max_strikes}
 * also closes the connection with 4008. Belongs to the session, so a resume does not reset it.
 *
 * <p><b>Threading:</b> not thread-safe; owned by a session and used only on its event loop.
 */
final class FrameRateGuard {

    /** Same category as the session's own log lines, as before this was split out of it. */
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    private final String sessionId;
    private final String subject;
    private final AbuseConfig abuse;
    private final MessageRateLimiter rate;

    FrameRateGuard(String sessionId, String subject, AbuseConfig abuse, Ticker ticker) {
        this.sessionId = requireNonNull(sessionId, "sessionId");
        this.subject = requireNonNull(subject, "subject");
        this.abuse = requireNonNull(abuse, "abuse");
        this.rate = new MessageRateLimiter(abuse, ticker);
    }

    /**
     * Takes a token for one frame from {@code connection}. Without one the frame is answered
     * {@code rate_limited} (with {@code messageId}, for a {@code message}) and must be ignored. The
     * session itself goes on: it detaches when the connection is gone and can be resumed.
     *
     * @return whether the frame may be handled (never for a connection that is closing)
     */
    boolean admit(Connection connection, String messageId) {
        if (connection.closing()) {
            return false;
        }
        MessageRateLimiter.Verdict verdict = rate.take();
        if (verdict == MessageRateLimiter.Verdict.ALLOWED) {
            return true;
        }
        connection.send(
                new ServerMessage.ErrorFrame(ErrorCode.RATE_LIMITED, "too many frames: slow down", messageId, null));
        if (verdict == MessageRateLimiter.Verdict.CLOSE) {
            log.atInfo()
                    .addKeyValue("session", sessionId)
                    .addKeyValue("subject", subject)
                    .log(
                            "closing {} with 4008: {} rate-limited frames within {}",
                            connection,
                            abuse.maxStrikes(),
                            abuse.strikeWindow());
            connection.close(CloseCode.POLICY_VIOLATION);
        }
        return false;
    }
}
