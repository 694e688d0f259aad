package dev.tether.loadtest.engine;

import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * CPU time used so far by a process and all its live descendants (the gateway and its workers;
 * websocketd and its per-connection workers), from the operating system ({@link ProcessHandle},
 * {@code /proc/<pid>/stat} on Linux). The difference between two readings, over the messages
 * answered between them, is the server's CPU per message. A descendant that exits between the two
 * readings takes its time with it, so read while every session is open.
 *
 * <p>Stateless and thread-safe.
 */
public final class CpuMeter {

    private CpuMeter() {}

    /** CPU time of {@code pid} and its descendants now; empty when the process is gone or the OS does not tell. */
    public static Optional<Duration> processTree(long pid) {
        Optional<ProcessHandle> root = ProcessHandle.of(pid);
        if (root.isEmpty()) {
            return Optional.empty();
        }
        Optional<Duration> own = root.get().info().totalCpuDuration();
        if (own.isEmpty()) {
            return Optional.empty();
        }
        Duration total = Stream.concat(
                        Stream.of(own.get()),
                        root.get()
                                .descendants()
                                .map(p -> p.info().totalCpuDuration().orElse(Duration.ZERO)))
                .reduce(Duration.ZERO, Duration::plus);
        return Optional.of(total);
    }

    /** CPU time of this JVM (the client) so far. */
    public static Optional<Duration> self() {
        return ProcessHandle.current().info().totalCpuDuration();
    }
}
