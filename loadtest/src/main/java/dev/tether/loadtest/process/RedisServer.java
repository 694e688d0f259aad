package dev.tether.loadtest.process;

import static java.util.Objects.requireNonNull;

import dev.tether.testkit.RedisServerCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A {@code redis-server} the load test starts for a run whose gateways share their sessions
 * ({@code sessions.store: redis}): on a free port of 127.0.0.1, nothing persisted ({@code --save ""
 * --appendonly no}), its output in a log file. The binary is Debian's ({@code /usr/bin/redis-server})
 * unless {@code REDIS_SERVER} names another. {@link #close()} stops it (SIGTERM, then SIGKILL) and
 * waits until it has exited. Thread-safe.
 */
public final class RedisServer implements AutoCloseable {

    /** Where Debian's redis-server package puts the binary. */
    public static final Path DEFAULT_BINARY = RedisServerCommand.DEBIAN_BINARY;

    private static final Pattern READY = Pattern.compile(Pattern.quote(RedisServerCommand.READY));
    private static final Duration START = Duration.ofSeconds(20);

    private final ChildProcess child;
    private final int port;

    private RedisServer(ChildProcess child, int port) {
        this.child = child;
        this.port = port;
    }

    /**
     * Starts a server and waits until it accepts connections.
     *
     * @param logFile where its output goes
     * @throws IllegalStateException when the binary is missing or the server does not start
     */
    public static RedisServer start(Path logFile) {
        requireNonNull(logFile, "logFile");
        String named = System.getenv("REDIS_SERVER");
        Path binary = named == null || named.isBlank() ? DEFAULT_BINARY : Path.of(named);
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary
                    + " is missing: install Debian's redis-server package, or name the binary in" + " REDIS_SERVER");
        }
        int port = ChildServer.freePort();
        ChildProcess child =
                ChildProcess.start(RedisServerCommand.of(binary, port, List.of()), Map.of(), logFile, READY);
        child.awaitLine(START);
        return new RedisServer(child, port);
    }

    /** What the gateways' {@code sessions.redis.uri} (env {@code TETHER_REDIS_URI}) is set to. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public long pid() {
        return child.pid();
    }

    @Override
    public void close() {
        child.stop(Duration.ofSeconds(10));
    }
}
