package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.UnaryOperator;
import org.slf4j.spi.LoggingEventBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a worker's stderr line by line at INFO, on a daemon thread of its own, with the keys
 * {@code session} (once the worker is bound) and {@code worker} (its pid). Lines are cut at
 * {@value #MAX_LINE_BYTES} bytes; beyond {@value #MAX_LINES_PER_SECOND} lines in a second the rest of
 * that second is counted, not logged, so a worker cannot flood the gateway's log.
 */
final class StderrLogger implements Runnable {

    static final int MAX_LINE_BYTES = 4096;
    static final int MAX_LINES_PER_SECOND = 200;

    private static final Logger log = LoggerFactory.getLogger(StderrLogger.class);

    private final BoundedLineReader lines;
    /** Adds the worker's log keys (session, subject once bound; worker pid). */
    private final UnaryOperator<LoggingEventBuilder> keys;

    StderrLogger(InputStream stderr, UnaryOperator<LoggingEventBuilder> keys) {
        this.lines = new BoundedLineReader(stderr, MAX_LINE_BYTES);
        this.keys = requireNonNull(keys, "keys");
    }

    @Override
    public void run() {
        long second = 0;
        int logged = 0;
        long suppressed = 0;
        try {
            BoundedLineReader.Line line;
            while ((line = lines.next()) != null) {
                long now = System.nanoTime() / 1_000_000_000L;
                if (now != second) {
                    if (suppressed > 0) {
                        emit("stderr: {} lines not logged (more than " + MAX_LINES_PER_SECOND + " a second)", suppressed);
                    }
                    second = now;
                    logged = 0;
                    suppressed = 0;
                }
                if (logged++ >= MAX_LINES_PER_SECOND) {
                    suppressed++;
                    continue;
                }
                emit("stderr: {}", line.truncated() ? line.text() + "... (" + line.fullLength() + " bytes)" : line.text());
            }
        } catch (IOException e) {
            // The pipe was closed under us: the worker is gone.
        } finally {
            if (suppressed > 0) {
                emit("stderr: {} lines not logged (more than " + MAX_LINES_PER_SECOND + " a second)", suppressed);
            }
        }
    }

    private void emit(String format, Object argument) {
        keys.apply(log.atInfo()).log(format, argument);
    }
}
