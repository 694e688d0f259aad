package dev.tether.gateway.testing;

import dev.tether.testkit.RedisServerCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} (Debian's package, installed by {@code .ci/run}) on a free port of
 * 127.0.0.1, with nothing persisted (a restart starts empty), for the tests of the Redis session
 * store. Fails, never skips, when the binary is missing. Stopped by {@link #close()}, which waits
 * for the process to be gone.
 */
public final class RedisServer implements AutoCloseable {

    /** Where Debian's redis-server package puts the binary. */
    public static final Path BINARY = RedisServerCommand.DEBIAN_BINARY;

    private final Path dir;
    private final int port;
    private RedisProcess process;
    private int starts;

    private RedisServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Starts a server with its files under {@code dir} (a test's temporary directory). */
    public static RedisServer start(Path dir) {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError(BINARY + " is missing: install Debian's redis-server package (.ci/run does)");
        }
        RedisServer server = new RedisServer(dir, RedisProcess.freePort(false));
        server.launch();
        return server;
    }

    /** The URI the store connects to. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** The server's process id. */
    public long pid() {
        return process.pid();
    }

    /** Kills the server (SIGKILL) and starts a new, empty one on the same port: Redis restarted without its data. */
    public void restartEmpty() {
        kill();
        launch();
    }

    /**
     * Freezes the server (SIGSTOP): connections stay open and nothing is answered, as with a Redis
     * that hangs or a network that drops packets. {@link #unfreeze} lets it go on with its data.
     */
    public void freeze() {
        signal("STOP");
    }

    /** Lets a {@linkplain #freeze frozen} server go on (SIGCONT). */
    public void unfreeze() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            if (!kill.waitFor(RedisProcess.WAIT.toSeconds(), TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Kills the server at once (SIGKILL) and waits until it is gone. */
    public void kill() {
        process.kill();
    }

    @Override
    public void close() {
        if (process != null && process.alive()) {
            unfreeze(); // a frozen server would not act on SIGTERM
            process.close();
        }
    }

    private void launch() {
        starts++;
        process = RedisProcess.start(
                dir.resolve("redis-" + starts + ".log"),
                port,
                RedisServerCommand.of(BINARY, port, List.of("--dir", dir.toString())));
    }
}
