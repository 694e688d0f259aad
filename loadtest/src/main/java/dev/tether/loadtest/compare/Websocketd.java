package dev.tether.loadtest.compare;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.process.ChildProcess;
import dev.tether.loadtest.process.ChildServer;
import dev.tether.loadtest.process.RunningProcess;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * websocketd (the Debian package's {@code /usr/bin/websocketd}, or {@code $WEBSOCKETD}) serving a
 * worker in its line mode on 127.0.0.1: one process per connection, each text frame one stdin line,
 * each stdout line one frame. It cannot bind port 0, so a free port is picked first (a port taken in
 * between fails the start, with its output).
 */
public final class Websocketd {

    /** websocketd's start-up line at log level info. */
    static final Pattern LISTENING = Pattern.compile("Starting WebSocket server\\s*:\\s*ws://([^:/]+):(\\d+)/");

    private Websocketd() {}

    /**
     * Starts websocketd running {@code command} per connection and waits (up to 30 s) until it listens.
     *
     * @param logFile where its output goes (null: the last lines in memory only)
     */
    public static RunningProcess launch(List<String> command, Path logFile) {
        requireNonNull(command, "command");
        String binary = System.getenv().getOrDefault("WEBSOCKETD", "websocketd");
        int port = ChildServer.freePort();
        List<String> args =
                new ArrayList<>(List.of(binary, "--port=" + port, "--address=127.0.0.1", "--loglevel=info"));
        args.addAll(command);
        ChildProcess child;
        try {
            child = ChildProcess.start(args, Map.of(), logFile, LISTENING);
        } catch (UncheckedIOException e) {
            throw new IllegalStateException(
                    "cannot run websocketd ('" + binary + "'): install it (Debian: apt-get install"
                            + " websocketd) or name it in WEBSOCKETD",
                    e);
        }
        var match = child.awaitLine(Duration.ofSeconds(30));
        return new ChildServer(child, URI.create("ws://" + match.group(1) + ":" + match.group(2) + "/"));
    }
}
