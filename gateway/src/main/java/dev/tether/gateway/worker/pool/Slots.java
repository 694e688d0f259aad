package dev.tether.gateway.worker.pool;

import dev.tether.gateway.worker.Worker;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The {@link WorkerPool}'s books: every live {@link Slot}, the warm ones in the order they got
 * ready, and counts per state, kept consistent by moving slots only through {@link #move}.
 *
 * <p>Not thread-safe: guarded by the pool's lock.
 */
final class Slots {

    private final Set<Slot> live = new HashSet<>();
    private final ArrayDeque<Slot> idle = new ArrayDeque<>();
    private final EnumMap<Slot.State, Integer> counts = new EnumMap<>(Slot.State.class);
    private int pendingWarm;

    /** A new slot in state LAUNCHING; a background spawn ({@code claim} null) is pending warm. */
    Slot reserve(WorkerLauncher launcher, int generation, CompletableFuture<Worker> claim) {
        Slot slot = new Slot(launcher, generation, claim);
        live.add(slot);
        add(Slot.State.LAUNCHING, 1);
        if (claim == null) {
            slot.pendingWarm = true;
            pendingWarm++;
        }
        return slot;
    }

    void move(Slot slot, Slot.State to) {
        if (slot.pendingWarm && !to.starting()) {
            slot.pendingWarm = false;
            pendingWarm--;
        }
        if (slot.state == Slot.State.IDLE && to != Slot.State.IDLE) {
            idle.remove(slot);
        }
        add(slot.state, -1);
        add(to, 1);
        slot.state = to;
        if (to == Slot.State.IDLE) {
            idle.addLast(slot);
        } else if (to == Slot.State.GONE) {
            live.remove(slot);
        }
    }

    /** The oldest warm worker that has not exited, moved to IN_SESSION; or null. */
    Slot takeIdle() {
        Slot slot;
        while ((slot = idle.peekFirst()) != null) {
            if (hasExited(slot.worker)) {
                move(slot, Slot.State.RETIRING); // its exit callback, waiting for the lock, frees it
                continue;
            }
            move(slot, Slot.State.IN_SESSION);
            return slot;
        }
        return null;
    }

    /** Moves every warm worker to RETIRING and returns them, to be stopped. */
    List<Worker> retireIdle() {
        List<Worker> workers = new ArrayList<>(idle.size());
        while (!idle.isEmpty()) {
            Slot slot = idle.peekFirst();
            workers.add(slot.worker);
            move(slot, Slot.State.RETIRING);
        }
        return workers;
    }

    /** The configuration changed: no starting worker will join the warm pool or be a breaker trial. */
    void forgetPending() {
        for (Slot slot : live) {
            slot.pendingWarm = false;
            slot.trial = false;
        }
        pendingWarm = 0;
    }

    /** The live slots, for a sweep; do not move slots while iterating (copy first). */
    Collection<Slot> view() {
        return Collections.unmodifiableSet(live);
    }

    int live() {
        return live.size();
    }

    int warm() {
        return idle.size();
    }

    int starting() {
        return count(Slot.State.LAUNCHING) + count(Slot.State.STARTING);
    }

    /** Background spawns of the current configuration on their way to the warm pool. */
    int pendingWarm() {
        return pendingWarm;
    }

    /** Whether every live worker is in a session (nothing left for the pool to stop or wait for). */
    boolean onlyInSessions() {
        return live.size() == count(Slot.State.IN_SESSION);
    }

    private int count(Slot.State state) {
        return counts.getOrDefault(state, 0);
    }

    private void add(Slot.State state, int delta) {
        counts.merge(state, delta, Integer::sum);
    }

    private static boolean hasExited(Worker worker) {
        try {
            return worker.exited().toCompletableFuture().isDone();
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }
}
