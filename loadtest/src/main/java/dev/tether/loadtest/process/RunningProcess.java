package dev.tether.loadtest.process;

import java.net.URI;

/**
 * A server the load test started in a process of its own (the gateway, the raw baseline): where to
 * connect, which pid to sample, and how to stop it. {@link #close()} stops the process and waits for
 * it; it is idempotent. Safe to use from any thread.
 */
public interface RunningProcess extends AutoCloseable {

    /** The WebSocket endpoint, e.g. {@code ws://127.0.0.1:41234/ws}. */
    URI wsUri();

    /** The operating system's id of the process (for {@code /proc} sampling and {@code jcmd}). */
    long pid();

    /** The last lines the process wrote (stdout and stderr), newest last, for error messages. */
    String recentOutput();

    /** Stops the process (SIGTERM, then after a grace period SIGKILL) and waits until it has exited. */
    @Override
    void close();
}
