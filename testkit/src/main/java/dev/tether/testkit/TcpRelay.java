package dev.tether.testkit;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * A loopback TCP relay in front of a gateway, so that the connections made through it can fail the
 * ways networks fail, which Tyrus and browsers alone cannot do:
 * <ul>
 *   <li>{@link #reset()}: both relayed sockets closed with SO_LINGER 0, a TCP RST both sides see at
 *       once (no FIN, no WebSocket close frame), as when a client is killed;</li>
 *   <li>{@link #blackhole}: the connection stays open but every byte in either direction is
 *       dropped, as when a network path dies silently; only the gateway's heartbeat can find it;</li>
 *   <li>{@link #stall}: the relay stops reading in both directions, as a frozen client does, so the
 *       gateway's writes back up; after the hold it drops what comes, to see whether the gateway
 *       closed the connection meanwhile;</li>
 *   <li>{@link #armHandshakeCut}: the next connection is reset during its WebSocket handshake,
 *       right after the client's request went through or when the gateway's answer comes.</li>
 * </ul>
 * A half-open connection is closed towards the client once the gateway closes its side, and the
 * callback given learns how long that took.
 *
 * <p>The load-test client puts one in front of each virtual user; the gateway's tests put one
 * between a client and the gateway to cut a connection without a close frame.
 *
 * <p>An acceptor thread, and two copying threads per relayed connection, all daemons.
 */
public final class TcpRelay implements AutoCloseable {

    /** Where a handshake is cut. */
    public enum HandshakeCut {
        /** Right after the client's upgrade request was passed on, before any answer. */
        AFTER_REQUEST,
        /** When the gateway's answer (the 101, maybe {@code session_ready} and a replay) arrives, without passing it on. */
        AT_RESPONSE
    }

    private enum Mode {
        FORWARD,
        BLACKHOLE,
        STALL
    }

    /** One relayed connection. */
    private static final class Pair {
        final Socket client;
        final Socket upstream;
        final HandshakeCut handshakeCut;
        final Runnable onHandshakeCut;
        volatile Mode mode = Mode.FORWARD;
        volatile long halfOpenSince;
        volatile long stallUntil;
        volatile LongConsumer onGatewayClosed;

        Pair(Socket client, Socket upstream, HandshakeCut handshakeCut, Runnable onHandshakeCut) {
            this.client = client;
            this.upstream = upstream;
            this.handshakeCut = handshakeCut;
            this.onHandshakeCut = onHandshakeCut;
        }

        /** Resets the connection in its handshake, as planned, and says so (the client may not notice soon). */
        void cutHandshake(TcpRelay relay) {
            relay.resetPair(this);
            onHandshakeCut.run();
        }
    }

    private final ServerSocket listener;
    /** Where connections accepted from now on go (several gateway nodes: the user's chosen node). */
    private volatile InetSocketAddress target;

    private final Set<Pair> pairs = ConcurrentHashMap.newKeySet();
    private volatile HandshakeCut nextHandshakeCut;
    private volatile Runnable nextOnHandshakeCut;

    /** Starts a relay on an ephemeral loopback port to {@code target}. */
    public TcpRelay(InetSocketAddress target) throws IOException {
        this.target = requireNonNull(target, "target");
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "relay-accept-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Sends connections accepted from now on to {@code next} (connections already relayed stay where they are). */
    public void retarget(InetSocketAddress next) {
        this.target = requireNonNull(next, "next");
    }

    /** The loopback port clients connect to instead of the gateway's. */
    public int port() {
        return listener.getLocalPort();
    }

    /** {@code uri} (the gateway's) with the relay's port instead: the same scheme, host, path and query. */
    public URI via(URI uri) {
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        return URI.create(uri.getScheme() + "://" + uri.getHost() + ":" + port() + uri.getRawPath() + query);
    }

    /** Resets every connection that is still passing bytes: RST both ways. Half-open ones are left as they are. */
    public void reset() {
        for (Pair pair : pairs) {
            if (pair.mode == Mode.FORWARD) {
                resetPair(pair);
            }
        }
    }

    /**
     * Turns every connection that is passing bytes into a black hole: open, silent both ways.
     * {@code onGatewayClosed} learns, in nanoseconds since now, when the gateway closes its side.
     */
    public void blackhole(LongConsumer onGatewayClosed) {
        halfOpen(Mode.BLACKHOLE, 0, onGatewayClosed);
    }

    /**
     * Stops reading every connection that is passing bytes, in both directions, for {@code hold};
     * then drops whatever comes, until the gateway closes its side ({@code onGatewayClosed}, as above).
     */
    public void stall(Duration hold, LongConsumer onGatewayClosed) {
        halfOpen(Mode.STALL, System.nanoTime() + hold.toNanos(), onGatewayClosed);
    }

    private void halfOpen(Mode mode, long stallUntil, LongConsumer onGatewayClosed) {
        long now = System.nanoTime();
        for (Pair pair : pairs) {
            if (pair.mode == Mode.FORWARD) {
                pair.halfOpenSince = now;
                pair.stallUntil = stallUntil;
                pair.onGatewayClosed = onGatewayClosed;
                pair.mode = mode;
            }
        }
    }

    /**
     * The next connection accepted is reset during its handshake, at {@code where}; {@code onCut} runs
     * (on a relay thread) once it is, since a WebSocket client may notice a reset during its handshake
     * only when its handshake times out.
     */
    public void armHandshakeCut(HandshakeCut where, Runnable onCut) {
        this.nextOnHandshakeCut = requireNonNull(onCut, "onCut");
        this.nextHandshakeCut = requireNonNull(where, "where");
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // already closed
        }
        for (Pair pair : pairs) {
            resetPair(pair);
        }
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket upstream;
                InetSocketAddress to = target;
                try {
                    upstream = new Socket(to.getAddress(), to.getPort());
                } catch (IOException e) {
                    client.close();
                    continue;
                }
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                HandshakeCut cut = nextHandshakeCut;
                Runnable onCut = nextOnHandshakeCut;
                nextHandshakeCut = null;
                Pair pair = new Pair(client, upstream, cut, onCut);
                pairs.add(pair);
                pump(pair, true);
                pump(pair, false);
            } catch (IOException e) {
                // the listener closed
            }
        }
    }

    private void pump(Pair pair, boolean fromGateway) {
        Socket from = fromGateway ? pair.upstream : pair.client;
        Socket to = fromGateway ? pair.client : pair.upstream;
        Thread thread = new Thread(
                () -> {
                    byte[] buffer = new byte[16 * 1024];
                    boolean first = true;
                    try (InputStream in = from.getInputStream();
                            OutputStream out = to.getOutputStream()) {
                        int n;
                        while ((n = in.read(buffer)) >= 0) {
                            if (pair.mode == Mode.STALL) {
                                holdUntil(pair.stallUntil);
                                continue;
                            }
                            if (pair.mode == Mode.BLACKHOLE) {
                                continue;
                            }
                            if (first && fromGateway && pair.handshakeCut == HandshakeCut.AT_RESPONSE) {
                                pair.cutHandshake(this);
                                return;
                            }
                            out.write(buffer, 0, n);
                            out.flush();
                            if (first && !fromGateway && pair.handshakeCut == HandshakeCut.AFTER_REQUEST) {
                                pair.cutHandshake(this);
                                return;
                            }
                            first = false;
                        }
                    } catch (IOException e) {
                        // reset or closed
                    } finally {
                        ended(pair, fromGateway);
                    }
                },
                "relay-pump");
        thread.setDaemon(true);
        thread.start();
    }

    /** One direction ended: a half-open connection learns that the gateway is gone; otherwise both sides close. */
    private void ended(Pair pair, boolean fromGateway) {
        if (pair.mode == Mode.FORWARD) {
            closeQuietly(pair.client);
            closeQuietly(pair.upstream);
            pairs.remove(pair);
            return;
        }
        if (fromGateway) {
            LongConsumer callback = pair.onGatewayClosed;
            pair.onGatewayClosed = null;
            if (callback != null) {
                callback.accept(System.nanoTime() - pair.halfOpenSince);
            }
            closeQuietly(pair.client);
            closeQuietly(pair.upstream);
            pairs.remove(pair);
        }
    }

    /** A stalled direction reads nothing until {@code until}; what it read when the stall began is dropped. */
    private static void holdUntil(long until) {
        for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /**
     * Both sockets get SO_LINGER 0 before either closes: closing one ends a pump, which closes the
     * other at once, and that close must be a reset too, not a FIN.
     */
    private void resetPair(Pair pair) {
        for (Socket socket : new Socket[] {pair.client, pair.upstream}) {
            try {
                socket.setSoLinger(true, 0);
            } catch (IOException e) {
                // already gone
            }
        }
        closeQuietly(pair.client);
        closeQuietly(pair.upstream);
        pairs.remove(pair);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
