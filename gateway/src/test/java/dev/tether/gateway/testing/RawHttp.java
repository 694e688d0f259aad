package dev.tether.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Sends a hand-written upgrade request over a plain socket and reads the raw response, so tests can
 * check refusals exactly as a client sees them (status, headers, JSON body).
 */
public final class RawHttp {

    /** A parsed HTTP response; header names are lower-cased. */
    public record Response(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private RawHttp() {}

    /** A WebSocket upgrade request for {@code target} with extra {@code headers}. */
    public static Response upgrade(InetSocketAddress address, String target, Map<String, String> headers)
            throws IOException {
        return upgradeFrom(null, address, target, headers);
    }

    /**
     * Like {@link #upgrade}, from the local address {@code from} (any loopback address works on
     * Linux, so a test can be a second client address, say 127.0.0.2); null lets the system choose.
     */
    public static Response upgradeFrom(
            InetAddress from, InetSocketAddress address, String target, Map<String, String> headers)
            throws IOException {
        return send(from, address, upgradeRequest(address, target, headers));
    }

    /** The text of a WebSocket upgrade request for {@code target} with extra {@code headers}. */
    public static String upgradeRequest(InetSocketAddress address, String target, Map<String, String> headers) {
        StringBuilder request = new StringBuilder()
                .append("GET ")
                .append(target)
                .append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:")
                .append(address.getPort())
                .append("\r\n")
                .append("Upgrade: websocket\r\n")
                .append("Connection: Upgrade\r\n")
                .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
                .append("Sec-WebSocket-Version: 13\r\n");
        headers.forEach(
                (name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        return request.append("\r\n").toString();
    }

    /** Sends {@code request} verbatim and reads the response head and (Content-Length) body. */
    public static Response send(InetSocketAddress address, String request) throws IOException {
        return send(null, address, request);
    }

    /** Like {@link #send(InetSocketAddress, String)}, from the local address {@code from} (null: any). */
    public static Response send(InetAddress from, InetSocketAddress address, String request) throws IOException {
        try (Connection connection = Connection.open(from, address)) {
            connection.write(request);
            return connection.read();
        }
    }

    /**
     * One plain socket for several requests in a row (keep-alive, pipelining): what the gateway
     * answers to each, and whether it then closed the connection.
     */
    public static final class Connection implements AutoCloseable {

        private final Socket socket;
        private final InputStream in;

        private Connection(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout((int) TestClient.TIMEOUT.toMillis());
            this.in = socket.getInputStream();
        }

        /** A connection to {@code address}. */
        public static Connection open(InetSocketAddress address) throws IOException {
            return open(null, address);
        }

        /** A connection to {@code address} from the local address {@code from} (null: any). */
        public static Connection open(InetAddress from, InetSocketAddress address) throws IOException {
            return new Connection(new Socket(address.getAddress(), address.getPort(), from, 0));
        }

        /** Sends {@code text} verbatim (one request, several, or part of one). */
        public void write(String text) throws IOException {
            OutputStream out = socket.getOutputStream();
            out.write(text.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Reads one response: its head and (Content-Length) body. */
        public Response read() throws IOException {
            String head = readHead(in);
            String[] lines = head.split("\r\n", -1);
            int status = Integer.parseInt(lines[0].split(" ", -1)[1]);
            Map<String, String> parsed = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                parsed.put(
                        lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).trim());
            }
            String body = "";
            String length = parsed.get("content-length");
            if (length != null) {
                body = new String(in.readNBytes(Integer.parseInt(length)), StandardCharsets.UTF_8);
            }
            return new Response(status, parsed, body);
        }

        /**
         * Whether the gateway closes the connection with nothing more to read, within the read
         * timeout: true at end of stream or a reset; false if bytes arrive or nothing happens.
         */
        public boolean closedByPeer() throws IOException {
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (SocketException e) {
                return true; // reset
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed before the response head ended: " + head);
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        return text.substring(0, text.length() - 4);
    }
}
