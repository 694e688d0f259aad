package dev.tether.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The relay between a real client socket and a real upstream socket on loopback. */
class TcpRelayTest {

    private static final int WAIT_SECONDS = 10;

    private final ServerSocket upstream;
    /** The upstream's side of the one relayed connection, once the relay has made it. */
    private final CompletableFuture<Socket> accepted = new CompletableFuture<>();

    TcpRelayTest() throws IOException {
        upstream = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(
                () -> {
                    try {
                        accepted.complete(upstream.accept());
                    } catch (IOException e) {
                        accepted.completeExceptionally(e);
                    }
                },
                "upstream-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void closeUpstream() throws IOException {
        upstream.close();
    }

    @Test
    void passesBytesBothWays() throws Exception {
        try (TcpRelay relay = new TcpRelay(address());
                Socket client = connect(relay)) {
            Socket server = accepted.get(WAIT_SECONDS, TimeUnit.SECONDS);
            send(client, "ping");
            assertEquals("ping", receive(server, 4));
            send(server, "pong");
            assertEquals("pong", receive(client, 4));
        }
    }

    @Test
    void resetCutsBothSidesWithoutAClose() throws Exception {
        try (TcpRelay relay = new TcpRelay(address());
                Socket client = connect(relay)) {
            Socket server = accepted.get(WAIT_SECONDS, TimeUnit.SECONDS);
            send(client, "x");
            assertEquals("x", receive(server, 1), "the connection is relayed before the reset");
            relay.reset();
            assertThrows(
                    SocketException.class,
                    () -> client.getInputStream().read(),
                    "a reset, not an orderly end of stream");
            assertThrows(
                    SocketException.class,
                    () -> server.getInputStream().read(),
                    "a reset, not an orderly end of stream");
        }
    }

    @Test
    void aBlackHoleLearnsWhenTheUpstreamCloses() throws Exception {
        CompletableFuture<Long> closedAfter = new CompletableFuture<>();
        try (TcpRelay relay = new TcpRelay(address());
                Socket client = connect(relay)) {
            Socket server = accepted.get(WAIT_SECONDS, TimeUnit.SECONDS);
            send(client, "x");
            assertEquals("x", receive(server, 1));
            relay.blackhole(closedAfter::complete);
            server.close();
            assertTrue(closedAfter.get(WAIT_SECONDS, TimeUnit.SECONDS) >= 0);
            assertEquals(-1, client.getInputStream().read(), "then the client's side is closed too");
        }
    }

    @Test
    void viaPointsAUriAtTheRelay() throws Exception {
        try (TcpRelay relay = new TcpRelay(address())) {
            URI gateway = URI.create("ws://127.0.0.1:" + upstream.getLocalPort() + "/ws?session_id=s%2B1&last_seq=3");
            assertEquals(
                    URI.create("ws://127.0.0.1:" + relay.port() + "/ws?session_id=s%2B1&last_seq=3"),
                    relay.via(gateway));
        }
    }

    private InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), upstream.getLocalPort());
    }

    private static Socket connect(TcpRelay relay) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), relay.port());
        socket.setSoTimeout(WAIT_SECONDS * 1000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String receive(Socket socket, int length) throws IOException {
        socket.setSoTimeout(WAIT_SECONDS * 1000);
        InputStream in = socket.getInputStream();
        return new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }
}
