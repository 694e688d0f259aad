package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes lines to a worker's stdin from a daemon thread of its own, so that a worker that does not
 * read its stdin blocks only this thread, never the caller (an event loop). Lines wait in a bounded
 * queue ({@value #CAPACITY} lines); {@link #offer} says false when it is full, and the owner then
 * treats the worker as unresponsive.
 *
 * <p>{@link #offer} and {@link #close} may be called from any thread.
 */
final class StdinWriter {

    /** Lines waiting for a worker that does not read its stdin, before it counts as unresponsive. */
    static final int CAPACITY = 1024;

    private static final Logger log = LoggerFactory.getLogger(StdinWriter.class);
    private static final String CLOSE = new String("close");

    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(CAPACITY + 1);
    private final OutputStream out;
    private final long pid;
    private volatile boolean closed;

    StdinWriter(OutputStream out, long pid) {
        this.out = requireNonNull(out, "out");
        this.pid = pid;
        Thread thread = new Thread(this::run, "worker-" + pid + "-stdin");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues one line (without its newline). False when the queue is full; true (and ignored) once closed. */
    boolean offer(String line) {
        if (closed) {
            return true;
        }
        return queue.size() < CAPACITY && queue.offer(line);
    }

    /** Writes what is queued, then closes stdin (the worker sees end of file). Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!queue.offer(CLOSE)) {
            // Racing offers took the spare slot: the worker is not reading anyway.
            queue.clear();
            queue.offer(CLOSE);
        }
    }

    /** Drops what is queued and closes stdin as soon as the thread is free. Idempotent. */
    void abort() {
        closed = true;
        queue.clear();
        queue.offer(CLOSE);
    }

    private void run() {
        try {
            while (true) {
                String line = queue.take();
                if (line == CLOSE) {
                    break;
                }
                out.write(line.getBytes(StandardCharsets.UTF_8));
                out.write('\n');
                if (queue.isEmpty()) {
                    out.flush();
                }
            }
        } catch (IOException e) {
            // The worker closed its stdin or exited; what is left has no reader.
            log.atDebug().addKeyValue("worker", pid).log("stdin closed: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closed = true;
            queue.clear();
            try {
                out.close();
            } catch (IOException ignored) {
                // Broken pipe on the final flush: the worker is gone.
            }
        }
    }
}
