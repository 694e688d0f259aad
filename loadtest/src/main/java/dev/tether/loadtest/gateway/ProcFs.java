package dev.tether.loadtest.gateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads what {@link ProcessSampler} needs from Linux's {@code /proc/<pid>/status} and
 * {@code /proc/<pid>/stat}. Parsing is separate from reading so tests can feed fixture text.
 * Stateless and thread-safe.
 */
final class ProcFs {

    /** One reading of one process: resident set, thread count, CPU time used so far (clock ticks). */
    record Reading(long rssBytes, int threads, long cpuTicks) {}

    private ProcFs() {}

    /** The process's reading now, or null when it has gone (or this is not Linux). */
    static Reading read(long pid) {
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            String status = Files.readString(dir.resolve("status"));
            String stat = Files.readString(dir.resolve("stat"));
            return new Reading(rssBytes(status), threads(status), cpuTicks(stat));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** {@code VmRSS} of a status file, in bytes; 0 when absent (a zombie, a kernel thread). */
    static long rssBytes(String status) {
        String kb = field(status, "VmRSS:");
        return kb == null ? 0 : Long.parseLong(kb.replace("kB", "").trim()) * 1024;
    }

    /** {@code Threads} of a status file. */
    static int threads(String status) {
        String n = field(status, "Threads:");
        if (n == null) {
            throw new IllegalArgumentException("no Threads line in the status text");
        }
        return Integer.parseInt(n.trim());
    }

    /**
     * {@code utime + stime} of a stat line (fields 14 and 15, in clock ticks). The command name (field
     * 2) is in parentheses and may hold spaces and parentheses itself, so fields are counted from the
     * last {@code ')'}.
     */
    static long cpuTicks(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + stat);
        }
        String[] fields = stat.substring(close + 1).trim().split("\\s+", -1);
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        return Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
    }

    private static String field(String status, String name) {
        for (String line : status.lines().toList()) {
            if (line.startsWith(name)) {
                return line.substring(name.length()).trim();
            }
        }
        return null;
    }
}
