package dev.tether.gateway.testing;

import static java.util.Objects.requireNonNull;

import dev.tether.testkit.Bytes;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A deliberately minimal WebSocket client on a plain {@link Socket}, for what a well-behaved
 * library such as Tyrus refuses to send: text frames that are not UTF-8, reserved bits, unmasked
 * client frames, arbitrary opcodes and fragmentation. It performs the upgrade with an
 * {@code Authorization: Bearer} header, then writes frames exactly as asked and reads the server's
 * frames back one by one (close frames with their status code parsed).
 *
 * <p>Blocking and single-threaded: use it from the test thread only. Every read is bounded by
 * {@link TestClient#TIMEOUT}.
 */
public final class RawWebSocket implements AutoCloseable {

    /** Opcodes of data frames (RFC 6455 section 5.2). */
    public static final int OP_CONTINUATION = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2;
    /** Opcodes of control frames. */
    public static final int OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xA;

    private static final SecureRandom RANDOM = new SecureRandom();

    /** One frame as the server sent it. {@code rsv} holds the three reserved bits (0..7). */
    public record Frame(boolean fin, int rsv, int opcode, Bytes data) {
        public Frame {
            requireNonNull(data, "data");
        }

        public Frame(boolean fin, int rsv, int opcode, byte[] payload) {
            this(fin, rsv, opcode, Bytes.of(payload));
        }

        /** A copy of the payload. */
        public byte[] payload() {
            return data.toArray();
        }

        public boolean isClose() {
            return opcode == OP_CLOSE;
        }

        /** The payload as UTF-8 text. */
        public String text() {
            return new String(payload(), StandardCharsets.UTF_8);
        }

        /** The status code of a close frame; 1005 (no status) when the payload is empty. */
        public int closeCode() {
            if (!isClose()) {
                throw new IllegalStateException("not a close frame: opcode " + opcode);
            }
            byte[] payload = payload();
            return payload.length < 2 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }

        @Override
        public String toString() {
            return "Frame[fin=" + fin + ", rsv=" + rsv + ", opcode=" + opcode + ", "
                    + (isClose() ? "close " + closeCode() : text()) + "]";
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    /** The upgrade answer's status line and headers. */
    private String upgradeAnswer;

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /**
     * Opens a socket to {@code address}, upgrades {@code target} (for example {@code /ws}) with
     * {@code token} in the {@code Authorization} header, and checks that the answer is 101.
     */
    public static RawWebSocket connect(InetSocketAddress address, String target, String token) throws IOException {
        return connect(address, target, token, 0);
    }

    /**
     * Like {@link #connect(InetSocketAddress, String, String)}, with the socket's receive buffer set
     * to {@code receiveBufferBytes} before connecting (0: the system's default), so that a test
     * client that stops reading makes the server's output back up quickly.
     */
    public static RawWebSocket connect(InetSocketAddress address, String target, String token, int receiveBufferBytes)
            throws IOException {
        return connect(address, target, token, receiveBufferBytes, "");
    }

    /**
     * Like {@link #connect(InetSocketAddress, String, String)}, with {@code extraHeaders} (each line
     * ending in CRLF, such as {@code Sec-WebSocket-Extensions: permessage-deflate\r\n}) in the
     * upgrade request; {@link #upgradeHeader(String)} reads the answer.
     */
    public static RawWebSocket connect(InetSocketAddress address, String target, String token, String extraHeaders)
            throws IOException {
        return connect(address, target, token, 0, extraHeaders);
    }

    private static RawWebSocket connect(
            InetSocketAddress address, String target, String token, int receiveBufferBytes, String extraHeaders)
            throws IOException {
        Socket socket = new Socket();
        boolean ok = false;
        try {
            if (receiveBufferBytes > 0) {
                socket.setReceiveBufferSize(receiveBufferBytes);
            }
            socket.connect(address, (int) TestClient.TIMEOUT.toMillis());
            socket.setSoTimeout((int) TestClient.TIMEOUT.toMillis());
            socket.setTcpNoDelay(true);
            RawWebSocket ws = new RawWebSocket(socket);
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            String request = "GET " + target + " HTTP/1.1\r\n"
                    + "Host: 127.0.0.1:" + address.getPort() + "\r\n"
                    + "Upgrade: websocket\r\n"
                    + "Connection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
                    + "Sec-WebSocket-Version: 13\r\n"
                    + "Authorization: Bearer " + token + "\r\n"
                    + extraHeaders
                    + "\r\n";
            ws.out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            ws.out.flush();
            String head = ws.readHead();
            String statusLine = head.substring(0, head.indexOf("\r\n") < 0 ? head.length() : head.indexOf("\r\n"));
            if (!statusLine.startsWith("HTTP/1.1 101")) {
                throw new IOException("upgrade refused: " + head);
            }
            ws.upgradeAnswer = head;
            ok = true;
            return ws;
        } finally {
            if (!ok) {
                socket.close();
            }
        }
    }

    /**
     * The value of {@code name} in the upgrade answer (case-insensitive), or null when absent.
     */
    public String upgradeHeader(String name) {
        for (String line : upgradeAnswer.split("\r\n", -1)) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    /** Sends a masked text frame holding {@code text} as UTF-8, in one final frame. */
    public void sendText(String text) throws IOException {
        sendFrame(true, 0, OP_TEXT, text.getBytes(StandardCharsets.UTF_8), true);
    }

    /** Sends a masked binary frame, in one final frame. */
    public void sendBinary(byte[] payload) throws IOException {
        sendFrame(true, 0, OP_BINARY, payload, true);
    }

    /**
     * Sends one frame exactly as described: {@code rsv} sets the three reserved bits (0..7),
     * {@code masked} false breaks RFC 6455 on purpose.
     */
    public void sendFrame(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) throws IOException {
        sendRaw(frame(fin, rsv, opcode, payload, masked));
    }

    /**
     * Sends {@code count} copies of one masked frame (final, except continuation fragments, which
     * leave their message open) in a single write, so that a server which cuts the connection
     * part-way (a flood limit) cannot make a later write fail.
     */
    public void sendFrames(int count, int opcode, byte[] payload) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            all.writeBytes(frame(opcode != OP_CONTINUATION, 0, opcode, payload, true));
        }
        sendRaw(all.toByteArray());
    }

    private void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** One frame's bytes, exactly as described (see {@link #sendFrame}). */
    private static byte[] frame(boolean fin, int rsv, int opcode, byte[] payload, boolean masked) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xF));
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            frame.write(maskBit | payload.length);
        } else if (payload.length <= 0xFFFF) {
            frame.write(maskBit | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length);
        } else {
            frame.write(maskBit | 127);
            long length = payload.length;
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) (length >>> shift));
            }
        }
        if (masked) {
            byte[] key = new byte[4];
            RANDOM.nextBytes(key);
            frame.write(key, 0, 4);
            byte[] body = new byte[payload.length];
            for (int i = 0; i < payload.length; i++) {
                body[i] = (byte) (payload[i] ^ key[i & 3]);
            }
            frame.write(body, 0, body.length);
        } else {
            frame.write(payload, 0, payload.length);
        }
        return frame.toByteArray();
    }

    /** The next frame from the server, waiting up to {@link TestClient#TIMEOUT}. */
    public Frame readFrame() throws IOException {
        int b0 = readByte();
        int b1 = readByte();
        boolean fin = (b0 & 0x80) != 0;
        int rsv = (b0 >>> 4) & 0x7;
        int opcode = b0 & 0xF;
        boolean masked = (b1 & 0x80) != 0;
        long length = b1 & 0x7F;
        if (length == 126) {
            length = ((long) readByte() << 8) | readByte();
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = (length << 8) | readByte();
            }
        }
        if (length > 64L * 1024 * 1024) {
            throw new IOException("implausible frame length " + length);
        }
        byte[] key = masked ? readFully(4) : null;
        byte[] payload = readFully((int) length);
        if (key != null) {
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= key[i & 3];
            }
        }
        return new Frame(fin, rsv, opcode, payload);
    }

    /**
     * Reads frames until a close frame and returns its status code, skipping the frames before it;
     * fails (EOF) if the connection ends without one.
     */
    public int awaitCloseCode() throws IOException {
        while (true) {
            Frame frame = readFrame();
            if (frame.isClose()) {
                return frame.closeCode();
            }
        }
    }

    /** Whether the server has closed the TCP connection (end of stream) within the read timeout. */
    public boolean awaitEndOfStream() throws IOException {
        try {
            while (true) {
                if (in.read() < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            // A reset after the close frame also means the server is gone.
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("connection closed by the server");
        }
        return b;
    }

    private byte[] readFully(int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new EOFException("connection closed within a frame");
        }
        return bytes;
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        byte[] end = {'\r', '\n', '\r', '\n'};
        int matched = 0;
        while (matched < 4) {
            int b = readByte();
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        return text.substring(0, text.length() - 4);
    }
}
