package dev.tether.loadtest.compare;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The C reference worker ({@code loadtest/src/main/c/tether-echo-worker.c}, shipped inside
 * {@code loadtest.jar}), built at benchmark time with the machine's C compiler ({@code $CC}, else
 * {@code cc}), and the gateway config that runs it. Runs on the caller's thread; builds take a
 * fraction of a second.
 */
public final class CWorker {

    /** The source, as a class-path resource (the build copies {@code src/main/c} here). */
    static final String SOURCE = "tether-echo-worker.c";
    /** In a gateway config template, replaced by the built binary's absolute path. */
    public static final String PLACEHOLDER = "${tether_echo_worker}";

    private CWorker() {}

    /**
     * Compiles the worker into {@code dir} ({@code dir/tether-echo-worker}) and returns the binary.
     *
     * @throws IllegalStateException when no C compiler can be run, or it fails (with its output)
     */
    public static Path build(Path dir) {
        requireNonNull(dir, "dir");
        try {
            Files.createDirectories(dir);
            Path source = dir.resolve(SOURCE);
            try (InputStream in = CWorker.class.getResourceAsStream(SOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(SOURCE + " is missing from the class path (rebuild loadtest.jar)");
                }
                Files.write(source, in.readAllBytes());
            }
            Path binary = dir.resolve("tether-echo-worker").toAbsolutePath();
            String cc = System.getenv().getOrDefault("CC", "cc");
            List<String> command = new ArrayList<>(List.of(
                    cc,
                    "-O2",
                    "-std=c11",
                    "-D_POSIX_C_SOURCE=200809L",
                    "-o",
                    binary.toString(),
                    source.toAbsolutePath().toString()));
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new IllegalStateException(
                        "no C compiler: cannot run '" + cc + "' (" + e.getMessage()
                                + "); install one (Debian: apt-get install gcc) or name it in CC",
                        e);
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(cc + " did not finish within 2 minutes building " + source);
            }
            if (p.exitValue() != 0 || !Files.isExecutable(binary)) {
                throw new IllegalStateException(
                        String.join(" ", command) + " failed (exit " + p.exitValue() + "):\n" + output);
            }
            return binary;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the C worker in " + dir, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the C worker", e);
        }
    }

    /**
     * Writes {@code template} (e.g. {@code config/bench/c-worker.yaml}) to {@code out} with
     * {@value #PLACEHOLDER} replaced by {@code binary}, and returns {@code out}.
     */
    public static Path gatewayConfig(Path template, Path binary, Path out) {
        try {
            String text = Files.readString(template);
            if (!text.contains(PLACEHOLDER)) {
                throw new IllegalArgumentException(template + ": no " + PLACEHOLDER + " to put the C worker's path in");
            }
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(
                    out, text.replace(PLACEHOLDER, binary.toAbsolutePath().toString()));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the C worker's gateway config " + out, e);
        }
    }
}
