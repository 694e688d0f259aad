package dev.tether.gateway.worker.process;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Splits bytes as they arrive into lines ending in {@code \n} (a trailing {@code \r} is dropped),
 * never holding more than {@code maxLineBytes} of one line: the rest of a longer line is passed over
 * up to its end, and the line is delivered marked truncated with its full length. The non-blocking
 * twin of reading line by line: fed whatever a read brought, it delivers every line that read
 * completed and keeps the unfinished one.
 *
 * <p>Not thread-safe: one per stream, used on that stream's event loop.
 */
final class LineSplitter {

    /** Where the lines go. */
    interface Sink {
        /**
         * One line: the first {@code length} bytes of {@code bytes} (only valid during the call),
         * its first {@code maxLineBytes} when {@code truncated}; {@code fullLength} counts every byte.
         */
        void line(byte[] bytes, int length, boolean truncated, long fullLength);
    }

    private static final int INITIAL_LINE_BUFFER = 256;

    private final int maxLineBytes;
    private byte[] line;
    private int length;
    private long fullLength;
    private boolean started;

    LineSplitter(int maxLineBytes) {
        if (maxLineBytes < 1) {
            throw new IllegalArgumentException("maxLineBytes must be >= 1");
        }
        this.maxLineBytes = maxLineBytes;
        this.line = new byte[Math.min(INITIAL_LINE_BUFFER, maxLineBytes)];
    }

    /** Takes every readable byte of {@code bytes} (without releasing it) and delivers the lines it completes. */
    void feed(ByteBuf bytes, Sink sink) {
        while (bytes.isReadable()) {
            int start = bytes.readerIndex();
            int end = bytes.writerIndex();
            int newline = bytes.indexOf(start, end, (byte) '\n');
            int stop = newline < 0 ? end : newline;
            int chunk = stop - start;
            int keep = Math.min(chunk, maxLineBytes - length);
            if (keep > 0) {
                ensureCapacity(length + keep);
                bytes.getBytes(start, line, length, keep);
                length += keep;
            }
            fullLength += chunk;
            started = true;
            if (newline < 0) {
                bytes.readerIndex(end);
                return;
            }
            bytes.readerIndex(newline + 1);
            deliver(sink);
        }
    }

    /** At end of stream: a last line without its newline is delivered too. */
    void finish(Sink sink) {
        if (started) {
            deliver(sink);
        }
    }

    /** The current capacity of the line buffer: never more than {@code maxLineBytes} (for tests). */
    int lineBufferCapacity() {
        return line.length;
    }

    /** The text of a delivered line, as UTF-8. */
    static String text(byte[] bytes, int length) {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    private void deliver(Sink sink) {
        boolean truncated = fullLength > maxLineBytes;
        int delivered = length;
        long full = fullLength;
        if (!truncated && delivered > 0 && line[delivered - 1] == '\r') {
            delivered--;
            full--;
        }
        length = 0;
        fullLength = 0;
        started = false;
        sink.line(line, delivered, truncated, full);
    }

    private void ensureCapacity(int needed) {
        if (needed <= line.length) {
            return;
        }
        int size = line.length;
        while (size < needed) {
            size = (int) Math.min((long) size * 2, maxLineBytes);
        }
        line = Arrays.copyOf(line, size);
    }
}
