package dev.tether.loadtest.engine;

/**
 * One WebSocket connection as its session sees it: write a text frame, close with a code. The
 * other direction is {@link Listener}. Both sides run on the connection's event loop, which is the
 * session's; {@link WsClientHandler} is the real one, tests use a fake.
 */
interface Link {

    /** Writes and flushes one text frame; a frame for a closed connection is dropped. */
    void send(String text);

    /** Starts a clean close with {@code code} after the frames already written; the close is reported to the listener. */
    void close(int code);

    /** Drops the connection without a close frame (TCP close). */
    void abort();

    /** What a connection reports to its session, on the session's event loop, in this order: open or refused, frames, closed. */
    interface Listener {

        /** The upgrade succeeded; {@code link} can send. */
        void opened(Link link);

        /**
         * The upgrade did not succeed: the HTTP status of the refusal, or 0 when the connection
         * failed or timed out before any answer. Nothing follows.
         */
        void refused(int status, Throwable cause);

        /** A text frame arrived at {@code nanos} (System.nanoTime). */
        void frame(String text, long nanos);

        /** The connection ended after it was opened: the close code received, 1006 when there was none. */
        void closed(int code);
    }
}
