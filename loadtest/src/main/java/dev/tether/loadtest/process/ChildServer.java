package dev.tether.loadtest.process;

import static java.util.Objects.requireNonNull;

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
