package dev.tether.gateway.testing;

import dev.tether.testkit.Poll;
import dev.tether.testkit.RedisServerCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code redis-server} process (a server, a cluster node or a sentinel) started by a test helper,
 * its output in a log file; and {@code redis-cli}, run to completion. Stopped by {@link #close()},
 * which waits for the process to be gone.
 */
final class RedisProcess implements AutoCloseable {

    static final Path CLI = Path.of("/usr/bin/redis-cli");
    static final Duration WAIT = Duration.ofSeconds(20);

    private final Process process;
    private final Path log;
    final int port;

    private RedisProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /**
     * Starts {@code command} (a {@code redis-server} command line: {@link RedisServerCommand#of}, or a
     * sentinel's) and waits for it to accept connections on {@code port}.
     */
    static RedisProcess start(Path log, int port, List<String> command) {
        for (Path binary : List.of(RedisServer.BINARY, CLI)) {
            if (!Files.isExecutable(binary)) {
                throw new AssertionError(binary + " is missing: install Debian's redis-server package (.ci/run does)");
            }
        }
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + RedisServer.BINARY, e);
        }
        RedisProcess started = new RedisProcess(process, log, port);
        try {
            Poll.until("redis-server ready on port " + port + " (log " + log + ")", WAIT, () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("redis-server exited with " + process.exitValue() + ": " + started.log());
                }
                return started.log().contains(RedisServerCommand.READY)
                        || started.log().contains("Sentinel ID is");
            });
        } catch (RuntimeException | AssertionError e) {
            started.close();
            throw e;
        }
        return started;
    }

    /** Runs {@code redis-cli -p <port> args...} to completion; its output (stdout and stderr). */
    String cli(String... args) {
        return runCli(port, args);
    }

    static String runCli(int port, String... args) {
        List<String> command =
                new ArrayList<>(List.of(CLI.toString(), "-h", "127.0.0.1", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        try {
            Process cli = new ProcessBuilder(command).redirectErrorStream(true).start();
            cli.getOutputStream().close();
            byte[] out = cli.getInputStream().readAllBytes();
            if (!cli.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                cli.destroyForcibly().waitFor();
                throw new AssertionError("redis-cli " + args[0] + " did not end");
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean alive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** Kills the process at once (SIGKILL) and waits until it is gone. */
    void kill() {
        process.destroyForcibly();
        close();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
        }
        try {
            if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                if (!process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    throw new AssertionError("redis-server " + process.pid() + " still running");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A free port of 127.0.0.1 whose cluster bus port (10000 above) is free too. */
    static int freePort(boolean withBus) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int port = free(0);
            if (!withBus) {
                return port;
            }
            if (port + 10000 <= 65535 && free(port + 10000) > 0) {
                return port;
            }
        }
        throw new AssertionError("no free port with a free cluster bus port");
    }

    private static int free(int port) {
        try (ServerSocket socket = new ServerSocket(port)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            if (port == 0) {
                throw new UncheckedIOException(e);
            }
            return -1;
        }
    }
}
