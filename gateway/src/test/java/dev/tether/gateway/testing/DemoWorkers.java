package dev.tether.gateway.testing;

import dev.tether.gateway.worker.process.ProcessTree;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Gateways whose workers are real subprocesses of the bundled demo worker, and a view of those
 * processes as the operating system shows them.
 *
 * <p>Every gateway made here gets a <em>marker</em>: its worker command carries
 * {@code -Dtether.it=<marker>}, its workers' environment {@value #MARKER_VARIABLE} (which their own
 * children inherit), and its workers run below a work root of their own. So a test can tell the
 * workers of its gateway from those of the other gateways living in the same test JVM, by their
 * command line, find every process they started anywhere on the machine, even after the gateway
 * that started them is gone, by their environment, and see their working directories.
 */
public final class DemoWorkers {

    private static final String MARKER_PROPERTY = "-Dtether.it=";
    /** Set in every worker's environment to {@link #markerValue}; children inherit it. */
    public static final String MARKER_VARIABLE = "DEMO_IT_MARKER";

    private static final Path PROC = Path.of("/proc");

    private DemoWorkers() {}

    /**
     * A gateway running demo workers marked {@code marker}: {@code worker.kind: process},
     * {@code DEMO_READY_DELAY: 0s}, stop and kill graces of 500 ms, {@code pool.min_idle: 1}, then
     * {@code yaml} merged over that (and all of it over {@link GatewayExtension#BASE_CONFIG}).
     */
    public static GatewayExtension gateway(String marker, String yaml) {
        return GatewayExtension.withConfig(() -> Yaml.merge(overlay(marker), yaml));
    }

    /** A whole gateway config (base, process overlay, {@code yaml}) for tests that start a server themselves. */
    public static String config(String marker, String yaml) {
        return Yaml.merge(Yaml.merge(GatewayExtension.BASE_CONFIG, overlay(marker)), yaml);
    }

    private static String overlay(String marker) {
        // Removed when the test JVM exits if empty; a leaked working directory keeps it there as evidence.
        workRoot(marker).toFile().deleteOnExit();
        return """
                worker:
                  kind: process
                  process:
                    command: ["${java}", "%s%s", "-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                              "-Xss512k", "-cp", "${classpath}", "dev.tether.demo.DemoWorker"]
                    env:
                      DEMO_READY_DELAY: 0s
                      %s: %s
                    work_root: %s
                    stop_grace: 500ms
                    kill_grace: 500ms
                pool:
                  min_idle: 1
                """.formatted(MARKER_PROPERTY, marker, MARKER_VARIABLE, markerValue(marker), workRoot(marker));
    }

    /**
     * A {@code worker.process.command} (as a YAML flow list) running {@code mainClass} of the test
     * class path in a small JVM marked {@code marker}, like the demo workers: for the fake agent CLIs.
     */
    public static String javaCommand(String marker, String mainClass) {
        return "[\"${java}\", \"%s%s\", \"-Xms16m\", \"-Xmx64m\", \"-XX:+UseSerialGC\", \"-XX:TieredStopAtLevel=1\", \"-cp\", \"${classpath}\", \"%s\"]"
                .formatted(MARKER_PROPERTY, marker, mainClass);
    }

    /** The directory below which the workers of {@code marker}'s gateway get their working directories. */
    public static Path workRoot(String marker) {
        return Path.of(
                System.getProperty("java.io.tmpdir"),
                "tether-it-" + ProcessHandle.current().pid() + "-" + marker);
    }

    /** Working directories present now below {@code marker}'s work root. */
    public static List<Path> workDirs(String marker) {
        File[] entries = workRoot(marker).toFile().listFiles();
        return entries == null
                ? List.of()
                : Arrays.stream(entries).map(File::toPath).sorted().toList();
    }

    /**
     * Pids of the running (not zombie) demo workers of {@code marker}'s gateway: descendants of this
     * JVM whose command line carries the marker.
     */
    public static Set<Long> running(String marker) {
        // Info.arguments() is empty for long command lines (a test class path is long); commandLine() is not.
        String argument = " " + MARKER_PROPERTY + marker + " ";
        return ProcessHandle.current()
                .descendants()
                .filter(p -> p.info()
                        .commandLine()
                        .map(line -> line.contains(argument))
                        .orElse(false))
                .map(ProcessHandle::pid)
                .filter(ProcessTree::running)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The value of {@link #MARKER_VARIABLE} for {@code marker}: unique to this test JVM. */
    public static String markerValue(String marker) {
        return ProcessHandle.current().pid() + "-" + marker;
    }

    /**
     * Pids of every running (not zombie) process on this machine whose environment carries
     * {@code marker}: the workers of {@code marker}'s gateway and everything they started, whoever
     * their parent is now (a process whose parent died is re-parented, and is no descendant of
     * this JVM any more). Processes whose environment cannot be read (other users') are skipped.
     */
    public static Set<Long> anywhere(String marker) {
        byte[] entry = (MARKER_VARIABLE + "=" + markerValue(marker)).getBytes(StandardCharsets.UTF_8);
        Set<Long> pids = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path dir : entries) {
                long pid = Long.parseLong(dir.getFileName().toString());
                if (environmentHas(dir.resolve("environ"), entry) && ProcessTree.running(pid)) {
                    pids.add(pid);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc", e);
        }
        return pids;
    }

    /** Whether the NUL-separated environment file {@code environ} holds exactly {@code entry}. */
    private static boolean environmentHas(Path environ, byte[] entry) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(environ);
        } catch (IOException e) {
            return false; // gone, or not ours
        }
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == 0) {
                if (i - start == entry.length && Arrays.equals(bytes, start, i, entry, 0, entry.length)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    /** Whether {@code pid} runs (exists and is not a zombie). */
    public static boolean alive(long pid) {
        return ProcessTree.running(pid);
    }
}
