package dev.tether.loadtest.process;

import static java.util.Objects.requireNonNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A started child process whose merged stdout and stderr are read on a daemon thread of its own:
 * every line goes to an optional log file and to a bounded ring of recent lines, and the first line
 * matching a pattern completes a future (how callers learn the port a server bound).
 *
 * <p>Thread-safe. {@link #stop(Duration)} sends SIGTERM, waits up to the grace period, then kills.
 */
public final class ChildProcess {

    /** How many recent output lines are kept for error messages. */
    static final int RECENT_LINES = 200;

    private final Process process;
    private final ArrayDeque<String> recent = new ArrayDeque<>();
    private final CompletableFuture<MatchResult> matched = new CompletableFuture<>();
    private final Pattern pattern;
    private final Thread reader;

    private ChildProcess(Process process, Pattern pattern, Writer log) {
        this.process = process;
        this.pattern = pattern;
        this.reader = new Thread(() -> pump(log), "child-output-" + process.pid());
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /**
     * Starts {@code command} with {@code env} added to this process's environment.
     *
     * @param logFile where every output line is appended, or null to keep only the recent lines
     * @param readyLine the line that says the process is ready (its first match completes {@link #awaitLine})
     */
    public static ChildProcess start(List<String> command, Map<String, String> env, Path logFile, Pattern readyLine) {
        requireNonNull(command, "command");
        requireNonNull(env, "env");
        requireNonNull(readyLine, "readyLine");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Writer log = null;
        try {
            if (logFile != null) {
                Path parent = logFile.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
            }
            return new ChildProcess(builder.start(), readyLine, log);
        } catch (IOException e) {
            closeQuietly(log);
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
    }

    /** The path of the {@code java} launcher under {@code javaHome}, or of the running JVM's when null. */
    public static String javaLauncher(Path javaHome) {
        Path home = javaHome != null ? javaHome : Path.of(System.getProperty("java.home"));
        return home.resolve("bin").resolve("java").toString();
    }

    /**
     * Waits for the first output line matching the ready pattern.
     *
     * @throws IllegalStateException naming the recent output when the process exits first or the
     *     timeout passes (the process is then stopped)
     */
    public MatchResult awaitLine(Duration timeout) {
        try {
            return matched.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            stop(Duration.ofSeconds(5));
            throw new IllegalStateException(
                    "no line matching /" + pattern + "/ within " + timeout + "; its last output:\n" + recentOutput());
        } catch (ExecutionException e) {
            // Its output ended: it has exited or is about to.
            int code = stop(Duration.ofSeconds(5));
            throw new IllegalStateException("the process exited (" + code + ") before printing /" + pattern
                    + "/; its last output:\n" + recentOutput());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(Duration.ofSeconds(5));
            throw new IllegalStateException("interrupted while waiting for the process to start", e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The last {@value #RECENT_LINES} output lines, newest last. */
    public String recentOutput() {
        synchronized (recent) {
            return String.join("\n", recent);
        }
    }

    /**
     * Sends SIGTERM, waits up to {@code grace} for the exit, then kills the process and waits again.
     * Idempotent. Returns the exit code.
     */
    public int stop(Duration grace) {
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** Kills the process at once (SIGKILL) and waits until it has exited. Returns the exit code. */
    public int kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    private void pump(Writer log) {
        try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                Writer out = log) {
            String line;
            while ((line = in.readLine()) != null) {
                remember(line);
                if (out != null) {
                    out.write(line);
                    out.write('\n');
                    if (!in.ready()) {
                        out.flush();
                    }
                }
                if (!matched.isDone()) {
                    Matcher m = pattern.matcher(line);
                    if (m.find()) {
                        matched.complete(m.toMatchResult());
                    }
                }
            }
        } catch (IOException e) {
            remember("(output unreadable: " + e.getMessage() + ")");
        } finally {
            matched.completeExceptionally(new IllegalStateException("output ended"));
        }
    }

    private static void closeQuietly(Writer log) {
        if (log != null) {
            try {
                log.close();
            } catch (IOException ignored) {
                // Nothing was written to it yet.
            }
        }
    }

    private void remember(String line) {
        synchronized (recent) {
            if (recent.size() == RECENT_LINES) {
                recent.removeFirst();
            }
            recent.addLast(line);
        }
    }
}
