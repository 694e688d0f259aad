package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BoundedLineReaderTest {

    private static BoundedLineReader reader(String text, int max) {
        return new BoundedLineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), max);
    }

    @Test
    void splitsLinesAndDropsCarriageReturns() throws IOException {
        BoundedLineReader lines = reader("{\"a\":1}\r\n\nlast without newline", 64);
        assertEquals("{\"a\":1}", lines.next().text());
        assertEquals("", lines.next().text());
        BoundedLineReader.Line last = lines.next();
        assertEquals("last without newline", last.text());
        assertFalse(last.truncated());
        assertNull(lines.next());
        assertNull(lines.next());
    }

    @Test
    void emptyStreamHasNoLines() throws IOException {
        assertNull(reader("", 16).next());
    }

    @Test
    void lineOfExactlyTheLimitIsWhole() throws IOException {
        BoundedLineReader lines = reader("x".repeat(16) + "\nnext\n", 16);
        BoundedLineReader.Line line = lines.next();
        assertFalse(line.truncated());
        assertEquals(16, line.length());
        assertEquals("next", lines.next().text());
    }

    @Test
    void longerLineIsTruncatedAndTheNextLineIsIntact() throws IOException {
        BoundedLineReader lines = reader("y".repeat(17) + "\n{\"ok\":true}\n", 16);
        BoundedLineReader.Line line = lines.next();
        assertTrue(line.truncated());
        assertEquals(16, line.length());
        assertEquals(17, line.fullLength());
        assertEquals("{\"ok\":true}", lines.next().text());
        assertNull(lines.next());
    }

    @Test
    void anEnormousLineNeverGrowsTheBufferBeyondTheLimit() throws IOException {
        long hugeLine = 200L * 1024 * 1024; // 200 MiB, generated, never held anywhere
        int max = 64 * 1024;
        InputStream in = new GeneratedInput(hugeLine, "{\"after\":1}\n".getBytes(StandardCharsets.UTF_8));
        BoundedLineReader lines = new BoundedLineReader(in, max);
        BoundedLineReader.Line line = lines.next();
        assertTrue(line.truncated());
        assertEquals(hugeLine, line.fullLength());
        assertEquals(max, line.length());
        assertTrue(lines.lineBufferCapacity() <= max, "line buffer " + lines.lineBufferCapacity());
        assertEquals("{\"after\":1}", lines.next().text());
        assertTrue(lines.lineBufferCapacity() <= max);
        assertNull(lines.next());
    }

    @Test
    void smallLinesKeepASmallBuffer() throws IOException {
        BoundedLineReader lines = reader("a\nb\nc\n", 1 << 20);
        while (lines.next() != null) {
            assertTrue(lines.lineBufferCapacity() <= 256);
        }
    }

    /** {@code length} bytes of 'x', a newline, then {@code tail}: a stream far bigger than any buffer. */
    private static final class GeneratedInput extends InputStream {
        private final long length;
        private final byte[] tail;
        private long position;

        GeneratedInput(long length, byte[] tail) {
            this.length = length;
            this.tail = tail;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            long total = length + 1 + tail.length;
            if (position >= total) {
                return -1;
            }
            int n = (int) Math.min(len, total - position);
            for (int i = 0; i < n; i++, position++) {
                b[off + i] = position < length ? (byte) 'x' : position == length ? (byte) '\n'
                        : tail[(int) (position - length - 1)];
            }
            return n;
        }
    }
}
