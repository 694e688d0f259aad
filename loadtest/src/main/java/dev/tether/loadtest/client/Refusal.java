package dev.tether.loadtest.client;

import jakarta.websocket.DeploymentException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.glassfish.tyrus.client.RetryAfterException;
import org.glassfish.tyrus.core.HandshakeException;

/**
 * A WebSocket upgrade that did not succeed: the HTTP status when the gateway refused it
 * (401, 429, 503 ...), or 0 when the connection itself failed.
 */
public final class Refusal extends Exception {

    private static final Pattern STATUS = Pattern.compile("\\b([1-5]\\d\\d)\\b");

    private final int status;

    Refusal(int status, Throwable cause) {
        super(status == 0 ? "connection failed: " + cause : "upgrade refused with HTTP " + status, cause);
        this.status = status;
    }

    /** A refusal with HTTP {@code status} (0: the connection failed or timed out before any answer), for clients other than Tyrus. */
    public static Refusal ofStatus(int status, Throwable cause) {
        return new Refusal(status, cause);
    }

    /** The HTTP status of the refusal, 0 for a connection that failed before any answer. */
    public int status() {
        return status;
    }

    /** The report's name for it: {@code http_503}, or {@code connect_failed}. */
    public String kind() {
        return status == 0 ? "connect_failed" : "http_" + status;
    }

    /** Finds the HTTP status in what Tyrus threw. */
    static Refusal of(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof HandshakeException handshake) {
                return new Refusal(handshake.getHttpStatusCode(), thrown);
            }
            if (t instanceof RetryAfterException) {
                return new Refusal(503, thrown);
            }
        }
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (t instanceof DeploymentException && t.getMessage() != null) {
                Matcher m = STATUS.matcher(t.getMessage());
                if (m.find() && t.getMessage().toLowerCase(Locale.ROOT).contains("status")) {
                    return new Refusal(Integer.parseInt(m.group(1)), thrown);
                }
            }
        }
        return new Refusal(0, thrown);
    }
}
