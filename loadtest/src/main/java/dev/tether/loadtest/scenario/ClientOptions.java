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
    enum Kind {
        netty,
        tyrus
    }

    @Option(
            names = "--client",
            defaultValue = "netty",
            description =
                    "netty: the lean Netty engine (default; few threads, masks and parses frames on its event loops);"
                            + " tyrus: the Tyrus client (a thread pool for connects, a lock per user)")
    Kind client;

    @Option(
            names = "--client-threads",
            defaultValue = "1",
            description =
                    "event loops of the netty client (default: ${DEFAULT-VALUE}; it shares the machine with the server)")
    int threads;

    @Option(
            names = "--compression",
            description =
                    "offer permessage-deflate in every upgrade, as browsers do (netty client only; the launched gateway"
                            + " compresses only if its config enables server.compression: --gateway-config config/bench/echo-deflate.yaml);"
                            + " the report gives the bytes on the wire")
    boolean compression;

    boolean engine() {
        return client == Kind.netty;
    }

    void validate() {
        if (threads < 1) {
            throw new IllegalArgumentException("--client-threads: " + threads + " (expected: >= 1)");
        }
        if (compression && !engine()) {
            // Tyrus 2.2.2 has no permessage-deflate of its own (tyrus-extension-deflate is not published for it).
            throw new IllegalArgumentException("--compression needs the netty client (--client netty)");
        }
    }
}
