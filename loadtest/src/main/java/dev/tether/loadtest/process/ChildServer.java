package dev.tether.loadtest.process;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;

/**
 * A server the load test started as a {@link ChildProcess} of its own (the raw baseline server,
 * websocketd): where to connect, and the child; closing it stops the child (SIGTERM, SIGKILL after
 * 10 s) and waits for it. Safe to use from any thread.
 *
 * @param wsUri the endpoint the child said it listens on
 */
public record ChildServer(ChildProcess child, URI wsUri) implements RunningProcess {

    public ChildServer {
        requireNonNull(child, "child");
        requireNonNull(wsUri, "wsUri");
    }

    /**
     * A free TCP port on 127.0.0.1, for a server that cannot bind port 0 and tell which it got
     * (websocketd, redis-server); one taken in between fails that server's start, with its output.
     */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    @Override
    public long pid() {
        return child.pid();
    }

    @Override
    public String recentOutput() {
        return child.recentOutput();
    }

    @Override
    public void close() {
        child.stop(Duration.ofSeconds(10));
    }
}
