package dev.tether.loadtest.scenario;

import picocli.CommandLine.Option;

/**
 * Which WebSocket client a scenario drives the target with (a picocli mixin of {@code steady},
 * {@code connect}, {@code resume} and {@code idle}): the lean Netty engine
 * ({@code dev.tether.loadtest.engine}, the default), or the Tyrus client these scenarios used before
 * and that tests still use as the independent client. Filled in on the main thread, read-only after.
 */
public final class ClientOptions {

    /** The clients to choose from. */
    enum Kind { netty, tyrus }

    @Option(names = "--client", defaultValue = "netty",
            description = "netty: the lean Netty engine (default; few threads, masks and parses frames on its event loops);"
                    + " tyrus: the Tyrus client (a thread pool for connects, a lock per user)")
    Kind client;

    @Option(names = "--client-threads", defaultValue = "1",
            description = "event loops of the netty client (default: ${DEFAULT-VALUE}; it shares the machine with the server)")
    int threads;

    boolean engine() {
        return client == Kind.netty;
    }

    void validate() {
        if (threads < 1) {
            throw new IllegalArgumentException("--client-threads: " + threads + " (expected: >= 1)");
        }
    }
}
