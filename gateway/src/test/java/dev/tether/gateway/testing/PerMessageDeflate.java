package dev.tether.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The client side of permessage-deflate (RFC 7692 7.2) for raw-socket tests, written from the RFC
 * on the JDK's zlib and nothing of Netty's: a message is a raw deflate stream ended by a sync flush
 * whose final {@code 00 00 ff ff} is left off; the receiver puts it back before inflating. Each call
 * uses a fresh zlib stream (no context takeover), which is what the gateway negotiates by default.
 */
public final class PerMessageDeflate {

    /** The {@code Sec-WebSocket-Extensions} request header a browser sends. */
    public static final String OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

    private static final byte[] TAIL = {0, 0, (byte) 0xff, (byte) 0xff};

    private PerMessageDeflate() {}

    /** {@code message} compressed as one permessage-deflate payload. */
    public static byte[] deflate(byte[] message) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            deflater.setInput(message);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            drain(deflater, out, Deflater.NO_FLUSH);
            drain(deflater, out, Deflater.SYNC_FLUSH);
            return withoutTail(out.toByteArray());
        } finally {
            deflater.end();
        }
    }

    /**
     * {@code count} zero bytes compressed as one payload at the best ratio (about 1:1000), made
     * without ever holding them: a decompression bomb.
     */
    public static byte[] deflateZeros(long count) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        try {
            byte[] zeros = new byte[1 << 20];
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (long left = count; left > 0; left -= zeros.length) {
                deflater.setInput(zeros, 0, (int) Math.min(left, zeros.length));
                drain(deflater, out, Deflater.NO_FLUSH);
            }
            drain(deflater, out, Deflater.SYNC_FLUSH);
            return withoutTail(out.toByteArray());
        } finally {
            deflater.end();
        }
    }

    /** A permessage-deflate payload inflated (its tail put back first). */
    public static byte[] inflate(byte[] payload) {
        Inflater inflater = new Inflater(true);
        try {
            byte[] input = Arrays.copyOf(payload, payload.length + TAIL.length);
            System.arraycopy(TAIL, 0, input, payload.length, TAIL.length);
            inflater.setInput(input);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[16 * 1024];
            while (true) {
                int n = inflater.inflate(buffer);
                out.write(buffer, 0, n);
                if (n > 0) {
                    continue; // the buffer may have been too small for what is pending
                }
                if (inflater.needsInput() || inflater.finished()) {
                    break;
                }
                throw new IllegalStateException("inflater stuck (a preset dictionary asked for?)");
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IllegalStateException("not a deflate stream: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
    }

    private static void drain(Deflater deflater, ByteArrayOutputStream out, int flush) {
        byte[] buffer = new byte[64 * 1024];
        if (flush == Deflater.NO_FLUSH) {
            while (!deflater.needsInput()) {
                out.write(buffer, 0, deflater.deflate(buffer, 0, buffer.length, flush));
            }
            return;
        }
        // A sync flush is complete when the output did not fill the buffer (Deflater's contract).
        int n;
        do {
            n = deflater.deflate(buffer, 0, buffer.length, flush);
            out.write(buffer, 0, n);
        } while (n == buffer.length);
    }

    private static byte[] withoutTail(byte[] stream) {
        int length = stream.length - TAIL.length;
        if (length < 0 || !Arrays.equals(stream, length, stream.length, TAIL, 0, TAIL.length)) {
            throw new IllegalStateException("a sync flush ends with 00 00 ff ff");
        }
        return Arrays.copyOf(stream, length);
    }
}
