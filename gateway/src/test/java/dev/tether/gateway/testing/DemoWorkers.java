package dev.tether.gateway.testing;

import dev.tether.gateway.worker.process.ProcessTree;
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
 * {@code -Dtether.it=<marker>}, and its workers run below a work root of their own. So a test can
 * tell the workers of its gateway from those of the other gateways living in the same test JVM, by
 * their command line, and see their working directories.
 */
public final class DemoWorkers {

    private static final String MARKER_PROPERTY = "-Dtether.it=";

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
                    work_root: %s
                    stop_grace: 500ms
                    kill_grace: 500ms
                pool:
                  min_idle: 1
                """.formatted(MARKER_PROPERTY, marker, workRoot(marker));
    }

    /** The directory below which the workers of {@code marker}'s gateway get their working directories. */
    public static Path workRoot(String marker) {
        return Path.of(System.getProperty("java.io.tmpdir"), "tether-it-" + ProcessHandle.current().pid() + "-" + marker);
    }

    /** Working directories present now below {@code marker}'s work root. */
    public static List<Path> workDirs(String marker) {
        java.io.File[] entries = workRoot(marker).toFile().listFiles();
        return entries == null ? List.of() : Arrays.stream(entries).map(java.io.File::toPath).sorted().toList();
    }

    /**
     * Pids of the running (not zombie) demo workers of {@code marker}'s gateway: descendants of this
     * JVM whose command line carries the marker.
     */
    public static Set<Long> running(String marker) {
        // Info.arguments() is empty for long command lines (a test class path is long); commandLine() is not.
        String argument = " " + MARKER_PROPERTY + marker + " ";
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().map(line -> line.contains(argument)).orElse(false))
                .map(ProcessHandle::pid)
                .filter(ProcessTree::running)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** Whether {@code pid} runs (exists and is not a zombie). */
    public static boolean alive(long pid) {
        return ProcessTree.running(pid);
    }
}
