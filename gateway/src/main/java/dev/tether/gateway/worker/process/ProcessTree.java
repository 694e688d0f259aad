package dev.tether.gateway.worker.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A worker's process tree as Linux shows it in {@code /proc}: the worker, its descendants, and every
 * process in the worker's process group or session (a worker is started through {@code setsid}, so
 * its pid is both). The group and session catch descendants whose parent died: those are reparented
 * to init and no longer show as descendants, but keep their group and session.
 *
 * <p>Every method reads {@code /proc} (file I/O, proportional to the number of processes on the
 * machine): call them from a worker's own threads or a scheduler, <b>never on an event loop</b>.
 * All methods tolerate processes vanishing mid-scan. Stateless and thread-safe.
 */
public final class ProcessTree {

    private static final Path PROC = Path.of("/proc");

    private ProcessTree() {}

    /** One line of {@code /proc/<pid>/stat}, the fields this class needs. */
    record Stat(long pid, char state, long ppid, long pgrp, long session) {
        boolean zombie() {
            return state == 'Z' || state == 'X' || state == 'x';
        }
    }

    /**
     * The processes of the tree led by {@code leader} that exist now, ordered leaves first (deepest
     * descendants first, the leader itself last when alive). Snapshot this <em>before</em> signalling:
     * once a parent dies its children are reparented and drop out of {@code descendants()}.
     * Never contains the current process. Not for event loops (reads {@code /proc}).
     */
    public static List<ProcessHandle> snapshot(long leader) {
        Map<Long, ProcessHandle> members = new LinkedHashMap<>();
        Optional<ProcessHandle> root = ProcessHandle.of(leader);
        root.ifPresent(r -> r.descendants().forEach(d -> members.put(d.pid(), d)));
        for (long pid : groupOrSessionMembers(leader)) {
            members.computeIfAbsent(pid, p -> ProcessHandle.of(p).orElse(null));
        }
        members.values().removeIf(h -> h == null);
        members.remove(ProcessHandle.current().pid());
        members.remove(1L);
        members.remove(leader);
        Map<Long, Integer> depth = new HashMap<>();
        for (ProcessHandle h : members.values()) {
            depth.put(h.pid(), depthOf(h, members.keySet()));
        }
        List<ProcessHandle> ordered = new ArrayList<>(members.values());
        ordered.sort((a, b) -> Integer.compare(depth.get(b.pid()), depth.get(a.pid())));
        root.filter(r -> r.pid() != ProcessHandle.current().pid()).ifPresent(ordered::add);
        return ordered;
    }

