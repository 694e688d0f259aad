package dev.tether.testkit;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a throwaway {@code redis-server} on 127.0.0.1, as the gateway's Redis test
 * helpers and the load test's Redis for a shared-session run start it: nothing persisted ({@code
 * --save "" --appendonly no}), in the foreground, without protected mode, logging to its standard
 * output (the caller sends that to a file), where it writes {@link #READY} once it accepts
 * connections. Stateless.
 */
public final class RedisServerCommand {

    /** Where Debian's redis-server package puts the binary. */
    public static final Path DEBIAN_BINARY = Path.of("/usr/bin/redis-server");

    /** The log line of a server (not a sentinel) that accepts connections. */
    public static final String READY = "Ready to accept connections";

    private RedisServerCommand() {}

    /**
     * {@code binary --port <port> --bind 127.0.0.1 ...} with the settings above, then {@code more}
     * (further options, such as {@code --dir} or {@code --cluster-enabled yes}).
     */
    public static List<String> of(Path binary, int port, List<String> more) {
        List<String> command = new ArrayList<>(List.of(
                binary.toString(),
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                ""));
        command.addAll(requireNonNull(more, "more"));
        return List.copyOf(command);
    }
}
