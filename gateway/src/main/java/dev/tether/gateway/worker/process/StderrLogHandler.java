package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Logs a worker's stderr line by line at INFO, on the event loop of its stderr channel, with the
 * keys {@code session} (once the worker is bound) and {@code worker} (its pid). Lines are cut at
 * {@value #MAX_LINE_BYTES} bytes; beyond {@value #MAX_LINES_PER_SECOND} lines in a second the rest of
 * that second is counted, not logged, so a worker cannot flood the gateway's log.
 *
 * <p>One instance per worker; runs on its stderr channel's loop only.
 */
final class StderrLogHandler extends LineStreamHandler {

    static final int MAX_LINE_BYTES = 4096;
    static final int MAX_LINES_PER_SECOND = 200;

    private static final Logger log = LoggerFactory.getLogger(StderrLogHandler.class);

    /** Adds the worker's log keys (session, subject once bound; worker pid). */
    private final UnaryOperator<LoggingEventBuilder> keys;

    private long second;
    private int logged;
    private long suppressed;

    StderrLogHandler(UnaryOperator<LoggingEventBuilder> keys) {
        super(MAX_LINE_BYTES);
        this.keys = requireNonNull(keys, "keys");
    }

    @Override
    public void line(byte[] bytes, int length, boolean truncated, long fullLength) {
        long now = System.nanoTime() / 1_000_000_000L;
        if (now != second) {
            reportSuppressed();
            second = now;
            logged = 0;
        }
        if (logged++ >= MAX_LINES_PER_SECOND) {
            suppressed++;
            return;
        }
        String text = LineSplitter.text(bytes, length);
        keys.apply(log.atInfo()).log("stderr: {}", truncated ? text + "... (" + fullLength + " bytes)" : text);
    }

    @Override
    void ended() {
        reportSuppressed();
    }

    private void reportSuppressed() {
        if (suppressed > 0) {
            keys.apply(log.atInfo())
                    .log("stderr: {} lines not logged (more than " + MAX_LINES_PER_SECOND + " a second)", suppressed);
            suppressed = 0;
        }
    }
}