    /**
     * Pids of the processes whose process group or session id is {@code leader}, the leader itself
     * included when it exists. Not for event loops (scans {@code /proc}).
     */
    public static Set<Long> groupOrSessionMembers(long leader) {
        return scan().stream()
                .filter(s -> s.pgrp() == leader || s.session() == leader)
                .map(Stat::pid)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * Resident memory of the tree led by {@code pid}, in bytes (see {@link Snapshot#rssBytes}). Scans
     * all of {@code /proc}: to measure many trees, take one {@link Snapshot} and ask it for each.
     * Not for event loops.
     */
    public static long rssBytes(long pid) {
        return Snapshot.take().rssBytes(pid);
    }

    /**
     * Who is related to whom among the processes that existed when it was taken: one scan of
     * {@code /proc} that any number of trees are then found in, so that measuring every worker's
     * tree costs one read of each process's {@code stat} rather than one per worker. Processes that
     * start after it are not in it; ones that end after it read as holding nothing.
     */
    public static final class Snapshot {

        private final Map<Long, List<Long>> children = new HashMap<>();
        private final Map<Long, List<Long>> byGroupOrSession = new HashMap<>();
        private final Set<Long> pids = new HashSet<>();

        Snapshot(List<Stat> stats) {
            for (Stat stat : stats) {
                pids.add(stat.pid());
                children.computeIfAbsent(stat.ppid(), k -> new ArrayList<>()).add(stat.pid());
                byGroupOrSession
                        .computeIfAbsent(stat.pgrp(), k -> new ArrayList<>())
                        .add(stat.pid());
                if (stat.session() != stat.pgrp()) {
                    byGroupOrSession
                            .computeIfAbsent(stat.session(), k -> new ArrayList<>())
                            .add(stat.pid());
                }
            }
        }

        /** Scans {@code /proc} now. Not for event loops. */
        public static Snapshot take() {
            return new Snapshot(scan());
        }

        /**
         * The pids of the tree led by {@code leader}: the leader when it exists, its descendants, and
         * every member of its process group or session (descendants whose parent died keep those).
         */
        public Set<Long> members(long leader) {
            Set<Long> members = new TreeSet<>(byGroupOrSession.getOrDefault(leader, List.of()));
            if (!pids.contains(leader)) {
                return members;
            }
            Set<Long> visited = new HashSet<>();
            ArrayDeque<Long> next = new ArrayDeque<>(List.of(leader));
            while (!next.isEmpty()) {
                long pid = next.poll();
                if (visited.add(pid)) {
                    members.add(pid);
                    next.addAll(children.getOrDefault(pid, List.of()));
                }
            }
            return members;
        }

        /**
         * Resident memory of the tree led by {@code leader}, in bytes: the sum of {@code VmRSS} over
         * its {@linkplain #members members}. 0 when none exists. Pages shared between members count
         * once per member, so this over-counts shared libraries; good enough for a limit. Reads each
         * member's {@code /proc/<pid>/status}: not for event loops.
         */
        public long rssBytes(long leader) {
            long total = 0;
            for (long pid : members(leader)) {
                total += vmRssBytes(pid);
            }
            return total;
        }
    }

    /**
     * Whether {@code pid} exists and is not a zombie: a process that still runs code (or is stopped)
     * and can hold resources. Not for event loops.
     */
    public static boolean running(long pid) {
        return stat(pid).map(s -> !s.zombie()).orElse(false);
    }

    /**
     * Whether {@code pid} exists at all, zombies included (a zombie is gone for
     * {@link ProcessHandle#isAlive()} but still waits for its parent to reap it). Not for event loops.
     */
    public static boolean exists(long pid) {
        return Files.exists(PROC.resolve(Long.toString(pid)));
    }

    /** The parsed {@code /proc/<pid>/stat}, empty when the process does not exist. Not for event loops. */
    static Optional<Stat> stat(long pid) {
        try {
            return Optional.ofNullable(parseStat(
                    Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Every process visible now. */
    static List<Stat> scan() {
        List<Stat> stats = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(name);
                } catch (NumberFormatException e) {
                    continue;
                }
                stat(pid).ifPresent(stats::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list /proc", e);
        }
        return stats;
    }

    /**
     * Parses {@code pid (comm) state ppid pgrp session ...}. The command name may hold spaces and
     * parentheses, so the fields after it are found from the last ')'.
     */
    static Stat parseStat(String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open < 0 || close < open || close + 2 >= line.length()) {
            return null;
        }
        long pid = Long.parseLong(line.substring(0, open).trim());
        String[] rest = line.substring(close + 2).trim().split(" ", -1);
        if (rest.length < 4 || rest[0].isEmpty()) {
            return null;
        }
        return new Stat(
                pid, rest[0].charAt(0), Long.parseLong(rest[1]), Long.parseLong(rest[2]), Long.parseLong(rest[3]));
    }

    private static long vmRssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(
                    PROC.resolve(Long.toString(pid)).resolve("status"), StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("VmRSS:")) {
                    String[] parts = line.substring(6).trim().split("\\s+", -1);
                    return Long.parseLong(parts[0]) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            // Gone between the scan and this read, or not readable: it holds nothing we can count.
        }
        return 0;
    }

    private static int depthOf(ProcessHandle handle, Set<Long> members) {
        int depth = 0;
        Optional<ProcessHandle> parent = handle.parent();
        while (parent.isPresent() && members.contains(parent.get().pid()) && depth < 1024) {
            depth++;
            parent = parent.get().parent();
        }
        return depth;
    }
}
