package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.report.ReportBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * The arithmetic of the {@code hibernate} scenario's report (benchmark figure 14): which sessions are
 * the active ones, what the gateway's process tree holds per session, how many sessions the machine
 * would hold at that cost, and the wake-up time beside a warm session's first event. Pure; stateless.
 */
final class HibernationFigures {

    private HibernationFigures() {}

    /**
     * What the gateway's process tree holds at one moment.
     *
     * @param gatewayRssBytes resident set of the gateway JVM alone
     * @param heapBytes       its live heap after a full GC, or null when it could not be read
     * @param workersRssBytes resident sets of its descendants (the worker processes) summed
     * @param workerProcesses how many descendants it has
     * @param workersPssBytes their proportional set sizes summed ({@code Pss} of
     *     {@code /proc/<pid>/smaps_rollup}: each shared page split among the processes sharing it, so
     *     that the JVM's shared libraries and class data count once, unlike in the RSS), or null when
     *     unknown
     */
    record TreeReading(
            long gatewayRssBytes, Long heapBytes, long workersRssBytes, int workerProcesses, Long workersPssBytes) {

        static TreeReading of(ProcessSampler.Sample sample, Long heapBytes, Long workersPssBytes) {
            return new TreeReading(
                    sample.rootRssBytes(),
                    heapBytes,
                    sample.descendantsRssBytes(),
                    sample.descendants(),
                    workersPssBytes);
        }

        long totalRssBytes() {
            return gatewayRssBytes + workersRssBytes;
        }
    }

    /** Every how many sessions one is active: {@code 1 / ratio} rounded, at least 1 (a ratio of 0.01: every 100th). */
    static int stride(double activeRatio) {
        if (!(activeRatio > 0) || activeRatio > 1) {
            throw new IllegalArgumentException("--active-ratio: " + activeRatio + " (expected: > 0 and <= 1)");
        }
        return (int) Math.max(1, Math.round(1 / activeRatio));
    }

    /** Whether session {@code index} is an active one: every {@link #stride}-th from the first, so that a run has at least one. */
    static boolean active(int index, int stride) {
        return index % stride == 0;
    }

    /** How many of {@code sessions} sessions (indexes 0 to sessions - 1) are active. */
    static int activeCount(int sessions, int stride) {
        return sessions <= 0 ? 0 : (sessions - 1) / stride + 1;
    }

    /**
     * The memory figures of a run into {@code out}: the gateway JVM's RSS and live heap, its workers'
     * summed RSS and their number, before any session opened and with {@code sessions} open; per
     * session, the growth divided by {@code sessions}; per worker process, the workers' RSS divided by
     * their number; and, from the memory the machine had left with them open
     * ({@code memAvailableBytes}, null when unknown), how many sessions it would hold at the same cost
     * per session ({@code sessions_machine_holds_estimate}).
     */
    static void memory(ObjectNode out, TreeReading before, TreeReading with, int sessions, Long memAvailableBytes) {
        pair(out, "gateway_rss", before.gatewayRssBytes(), with.gatewayRssBytes(), sessions);
        if (before.heapBytes() != null && with.heapBytes() != null) {
            pair(out, "heap", before.heapBytes(), with.heapBytes(), sessions);
        }
        pair(out, "workers_rss", before.workersRssBytes(), with.workersRssBytes(), sessions);
        pair(out, "total_rss", before.totalRssBytes(), with.totalRssBytes(), sessions);
        out.put("worker_processes_before", before.workerProcesses())
                .put("worker_processes_with", with.workerProcesses());
        if (with.workerProcesses() > 0) {
            out.put("workers_rss_per_process_bytes", with.workersRssBytes() / with.workerProcesses());
        }
        long perSession = perSession(before.totalRssBytes(), with.totalRssBytes(), sessions);
        if (before.workersPssBytes() != null && with.workersPssBytes() != null) {
            pair(out, "workers_pss", before.workersPssBytes(), with.workersPssBytes(), sessions);
            if (with.workerProcesses() > 0) {
                out.put("workers_pss_per_process_bytes", with.workersPssBytes() / with.workerProcesses());
            }
            // What a session really costs the machine: the gateway's growth and its workers' proportional share.
            perSession = perSession(
                    before.gatewayRssBytes() + before.workersPssBytes(),
                    with.gatewayRssBytes() + with.workersPssBytes(),
                    sessions);
            out.put("machine_bytes_per_session", perSession);
        }
        if (memAvailableBytes != null) {
            out.put("mem_available_with_bytes", memAvailableBytes);
            if (perSession > 0) {
                out.put("sessions_machine_holds_estimate", sessions + memAvailableBytes / perSession);
            }
        }
    }

    /**
     * The {@code Pss} of a {@code /proc/<pid>/smaps_rollup} text in bytes, or null when it has none
     * (a process that has gone, a kernel without the file).
     */
    static Long pssBytes(String smapsRollup) {
        for (String line : smapsRollup.lines().toList()) {
            if (line.startsWith("Pss:")) {
                return Long.parseLong(line.substring(4).replace("kB", "").trim()) * 1024;
            }
        }
        return null;
    }

    /**
     * The summed {@code Pss} of every descendant of process {@code pid} now (its workers), or null
     * when it cannot be read (not Linux, the process has gone); a descendant that goes while being read
     * is left out.
     */
    static Long descendantsPssBytes(long pid) {
        Optional<ProcessHandle> root = ProcessHandle.of(pid);
        if (root.isEmpty() || !Files.isReadable(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
            return null;
        }
        long sum = 0;
        for (ProcessHandle d : root.get().descendants().toList()) {
            try {
                Long pss = pssBytes(Files.readString(Path.of("/proc", Long.toString(d.pid()), "smaps_rollup")));
                sum += pss == null ? 0 : pss;
            } catch (IOException | RuntimeException e) {
                // Gone while being read: it holds nothing any more.
            }
        }
        return sum;
    }

    /** {@code (after - before) / sessions}, 0 for no sessions. */
    static long perSession(long before, long after, int sessions) {
        return sessions <= 0 ? 0 : (after - before) / sessions;
    }

    private static void pair(ObjectNode out, String name, long before, long with, int sessions) {
        out.put(name + "_before_bytes", before)
                .put(name + "_with_bytes", with)
                .put(name + "_per_session_bytes", perSession(before, with, sessions));
    }

    /**
     * The wake-up beside a warm session's first event, from the run's histograms (microseconds):
     * count, p50 and p99 of each in ms, and the wake-up's p50 and p99 as multiples of the warm ones
     * (NaN where either is missing).
     */
    static ObjectNode wakeVersusWarm(Histogram wake, Histogram warm) {
        ObjectNode out = ReportBuilder.object();
        double wakeP50 = ms(wake, 50);
        double wakeP99 = ms(wake, 99);
        double warmP50 = ms(warm, 50);
        double warmP99 = ms(warm, 99);
        return out.put("wake_count", wake.getTotalCount())
                .put("wake_p50_ms", wakeP50)
                .put("wake_p99_ms", wakeP99)
                .put("warm_count", warm.getTotalCount())
                .put("warm_p50_ms", warmP50)
                .put("warm_p99_ms", warmP99)
                .put("wake_to_warm_p50", wakeP50 / warmP50)
                .put("wake_to_warm_p99", wakeP99 / warmP99);
    }

    /** The percentile of a histogram in microseconds, in ms; NaN for an empty one. */
    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1000.0;
    }
}
