package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A real CLI run as a plain subprocess that speaks one JSON object per line on stdin and stdout
 * (Claude Code's stream-json, Codex's app-server JSON-RPC), for tests. Every line both ways and
 * every stderr line goes to a transcript file with the milliseconds since start, so a failing run
 * (or a reader of docs/agent-clis-observed.md) can see exactly what was said.
 *
 * <p>Threads: one reader thread per output stream (test code; the gateway itself never does this);
 * {@link #await} waits on a monitor with a deadline, never with a sleep. {@link #close()} ends the
 * whole process tree (stdin closed, then SIGKILL) and waits for it.
 */
public final class JsonLinesProcess implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** How long {@link #close()} gives the CLI to exit by itself once its stdin is closed. */
    private static final Duration GRACE = Duration.ofSeconds(1);

    private final Process process;
    private final long startNanos = System.nanoTime();
    private final Writer transcript;
    private final OutputStream stdin;
    private final List<JsonNode> lines = new ArrayList<>();
    private final List<JsonNode> pending = new ArrayList<>();
    private final StringBuilder stderr = new StringBuilder();
    private boolean stdoutClosed;
    private boolean stdinClosed;

    private JsonLinesProcess(Process process, Path transcriptFile) throws IOException {
        this.process = process;
        Files.createDirectories(transcriptFile.toAbsolutePath().getParent());
        this.transcript = Files.newBufferedWriter(transcriptFile, StandardCharsets.UTF_8);
        this.stdin = process.getOutputStream();
        reader("stdout", process.getInputStream(), this::onStdout, this::onStdoutClosed);
        reader("stderr", process.getErrorStream(), this::onStderr, () -> {});
    }

    /**
     * Starts {@code command} in {@code cwd} with exactly {@code environment} (nothing inherited),
     * writing its transcript to {@code transcriptFile}.
     */
    public static JsonLinesProcess start(
            List<String> command, Map<String, String> environment, Path cwd, Path transcriptFile) {
        requireNonNull(command, "command");
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile());
        builder.environment().clear();
        builder.environment().putAll(environment);
        try {
            JsonLinesProcess started = new JsonLinesProcess(builder.start(), transcriptFile);
            started.log("#", "command " + command + " in " + cwd + " with " + environment);
            return started;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Writes {@code message} as one line on the CLI's stdin. */
    public void send(JsonNode message) {
        String line = message.toString();
        log(">", line);
        try {
            stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to the CLI (exited? " + exitDescription() + ")", e);
        }
    }

    /** Closes the CLI's stdin (Claude Code ends after its current turn). */
    public synchronized void closeStdin() {
        if (stdinClosed) {
            return;
        }
        stdinClosed = true;
        log("#", "stdin closed");
        try {
            stdin.close();
        } catch (IOException e) {
            // already closed by the process
        }
    }

    /**
     * The first line printed and not yet taken by an earlier {@code await} that matches
     * {@code match}, taking it; lines that do not match stay for later waits. Fails, naming
     * {@code what} and showing the stderr, when none comes within {@code deadline} or stdout ends.
     */
    public JsonNode await(String what, Duration deadline, Predicate<JsonNode> match) {
        long end = System.nanoTime() + deadline.toNanos();
        synchronized (this) {
            while (true) {
                for (Iterator<JsonNode> it = pending.iterator(); it.hasNext(); ) {
                    JsonNode line = it.next();
                    if (match.test(line)) {
                        it.remove();
                        return line;
                    }
                }
                long left = end - System.nanoTime();
                if (stdoutClosed || left <= 0) {
                    fail((stdoutClosed ? "stdout ended" : "not within " + deadline) + " waiting for " + what + "; "
                            + exitDescription() + "; stderr:\n" + stderr);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    fail("interrupted waiting for " + what);
                }
            }
        }
    }

    /** Every stdout line so far, in order (a line that is not JSON appears as {@code {"_raw": line}}). */
    public synchronized List<JsonNode> lines() {
        return List.copyOf(lines);
    }

    /** Everything on stderr so far. */
    public synchronized String stderr() {
        return stderr.toString();
    }

    /** Waits up to {@code deadline} for the CLI to exit by itself; its exit code. */
    public int awaitExit(Duration deadline) {
        try {
            if (!process.waitFor(deadline.toNanos(), TimeUnit.NANOSECONDS)) {
                fail("the CLI did not exit within " + deadline + "; stderr:\n" + stderr());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted waiting for the CLI to exit");
        }
        log("#", "exit " + process.exitValue());
        return process.exitValue();
    }

    /** Milliseconds since the CLI started. */
    public long elapsedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /**
     * Ends the CLI and everything it started, and waits for them. First the polite way: stdin
     * closed, which both CLIs take as the end of their input, and up to {@link #GRACE} to exit.
     * Then whatever is left of the tree as it was before (descendants first, while their parents
     * still run to reap them; an orphan is left to PID 1) is killed with SIGKILL.
     */
    @Override
    public void close() {
        List<ProcessHandle> descendants = process.descendants().toList();
        closeStdin();
        try {
            process.waitFor(GRACE.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<ProcessHandle> left =
                descendants.stream().filter(ProcessHandle::isAlive).toList();
        left.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle handle : left) {
            try {
                handle.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                log("#", "pid " + handle.pid() + " still there 10 s after SIGKILL");
            }
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log("#", "closed (" + exitDescription() + ")");
        synchronized (transcript) {
            try {
                transcript.close();
            } catch (IOException e) {
                // the transcript is a diagnostic
            }
        }
        if (process.isAlive()) {
            throw new IllegalStateException("pid " + process.pid() + " survived destroyForcibly");
        }
    }

    private String exitDescription() {
        return process.isAlive() ? "running" : "exited with " + process.exitValue();
    }

    private void onStdout(String raw) {
        log("<", raw);
        JsonNode line;
        try {
            line = JSON.readTree(raw);
        } catch (IOException e) {
            line = null;
        }
        if (line == null || !line.isObject()) {
            ObjectNode wrapped = JSON.createObjectNode();
            wrapped.put("_raw", raw);
            line = wrapped;
        }
        synchronized (this) {
            lines.add(line);
            pending.add(line);
            notifyAll();
        }
    }

    private synchronized void onStdoutClosed() {
        stdoutClosed = true;
        notifyAll();
    }

    private void onStderr(String line) {
        log("!", line);
        synchronized (this) {
            stderr.append(line).append('\n');
        }
    }

    private void log(String direction, String line) {
        synchronized (transcript) {
            try {
                transcript.write(String.format("%6d %s %s%n", elapsedMillis(), direction, line));
                transcript.flush();
            } catch (IOException e) {
                // closed: the process is being torn down
            }
        }
    }

    private static void reader(String name, InputStream stream, Consumer<String> onLine, Runnable onEnd) {
        Thread thread = new Thread(
                () -> {
                    try (BufferedReader reader =
                            new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                            onLine.accept(line);
                        }
                    } catch (IOException e) {
                        // the process is gone
                    } finally {
                        onEnd.run();
                    }
                },
                "agent-cli-" + name);
        thread.setDaemon(true);
        thread.start();
    }
}
