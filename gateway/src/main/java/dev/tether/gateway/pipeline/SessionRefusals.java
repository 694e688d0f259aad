package dev.tether.gateway.pipeline;

import dev.tether.gateway.session.Connection;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;

/**
 * The answers that end a connection whose session cannot be attached, each an {@code error} and then
 * a close: one place for the words and close codes that an owner's resume ({@link SessionHandler})
 * and a viewer's ({@link ViewerLookup}) share. Called on the channel's event loop.
 */
final class SessionRefusals {

    private SessionRefusals() {}

    /** {@code session_not_found}, close 4004: no such session, or one the token may not see. */
    static void notFound(Connection connection) {
        refuse(connection, ErrorCode.SESSION_NOT_FOUND, "no such session", CloseCode.SESSION_NOT_FOUND);
    }

    /** {@code session_expired} with the session's end reason ({@code EndReason}'s wire form), close 4004. */
    static void expired(Connection connection, String endReason) {
        connection.send(new ServerMessage.ErrorFrame(ErrorCode.SESSION_EXPIRED, "session has ended", null, endReason));
        connection.close(CloseCode.SESSION_NOT_FOUND);
    }

    /** {@code invalid_sequence}, close 4009: {@code last_seq} is not an integer from 0 to 2^63-1. */
    static void invalidSequence(Connection connection) {
        refuse(
                connection,
                ErrorCode.INVALID_SEQUENCE,
                "last_seq must be an integer from 0 to 2^63-1",
                CloseCode.INVALID_SEQUENCE);
    }

    /** {@code session_busy}, close 1001: the client may connect again later ({@code message} says where or when). */
    static void busy(Connection connection, String message) {
        refuse(connection, ErrorCode.SESSION_BUSY, message, CloseCode.GOING_AWAY);
    }

    /**
     * {@code session_incompatible}, close 4004: the session was stored in {@code format}, which this
     * gateway cannot read (contract 1.2, 8.8); it is left as it is for a node that can.
     */
    static void incompatible(Connection connection, String format) {
        refuse(
                connection,
                ErrorCode.SESSION_INCOMPATIBLE,
                "the session was stored in format " + format + ", which this gateway cannot read",
                CloseCode.SESSION_NOT_FOUND);
    }

    /**
     * Refuses {@code connection} when {@code lookup} found a session that has ended ({@link #expired})
     * or that is stored in a format this gateway cannot read ({@link #incompatible}); returns whether
     * it did.
     */
    static boolean refusedAsGone(Connection connection, SessionRegistry.Lookup lookup) {
        if (lookup instanceof SessionRegistry.Lookup.Expired expired) {
            expired(connection, expired.reason().wire());
            return true;
        }
        if (lookup instanceof SessionRegistry.Lookup.Incompatible incompatible) {
            incompatible(connection, incompatible.format());
            return true;
        }
        return false;
    }

    static void refuse(Connection connection, ErrorCode code, String message, CloseCode close) {
        connection.send(ServerMessage.ErrorFrame.of(code, message));
        connection.close(close);
    }
}
