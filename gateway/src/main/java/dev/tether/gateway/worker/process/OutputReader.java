package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.WireCodec;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a worker's stdout on a daemon thread of its own: splits it into lines of at most
 * {@code worker.process.max_line_bytes} ({@link BoundedLineReader}), parses each as one JSON object
 * with the wire codec's limits, and hands objects and protocol problems to a {@link Handler}. Blank
 * lines are skipped. The handler may block (backpressure): the worker then blocks on its full pipe.
 *
 * <p>Once {@link #discard()} was called, or the handler was interrupted, lines are read and
 * dropped until end of file, so a worker being stopped never blocks on its stdout.
 */
final class OutputReader implements Runnable {

    /** Where the lines go; called on the reader thread, one call at a time. */
    interface Handler {
        void object(ObjectNode object) throws InterruptedException;

        /** {@code code} is {@code worker_protocol_error} or {@code output_truncated}. */
        void problem(String code, String message) throws InterruptedException;
    }

    static final String PROTOCOL_ERROR = "worker_protocol_error";
    static final String OUTPUT_TRUNCATED = "output_truncated";

    private static final Logger log = LoggerFactory.getLogger(OutputReader.class);
    private static final int EXCERPT_CHARS = 120;

    private final BoundedLineReader lines;
    private final int maxLineBytes;
    private final WireCodec codec;
    private final Handler handler;
    private final long pid;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile boolean discarding;

    OutputReader(InputStream stdout, int maxLineBytes, WireCodec codec, Handler handler, long pid) {
        this.lines = new BoundedLineReader(stdout, maxLineBytes);
        this.maxLineBytes = maxLineBytes;
        this.codec = requireNonNull(codec, "codec");
        this.handler = requireNonNull(handler, "handler");
        this.pid = pid;
    }

    /** Completes at end of file (every line read was handed over or dropped). */
    CompletableFuture<Void> done() {
        return done;
    }

    /** From now on lines are read and dropped. */
    void discard() {
        discarding = true;
    }

    @Override
    public void run() {
        try {
            BoundedLineReader.Line line;
            while ((line = lines.next()) != null) {
                if (discarding) {
                    continue;
                }
                try {
                    handle(line);
                } catch (InterruptedException e) {
                    discarding = true;
                }
            }
        } catch (IOException e) {
            log.atDebug().addKeyValue("worker", pid).log("stdout closed: {}", e.getMessage());
        } catch (RuntimeException | Error e) {
            log.atError().addKeyValue("worker", pid).setCause(e).log("stdout reader failed");
        } finally {
            Thread.interrupted();
            done.complete(null);
        }
    }

    private void handle(BoundedLineReader.Line line) throws InterruptedException {
        if (line.truncated()) {
            handler.problem(OUTPUT_TRUNCATED, "output line of " + line.fullLength()
                    + " bytes exceeds worker.process.max_line_bytes (" + maxLineBytes + "); dropped");
            return;
        }
        String text = line.text();
        if (text.isBlank()) {
            return;
        }
        ObjectNode object;
        try {
            object = (ObjectNode) codec.parseObject(text);
        } catch (ProtocolException e) {
            handler.problem(PROTOCOL_ERROR, "output line is not a JSON object (" + e.getMessage() + "): "
                    + excerpt(text));
            return;
        }
        handler.object(object);
    }

    static String excerpt(String text) {
        String oneLine = text.strip();
        return oneLine.length() <= EXCERPT_CHARS ? oneLine : oneLine.substring(0, EXCERPT_CHARS) + "...";
    }
}
