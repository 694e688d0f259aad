package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tether.testkit.Poll;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway run as an operator runs it: its own JVM ({@code dev.tether.gateway.Main}, as
 * {@code java -jar gateway.jar} would), with the test JVM's class path, the arguments, environment
 * and working directory a test gives. Its output (stdout and stderr together) is collected line by
 * line so tests can wait for a line and read the whole log; signals go through its process handle.
 * {@link #close()} kills what is still running.
 */
public final class GatewayProcess implements AutoCloseable {

    /** How long start-up, exits and awaited lines may take. */
    public static final Duration DEADLINE = Duration.ofSeconds(30);
    /** A secret of the tests' own, at least 32 bytes: outside development the public one is refused. */
    public static final String TEST_SECRET = "gateway-process-test-secret-0123456789abcdef";

    private static final Pattern LISTENING = Pattern.compile("(?<!admin )listening on [^ ]+:(\\d+)");
    private static final Pattern ADMIN_LISTENING = Pattern.compile("admin listening on [^ ]+:(\\d+)");

    private final Process process;
    private final Thread reader;
    private final List<String> output = new CopyOnWriteArrayList<>();

    private GatewayProcess(Process process) {
        this.process = process;
        this.reader = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            output.add(line);
                        }
                    } catch (IOException e) {
                        output.add("(output reader: " + e + ")");
                    }
                },
                "gateway-process-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code Main} with {@code args} in {@code workingDirectory}, with the test JVM's
     * environment plus {@code env} (a value of null removes the variable).
     */
    public static GatewayProcess start(Path workingDirectory, Map<String, String> env, String... args) {
        return start(workingDirectory, env, List.of(), args);
    }

    /**
     * Like {@link #start(Path, Map, String...)}, run through {@code wrapper} (a command that runs the
     * rest of its arguments, such as {@code prlimit --nofile=256}).
     */
    public static GatewayProcess start(
            Path workingDirectory, Map<String, String> env, List<String> wrapper, String... args) {
        List<String> command = new ArrayList<>(wrapper);
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.tether.gateway.Main"));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).directory(workingDirectory.toFile()).redirectErrorStream(true);
        env.forEach((name, value) -> {
            if (value == null) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        try {
            return new GatewayProcess(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The port of the main listener, once it logs {@code listening on}. */
    public int awaitListening() {
        return Integer.parseInt(awaitLine(LISTENING).group(1));
    }

    /** The port of the admin listener, once it logs {@code admin listening on}. */
    public int awaitAdminListening() {
        return Integer.parseInt(awaitLine(ADMIN_LISTENING).group(1));
    }

    /** The first line that {@code pattern} finds something in, waiting up to {@link #DEADLINE}. */
    public Matcher awaitLine(Pattern pattern) {
        String log = Poll.until(
                "a line matching " + pattern,
                DEADLINE,
                () -> {
                    boolean alive = process.isAlive();
                    String now = log();
                    if (!alive && firstMatch(now, pattern).isEmpty()) {
                        fail("exited with " + process.exitValue() + " before a line matching " + pattern + ":\n" + now);
                    }
                    return now;
                },
                now -> firstMatch(now, pattern).isPresent());
        return firstMatch(log, pattern).orElseThrow();
    }

    private static Optional<Matcher> firstMatch(String log, Pattern pattern) {
        return log.lines().map(pattern::matcher).filter(Matcher::find).findFirst();
    }

    /** Waits for a line containing {@code text}. */
    public void awaitLogged(String text) {
        awaitLine(Pattern.compile(Pattern.quote(text)));
    }

    /** Sends {@code signal} (e.g. {@code "TERM"}, {@code "HUP"}, {@code "INT"}) with {@code kill}. */
    public void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            assertTrue(
                    kill.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits for the process to exit and for its last output line; returns its exit code. */
    public int awaitExit() {
        try {
            if (!process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                fail("still running after " + DEADLINE + ":\n" + log());
            }
            reader.join(DEADLINE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return process.exitValue();
    }

    /** Whether the process is still running. */
    public boolean alive() {
        return process.isAlive();
    }

    /** The process id. */
    public long pid() {
        return process.pid();
    }

    /** Everything it wrote so far, one line each. */
    public String log() {
        return String.join("\n", output);
    }

    /** Whether a line so far contains {@code text}. */
    public boolean logged(String text) {
        return output.stream().anyMatch(line -> line.contains(text));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
