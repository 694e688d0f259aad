package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines ending in {@code \n} (a trailing {@code \r} is dropped) without
 * ever holding more than {@code maxLineBytes} of one line: the rest of a longer line is read and
 * discarded up to its end, and the line is returned marked truncated with its full length. Memory
 * is a fixed 8 KiB read buffer plus a line buffer that grows on demand up to {@code maxLineBytes}.
 *
 * <p>Not thread-safe: one reader thread per stream. Blocking: call it on a thread of its own, never
 * on an event loop.
 */
final class BoundedLineReader {

    private static final int READ_BUFFER = 8192;
    private static final int INITIAL_LINE_BUFFER = 256;

    /**
     * One line. {@code bytes} is the reader's own buffer, valid only until the next call to
     * {@link #next()}: the first {@code length} bytes are the line (its first {@code maxLineBytes}
     * bytes when {@code truncated}); {@code fullLength} counts every byte of the line as written.
     */
    record Line(byte[] bytes, int length, boolean truncated, long fullLength) {
        String text() {
            return new String(bytes, 0, length, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] readBuffer = new byte[READ_BUFFER];
    private int readPos;
    private int readLimit;
    private byte[] line;
    private boolean eof;

    BoundedLineReader(InputStream in, int maxLineBytes) {
        this.in = requireNonNull(in, "in");
        if (maxLineBytes < 1) {
            throw new IllegalArgumentException("maxLineBytes must be >= 1");
        }
        this.maxLineBytes = maxLineBytes;
        this.line = new byte[Math.min(INITIAL_LINE_BUFFER, maxLineBytes)];
    }

    /** The next line, or null at end of stream. A last line without a final newline is returned too. */
    Line next() throws IOException {
        int length = 0;
        long fullLength = 0;
        boolean any = false;
        while (true) {
            if (readPos == readLimit) {
                if (eof || !fill()) {
                    eof = true;
                    return any ? finish(length, fullLength) : null;
                }
            }
            any = true;
            int newline = indexOf(readBuffer, readPos, readLimit, (byte) '\n');
            int end = newline < 0 ? readLimit : newline;
            int chunk = end - readPos;
            int room = maxLineBytes - length;
            int keep = Math.min(chunk, room);
            if (keep > 0) {
                ensureCapacity(length + keep);
                System.arraycopy(readBuffer, readPos, line, length, keep);
                length += keep;
            }
            fullLength += chunk;
            readPos = end;
            if (newline >= 0) {
                readPos = newline + 1;
                return finish(length, fullLength);
            }
        }
    }

    /** The current capacity of the line buffer: never more than {@code maxLineBytes} (for tests). */
    int lineBufferCapacity() {
        return line.length;
    }

    private Line finish(int length, long fullLength) {
        boolean truncated = fullLength > maxLineBytes;
        if (!truncated && length > 0 && line[length - 1] == '\r') {
            length--;
            fullLength--;
        }
        return new Line(line, length, truncated, fullLength);
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = in.read(readBuffer, 0, readBuffer.length);
        } while (n == 0);
        if (n < 0) {
            return false;
        }
        readPos = 0;
        readLimit = n;
        return true;
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

    private static int indexOf(byte[] bytes, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
