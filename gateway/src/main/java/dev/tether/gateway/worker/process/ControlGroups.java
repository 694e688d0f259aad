package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.ProcessWorkerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A control group for every worker tree, below the gateway's own group, where the kernel enforces
 * {@code limits.rss_hard_limit} (the memory controller) and {@code worker.process.max_processes}
 * (the pids controller), and counts the processes it killed at the memory limit.
 *
 * <p>Cgroup v1 (a hierarchy per controller, as on this project's CI machines): a group {@code
 * tether-<gateway pid>-<spawn id>} below the gateway's group in the memory hierarchy and, where the
 * pids hierarchy is there too, one of the same name below the gateway's group in it. Cgroup v2: one
 * group below the gateway's own group, or below its parent, whichever has {@code memory} in its
 * {@code cgroup.subtree_control} (the gateway in a leaf of a group delegated to it, as systemd's
 * {@code Delegate=yes} allows). {@link #choose} finds out at start-up by making a probe group.
 *
 * <p>Blocking file I/O: never on an event loop. Thread-safe (immutable).
 */
public final class ControlGroups {

    private static final Logger log = LoggerFactory.getLogger(ControlGroups.class);
    private static final Path PROC_CGROUP = Path.of("/proc/self/cgroup");
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    private static final Pattern OWN_GROUP = Pattern.compile("tether-(\\d+)-[0-9a-z]+");
    private static final Pattern OOM_KILL = Pattern.compile("(?m)^oom_kill (\\d+)$");

    private final boolean v2;
    private final Path memoryParent;
    /** Where pids groups go; the memory parent on v2; null when no pids controller is usable. */
    private final Path pidsParent;

    private final LongSupplier memoryLimit;
    private final String prefix = "tether-" + ProcessHandle.current().pid() + "-";

    /** What {@link #choose} settled on: groups, or none (polling), and why, for the start-up log. */
    public record Choice(ControlGroups groups, String why) {}

    private ControlGroups(boolean v2, Path memoryParent, Path pidsParent, LongSupplier memoryLimit) {
        this.v2 = v2;
        this.memoryParent = memoryParent;
        this.pidsParent = pidsParent;
        this.memoryLimit = memoryLimit;
    }

    /**
     * Chooses by {@code worker.process.limit_enforcement}: {@code poll} makes no groups; {@code auto}
     * and {@code cgroup} look for a writable memory controller and prove it by making (and removing)
     * a probe group. Groups left by a gateway that is gone (killed before it could remove them) are
     * removed on the way.
     *
     * @param memoryLimit the memory limit of the next group, in bytes ({@code limits.rss_hard_limit} now)
     * @throws IllegalStateException for {@code cgroup} when groups cannot be made here
     */
    public static Choice choose(String mode, LongSupplier memoryLimit) {
        requireNonNull(memoryLimit, "memoryLimit");
        if (ProcessWorkerConfig.POLL.equals(mode)) {
            return new Choice(null, "worker.process.limit_enforcement is poll");
        }
        ControlGroups groups;
        try {
            groups = find(
                    Files.readAllLines(PROC_CGROUP, StandardCharsets.UTF_8),
                    Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8),
                    memoryLimit);
            groups.removeStale();
            ControlGroup probe = groups.create("probe" + Long.toString(System.nanoTime(), 36), 1);
            if (!probe.remove()) {
                throw new IOException("cannot remove the probe group " + probe.memoryDir);
            }
        } catch (IOException | RuntimeException e) {
            String why = "control groups cannot be made here: " + e.getMessage();
            if (ProcessWorkerConfig.CGROUP.equals(mode)) {
                throw new IllegalStateException("worker.process.limit_enforcement is cgroup, but " + why, e);
            }
            return new Choice(null, why + " (worker.process.limit_enforcement is auto)");
        }
        return new Choice(groups, groups.describe());
    }

    /** Which groups are made where, for the start-up log. */
    public String describe() {
        return (v2 ? "cgroup v2" : "cgroup v1") + ", memory below " + memoryParent
                + (pidsParent == null
                        ? " (no pids controller: max_processes is RLIMIT_NPROC)"
                        : ", pids below " + pidsParent);
    }

    /** Whether {@code worker.process.max_processes} is the groups' {@code pids.max} (else {@code RLIMIT_NPROC}). */
    public boolean limitsProcesses() {
        return pidsParent != null;
    }

    /**
     * Makes the groups of one worker: memory limited to the current {@code limits.rss_hard_limit}
     * (swap included, where the kernel accounts for it), processes to {@code maxProcesses} (0: no
     * limit). Whatever was made is removed again when a step fails.
     */
    public ControlGroup create(String id, int maxProcesses) throws IOException {
        String name = prefix + id;
        List<Path> made = new ArrayList<>();
        try {
            Path memory = memoryParent.resolve(name);
            Files.createDirectory(memory);
            made.add(memory);
            String bytes = Long.toString(memoryLimit.getAsLong());
            if (v2) {
                write(memory.resolve("memory.max"), bytes);
                writeIfPresent(memory.resolve("memory.swap.max"), "0");
            } else {
                write(memory.resolve("memory.limit_in_bytes"), bytes);
                writeIfPresent(memory.resolve("memory.memsw.limit_in_bytes"), bytes);
            }
            if (pidsParent != null) {
                Path pids = v2 ? memory : pidsParent.resolve(name);
                if (!v2) {
                    Files.createDirectory(pids);
                    made.add(pids);
                }
                write(pids.resolve("pids.max"), maxProcesses == 0 ? "max" : Integer.toString(maxProcesses));
            }
            return new ControlGroup(v2, List.copyOf(made));
        } catch (IOException | RuntimeException e) {
            new ControlGroup(v2, made).remove();
            throw e;
        }
    }

    /** One worker tree's groups (one on v2; on v1 its memory group and maybe its pids group). */
    public static final class ControlGroup {
        private final boolean v2;
        private final List<Path> dirs;
        private final Path memoryDir;

        ControlGroup(boolean v2, List<Path> dirs) {
            this.v2 = v2;
            this.dirs = dirs;
            this.memoryDir = dirs.isEmpty() ? null : dirs.get(0);
        }

        /** The {@code cgroup.procs} files the worker writes its pid to before its program starts. */
        public List<String> procsFiles() {
            return dirs.stream().map(d -> d.resolve("cgroup.procs").toString()).toList();
        }

        /** The memory group's directory. */
        public Path memoryDir() {
            return memoryDir;
        }

        /**
         * How many processes of the group the kernel's OOM killer has killed at its memory limit
         * ({@code oom_kill} in {@code memory.events} (v2) or {@code memory.oom_control} (v1, Linux
         * 4.13 and later)); -1 when the kernel does not say.
         */
        public long oomKills() {
            try {
                String text = Files.readString(memoryDir.resolve(v2 ? "memory.events" : "memory.oom_control"));
                Matcher m = OOM_KILL.matcher(text);
                return m.find() ? Long.parseLong(m.group(1)) : -1;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        /** The most memory the group has used, in bytes (v1; v2: {@code memory.peak}); -1 when unknown. */
        public long peakBytes() {
            try {
                return Long.parseLong(
                        Files.readString(memoryDir.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes"))
                                .strip());
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        /**
         * Removes the groups once they are empty: tried now and then every {@code retryMillis} on
         * {@code timers}, {@code attempts} times in all (the kernel lets a group go only after the
         * last process in it has exited). Completes with whether none is left; never blocks.
         */
        public CompletionStage<Boolean> removeWhenEmpty(
                ScheduledExecutorService timers, int attempts, long retryMillis) {
            CompletableFuture<Boolean> removed = new CompletableFuture<>();
            tryRemove(timers, attempts, retryMillis, removed);
            return removed;
        }

        private void tryRemove(
                ScheduledExecutorService timers, int attempts, long retryMillis, CompletableFuture<Boolean> removed) {
            if (remove() || attempts <= 1) {
                removed.complete(!dirs.stream().anyMatch(Files::exists));
                return;
            }
            Unwatched.schedule(
                    timers,
                    () -> tryRemove(timers, attempts - 1, retryMillis, removed),
                    retryMillis,
                    TimeUnit.MILLISECONDS);
        }

        /** Removes the groups (they must be empty); true when none is left. */
        public boolean remove() {
            boolean all = true;
            for (int i = dirs.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(dirs.get(i));
                } catch (IOException e) {
                    all = false;
                }
            }
            return all;
        }

        @Override
        public String toString() {
            return dirs.toString();
        }
    }

    /**
     * The directory of the group process {@code pid} is in, in the v1 hierarchy of {@code controller}
     * (memory, pids) or else the unified (v2) one; empty when it cannot be told. For
     * tests and operators.
     */
    public static Optional<Path> groupOf(long pid, String controller) {
        try {
            List<String> membership = Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"));
            List<String> mounts = Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8);
            Path v1 = v1Group(membership, mounts, controller);
            return Optional.ofNullable(v1 != null ? v1 : v2Group(membership, mounts));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    // ---- finding the controllers ----

    /**
     * Where groups would go, from the gateway's {@code /proc/self/cgroup} ({@code membership}) and
     * {@code /proc/self/mountinfo} ({@code mounts}); nothing is made yet.
     *
     * @throws IOException when no memory controller is there to use, saying why
     */
    static ControlGroups find(List<String> membership, List<String> mounts, LongSupplier memoryLimit)
            throws IOException {
        Path memoryV1 = v1Group(membership, mounts, "memory");
        if (memoryV1 != null) {
            return new ControlGroups(false, memoryV1, v1Group(membership, mounts, "pids"), memoryLimit);
        }
        Path unified = v2Group(membership, mounts);
        if (unified == null) {
            throw new IOException("no memory controller is mounted (neither cgroup v1 memory nor cgroup v2)");
        }
        for (Path candidate : new Path[] {unified, unified.getParent()}) {
            if (candidate != null
                    && controllers(candidate.resolve("cgroup.subtree_control")).contains("memory")) {
                Path pids =
                        controllers(candidate.resolve("cgroup.subtree_control")).contains("pids") ? candidate : null;
                return new ControlGroups(true, candidate, pids, memoryLimit);
            }
        }
        throw new IOException("cgroup v2 without the memory controller delegated: neither " + unified
                + " nor its parent has memory in cgroup.subtree_control");
    }

    private static Set<String> controllers(Path file) throws IOException {
        try {
            return new LinkedHashSet<>(List.of(Files.readString(file).strip().split("\\s+", -1)));
        } catch (NoSuchFileException e) {
            return Set.of();
        }
    }

    /** The gateway's own group in the v1 hierarchy of {@code controller}, or null. */
    private static Path v1Group(List<String> membership, List<String> mounts, String controller) {
        String path = null;
        for (String line : membership) {
            String[] parts = line.split(":", 3);
            if (parts.length == 3 && List.of(parts[1].split(",", -1)).contains(controller)) {
                path = parts[2];
            }
        }
        if (path == null) {
            return null;
        }
        for (String mount : mounts) {
            String[] halves = mount.split(" - ", 2);
            if (halves.length < 2) {
                continue;
            }
            String[] fields = halves[0].split(" ", -1);
            String[] after = halves[1].split(" ", -1);
            if (fields.length > 4
                    && after.length > 2
                    && after[0].equals("cgroup")
                    && List.of(after[2].split(",", -1)).contains(controller)) {
                return inMount(fields[4], fields[3], path);
            }
        }
        return null;
    }

    /** The gateway's own group in the cgroup2 hierarchy, or null. */
    private static Path v2Group(List<String> membership, List<String> mounts) {
        String path = membership.stream()
                .filter(line -> line.startsWith("0::"))
                .map(line -> line.substring(3))
                .findFirst()
                .orElse(null);
        if (path == null) {
            return null;
        }
        for (String mount : mounts) {
            String[] halves = mount.split(" - ", 2);
            String[] fields = halves[0].split(" ", -1);
            if (halves.length == 2 && halves[1].startsWith("cgroup2 ") && fields.length > 4) {
                return inMount(fields[4], fields[3], path);
            }
        }
        return null;
    }

    /** Group {@code path} of a hierarchy mounted at {@code mountPoint} from its {@code root}; null outside it. */
    private static Path inMount(String mountPoint, String root, String path) {
        String relative;
        if (root.equals("/")) {
            relative = path;
        } else if (path.equals(root) || path.startsWith(root + "/")) {
            relative = path.substring(root.length());
        } else {
            return null;
        }
        return Path.of(
                        unescape(mountPoint),
                        relative.isEmpty() ? "." : relative.substring(relative.startsWith("/") ? 1 : 0))
                .normalize();
    }

    /** mountinfo writes a space in a path as {@code \040}. */
    private static String unescape(String field) {
        return field.replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\");
    }

    /** Removes empty groups of gateways that are gone (a gateway killed by SIGKILL cannot remove its own). */
    private void removeStale() {
        int removed = 0;
        for (Path parent : pidsParent == null || v2 ? List.of(memoryParent) : List.of(memoryParent, pidsParent)) {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(parent, "tether-*")) {
                for (Path child : children) {
                    Matcher m = OWN_GROUP.matcher(child.getFileName().toString());
                    if (m.matches()
                            && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                        try {
                            Files.delete(child);
                            removed++;
                        } catch (IOException e) {
                            log.warn(
                                    "cannot remove the control group {} of a gateway that is gone: {}",
                                    child,
                                    e.toString());
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.warn(
                        "cannot look for control groups left by a gateway that is gone in {}: {}",
                        parent,
                        e.toString());
            }
        }
        if (removed > 0) {
            log.info("removed {} control group(s) left by a gateway that is gone", removed);
        }
    }

    private static void write(Path file, String value) throws IOException {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("cannot write " + value + " to " + file + ": " + e.getMessage(), e);
        }
    }

    private static void writeIfPresent(Path file, String value) throws IOException {
        if (Files.exists(file)) {
            write(file, value);
        }
    }
}
