package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Signals one worker's whole process tree ({@link ProcessTree#snapshot}): SIGTERM, SIGKILL, and
 * SIGKILL to what is left once the worker itself has exited. Every process seen in a snapshot is
 * remembered and killed again at the end, so a descendant that left the worker's session is still
 * caught if it was seen before. Remembers whether the tree needed SIGTERM and SIGKILL, for the
 * gateway's shutdown summary.
 *
 * <p>Runs on the worker's {@code timers} scheduler (it reads {@code /proc}): never on an event loop.
 * {@link #runningNow()} is also called by the gateway's final sweep, on the thread closing it.
 */
final class TreeKiller {

    /** How long the worker gets to reap its killed children before it is killed itself. */
    static final Duration REAP_WINDOW = Duration.ofMillis(100);
    /** Longest wait for SIGKILLed leftovers to disappear (a process stuck in the kernel). */
    static final Duration TEARDOWN_LIMIT = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(TreeKiller.class);
    private static final long POLL_MILLIS = 5;

    private final long pid;
    /** Whether the worker itself has not been reaped yet: only then may its pid be signalled. */
    private final BooleanSupplier alive;

    private final ScheduledExecutorService timers;
    private final UnaryOperator<LoggingEventBuilder> keys;
    private final Set<ProcessHandle> seen = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean killing = new AtomicBoolean();
    private volatile boolean sentSigterm;
    private volatile boolean sentSigkill;

    /**
     * @param pid the worker, leader of its process group and session
     * @param alive whether the worker has not been reaped yet; false from the moment its exit is
     *     known, so a pid the kernel may already have reused is never signalled
     */
    TreeKiller(
            long pid, BooleanSupplier alive, ScheduledExecutorService timers, UnaryOperator<LoggingEventBuilder> keys) {
        this.pid = pid;
        this.alive = requireNonNull(alive, "alive");
        this.timers = requireNonNull(timers, "timers");
        this.keys = requireNonNull(keys, "keys");
    }

    /** SIGTERM to every process of the tree, then {@link #kill()} after {@code killGrace}. */
    void terminate(String why, Duration killGrace) {
        if (!alive.getAsBoolean()) {
            return;
        }
        List<ProcessHandle> tree = ProcessTree.snapshot(pid);
        seen.addAll(tree);
        keys.apply(log.atInfo()).log("{}; SIGTERM to {} process(es)", why, tree.size());
        tree.forEach(ProcessHandle::destroy);
        sentSigterm = true;
        Unwatched.schedule(timers, this::kill, killGrace.toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * SIGKILL to the tree: descendants first, then, once their parents reaped them or after
     * {@link #REAP_WINDOW}, the worker. Killing the leaves first lets their parents reap them, so
     * they do not end as zombies handed to init. Idempotent.
     */
    void kill() {
        if (!killing.compareAndSet(false, true) || !alive.getAsBoolean()) {
            return;
        }
        List<ProcessHandle> others =
                ProcessTree.snapshot(pid).stream().filter(h -> h.pid() != pid).toList();
        seen.addAll(others);
        keys.apply(log.atInfo()).log("SIGKILL to the worker and {} other process(es)", others.size());
        others.forEach(ProcessHandle::destroyForcibly);
        sentSigkill = true;
        killLeaderAfterReap(others, System.nanoTime() + REAP_WINDOW.toNanos());
    }

    /**
     * After the worker exited: SIGKILL whatever is left of its tree (orphans keep the worker's
     * group and session) until nothing of it runs. Completes on the timers thread, also when
     * something survives {@link #TEARDOWN_LIMIT} (logged).
     */
    CompletableFuture<Void> killLeftovers(String exit) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        killLeftovers(exit, System.nanoTime() + TEARDOWN_LIMIT.toNanos(), true, done);
        return done;
    }

    private void killLeaderAfterReap(List<ProcessHandle> others, long deadline) {
        if (System.nanoTime() < deadline && others.stream().anyMatch(h -> ProcessTree.exists(h.pid()))) {
            Unwatched.schedule(timers, () -> killLeaderAfterReap(others, deadline), POLL_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        if (alive.getAsBoolean()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    /** Whether the tree got SIGTERM: the worker outlived {@code stop_grace}, or the graces were skipped. */
    boolean sentSigterm() {
        return sentSigterm;
    }

    /** Whether any process of the tree got SIGKILL: the worker, or what it left when it exited. */
    boolean sentSigkill() {
        return sentSigkill;
    }

    /**
     * The processes of the tree that run now (zombies excluded): its snapshot, the members of its
     * group and session, and every process seen in an earlier snapshot. Reads {@code /proc}: not
     * for event loops.
     */
    Set<ProcessHandle> runningNow() {
        Set<ProcessHandle> tree = new HashSet<>(ProcessTree.snapshot(pid));
        tree.removeIf(h -> !ProcessTree.running(h.pid()));
        tree.addAll(leftovers());
        return tree;
    }

    /** The running members of the worker's group and session, and the running processes seen before. */
    private Set<ProcessHandle> leftovers() {
        Set<ProcessHandle> left = new HashSet<>();
        for (long member : ProcessTree.groupOrSessionMembers(pid)) {
            ProcessHandle.of(member).ifPresent(left::add);
        }
        left.addAll(seen);
        long self = ProcessHandle.current().pid();
        left.removeIf(h -> h.pid() == self || h.pid() == 1 || !h.isAlive() || !ProcessTree.running(h.pid()));
        return left;
    }

    private void killLeftovers(String exit, long deadline, boolean first, CompletableFuture<Void> done) {
        Set<ProcessHandle> left = leftovers();
        if (left.isEmpty()) {
            done.complete(null);
            return;
        }
        if (System.nanoTime() - deadline > 0) {
            keys.apply(log.atWarn())
                    .log(
                            "processes of the worker survive SIGKILL: {}",
                            left.stream().map(ProcessHandle::pid).toList());
            done.complete(null);
            return;
        }
        if (first) {
            keys.apply(log.atInfo()).log("worker exited ({}); SIGKILL to {} leftover process(es)", exit, left.size());
        }
        left.forEach(ProcessHandle::destroyForcibly);
        sentSigkill = true;
        Unwatched.schedule(
                timers, () -> killLeftovers(exit, deadline, false, done), POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
}
