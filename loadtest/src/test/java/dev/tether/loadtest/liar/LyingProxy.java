package dev.tether.loadtest.liar;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.testkit.Bytes;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway made to lie, without touching the gateway: a TCP proxy in front of a real one that
 * understands just enough HTTP and WebSocket framing to rewrite the upgrade request and the
 * gateway's text frames, one {@link Lie} per proxy. Whatever it does not lie about passes
 * unchanged (permessage-deflate is taken out of the request so that frames stay readable).
 *
 * <p>Two threads per proxied connection, daemons; {@link #lies()} counts the lies told, so that a
 * test can tell a lie that was caught from one never told.
 */
final class LyingProxy implements AutoCloseable {

    /** What the proxy lies about. */
    enum Lie {
        /** Nothing: the proxy is transparent. */
        NONE,
        /** A resume's {@code last_seq} becomes 0: the gateway replays everything it kept. */
        IGNORE_LAST_SEQ,
        /** A resume becomes a new session: {@code session_ready} with another id, {@code resumed: false}. */
        FRESH_SESSION,
        /** A resume's replay loses its last message (seq = {@code session_ready.last_seq}). */
        SHORT_TAIL,
        /** A resume's first replayed message has its content changed. */
        CORRUPT_REPLAY,
        /** The fifth numbered message of every connection is delivered twice. */
        DUPLICATE_FRAME,
        /** The fifth and sixth numbered messages of every connection are swapped. */
        REORDER_FRAMES
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LAST_SEQ = Pattern.compile("last_seq=(\\d+)");

    private final InetSocketAddress gateway;
    private final Lie lie;
    private final ServerSocket listener;
    private final AtomicInteger lies = new AtomicInteger();
    private final List<Socket> sockets = new ArrayList<>();

    LyingProxy(InetSocketAddress gateway, Lie lie) throws IOException {
        this.gateway = requireNonNull(gateway, "gateway");
        this.lie = requireNonNull(lie, "lie");
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "liar-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The WebSocket endpoint to give the client instead of the gateway's. */
    URI uri() {
        return URI.create("ws://127.0.0.1:" + listener.getLocalPort() + "/ws");
    }

    /** How many times it has lied. */
    int lies() {
        return lies.get();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        synchronized (sockets) {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket upstream = new Socket(gateway.getAddress(), gateway.getPort());
                synchronized (sockets) {
                    sockets.add(client);
                    sockets.add(upstream);
                }
                Connection connection = new Connection(client, upstream);
                start(connection::clientToGateway);
                start(connection::gatewayToClient);
            } catch (IOException e) {
                // closed
            }
        }
    }

    private static void start(Runnable pump) {
        Thread thread = new Thread(pump, "liar-pump");
        thread.setDaemon(true);
        thread.start();
    }

    /** One proxied connection and what the proxy knows of it. */
    private final class Connection {
        private final Socket client;
        private final Socket upstream;
        private volatile boolean resume;
        private volatile long requestedLastSeq;
        private long readyLastSeq = -1;
        private int sequenced;
        private boolean replayCorrupted;
        private byte[] held;

        Connection(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void clientToGateway() {
            try (InputStream in = client.getInputStream();
                    OutputStream out = upstream.getOutputStream()) {
                out.write(request(headers(in)).getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                in.transferTo(out);
            } catch (IOException e) {
                // either side went away
            } finally {
                closeBoth();
            }
        }

        void gatewayToClient() {
            try (InputStream in = upstream.getInputStream();
                    OutputStream out = client.getOutputStream()) {
                String head = headers(in);
                out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (!head.startsWith("HTTP/1.1 101")) {
                    in.transferTo(out); // a refusal's body, not frames
                    return;
                }
                while (true) {
                    Frame frame = Frame.read(in);
                    if (frame.opcode() == 1 && frame.fin()) {
                        for (byte[] text : rewrite(frame.payload())) {
                            out.write(Frame.encode(1, text));
                        }
                    } else {
                        out.write(Frame.encode(frame.opcode(), frame.payload(), frame.fin()));
                    }
                    out.flush();
                }
            } catch (IOException e) {
                // either side went away
            } finally {
                closeBoth();
            }
        }

        private void closeBoth() {
            try {
                client.close();
                upstream.close();
            } catch (IOException e) {
                // already closed
            }
        }

        /** The upgrade request, lied about as the proxy's lie says; never with an extension. */
        private String request(String head) {
            StringBuilder out = new StringBuilder();
            for (String line : head.split("\r\n", -1)) {
                if (line.isEmpty()) {
                    continue; // the blank line that ends the head: appended once below
                }
                if (line.toLowerCase(Locale.ROOT).startsWith("sec-websocket-extensions:")) {
                    continue;
                }
                if (out.length() == 0) {
                    line = requestLine(line);
                }
                out.append(line).append("\r\n");
            }
            return out.append("\r\n").toString();
        }

        private String requestLine(String line) {
            Matcher m = LAST_SEQ.matcher(line);
            resume = line.contains("session=");
            requestedLastSeq = m.find() ? Long.parseLong(m.group(1)) : 0;
            if (lie == Lie.IGNORE_LAST_SEQ && resume && requestedLastSeq > 0) {
                lies.incrementAndGet();
                return m.replaceFirst("last_seq=0");
            }
            if (lie == Lie.FRESH_SESSION && resume) {
                lies.incrementAndGet();
                return line.replaceFirst("\\?[^ ]*", "");
            }
            return line;
        }

        /** One text frame from the gateway becomes the frames the client gets. */
        private List<byte[]> rewrite(byte[] payload) throws IOException {
            JsonNode message = JSON.readTree(payload);
            if ("session_ready".equals(message.path("type").asText())) {
                readyLastSeq = message.path("last_seq").asLong();
            }
            if (!message.has("seq")) {
                return flushHeld(payload);
            }
            long seq = message.path("seq").asLong();
            sequenced++;
            boolean replay = resume && seq <= readyLastSeq;
            switch (lie) {
                case SHORT_TAIL -> {
                    if (replay && seq == readyLastSeq && readyLastSeq > requestedLastSeq) {
                        lies.incrementAndGet();
                        return List.of();
                    }
                }
                case CORRUPT_REPLAY -> {
                    if (replay && !replayCorrupted) {
                        replayCorrupted = true;
                        lies.incrementAndGet();
                        return List.of(JSON.writeValueAsBytes(corrupt((ObjectNode) message)));
                    }
                }
                case DUPLICATE_FRAME -> {
                    if (sequenced == 5) {
                        lies.incrementAndGet();
                        return List.of(payload, payload);
                    }
                }
                case REORDER_FRAMES -> {
                    if (sequenced == 5) {
                        held = payload;
                        return List.of();
                    }
                    if (sequenced == 6 && held != null) {
                        lies.incrementAndGet();
                        byte[] fifth = held;
                        held = null;
                        return List.of(payload, fifth);
                    }
                }
                default -> {}
            }
            return flushHeld(payload);
        }

        /** A held frame goes out first when anything but the next numbered one follows it: no swap then. */
        private List<byte[]> flushHeld(byte[] payload) {
            if (held == null) {
                return List.of(payload);
            }
            byte[] fifth = held;
            held = null;
            return List.of(fifth, payload);
        }

        private JsonNode corrupt(ObjectNode message) {
            JsonNode event = message.get("event");
            if (event instanceof ObjectNode object) {
                object.put("text", object.path("text").asText("") + "~");
            } else {
                message.put("reason", "the proxy says so");
            }
            return message;
        }
    }

    /** Reads an HTTP head (request or response) up to and including the empty line. */
    private static String headers(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0;
        while (last4 != 0x0d0a0d0a) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed in its HTTP head");
            }
            head.write(b);
            last4 = (last4 << 8) | b;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** One WebSocket frame (RFC 6455 section 5.2); server frames carry no mask. */
    private record Frame(boolean fin, int opcode, Bytes data) {

        Frame(boolean fin, int opcode, byte[] payload) {
            this(fin, opcode, Bytes.of(payload));
        }

        byte[] payload() {
            return data.toArray();
        }

        static Frame read(InputStream in) throws IOException {
            int b0 = readByte(in);
            int b1 = readByte(in);
            long length = b1 & 0x7f;
            if (length == 126) {
                length = ((long) readByte(in) << 8) | readByte(in);
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | readByte(in);
                }
            }
            byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
            byte[] payload = in.readNBytes((int) length);
            if (payload.length < length) {
                throw new EOFException("connection closed in a frame");
            }
            if (mask != null) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i % 4];
                }
            }
            return new Frame((b0 & 0x80) != 0, b0 & 0x0f, payload);
        }

        static byte[] encode(int opcode, byte[] payload) {
            return encode(opcode, payload, true);
        }

        static byte[] encode(int opcode, byte[] payload, boolean fin) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 10);
            out.write((fin ? 0x80 : 0) | opcode);
            if (payload.length < 126) {
                out.write(payload.length);
            } else if (payload.length < 65_536) {
                out.write(126);
                out.write(payload.length >>> 8);
                out.write(payload.length & 0xff);
            } else {
                out.write(127);
                for (int shift = 56; shift >= 0; shift -= 8) {
                    out.write((int) ((long) payload.length >>> shift) & 0xff);
                }
            }
            out.writeBytes(payload);
            return out.toByteArray();
        }

        private static int readByte(InputStream in) throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            return b;
        }
    }
}
