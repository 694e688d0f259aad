package dev.tether.gateway.abuse;

import static java.util.Objects.requireNonNull;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Connections counted from the moment they are accepted, before a byte is read: how many each
 * client address holds open ({@code abuse.max_connections_per_address}), and how many in all have
 * not completed a WebSocket upgrade yet ({@code abuse.max_pending_handshakes}).
 *
 * <ul>
 *   <li>A connection from an address already at its limit is refused: {@link #admit} returns null
 *       and the caller closes it at once ({@link Outcome#ADDRESS_LIMIT}).
 *   <li>A connection that would pass the pending limit is admitted, and the <em>oldest</em> pending
 *       connection is closed to make room ({@link Outcome#PENDING_EVICTED}): honest handshakes take
 *       milliseconds, so the oldest pending connections are the silent ones, and a flood of them can
 *       never keep a new client, a health probe included, from being served.
 *   <li>{@link #evictOldest} closes pending connections on demand, when the process has run out of
 *       file descriptors and something must give.
 * </ul>
 *
 * <p>Thread-safe: called from every event loop at accept and close. The bookkeeping is a few map
 * operations under this object's lock; closing an evicted connection happens after the lock is
 * released. Memory is bounded by the open connections themselves. The limits can be changed while
 * connections are open ({@link #limits}); the counts carry over.
 */
public final class ConnectionGate {

    /** What happened to a connection at the gate, for metrics. */
    public enum Outcome {
        /** Its address already held {@code abuse.max_connections_per_address}: closed at accept. */
        ADDRESS_LIMIT("address_limit"),
        /** It was the oldest not yet upgraded when the pending limit was reached: closed. */
        PENDING_EVICTED("pending_evicted"),
        /** It was closed because the process ran out of file descriptors. */
        FD_EXHAUSTED("fd_exhausted"),
        /** An admin connection beyond {@code admin.max_connections}: closed at accept. */
        ADMIN_LIMIT("admin_limit");

        private final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }

        /** The metric tag. */
        public String tag() {
            return tag;
        }
    }

    /** How to close a connection the gate gave up on; called outside the gate's lock. */
    public interface Closer {
        void close(Outcome outcome);
    }

    private final Map<Object, Integer> perAddress = new HashMap<>();
    /** Not yet upgraded, oldest first. */
    private final LinkedHashSet<Lease> pending = new LinkedHashSet<>();

    private int maxPerAddress;
    private int maxPending;

    public ConnectionGate(int maxPerAddress, int maxPending) {
        limits(maxPerAddress, maxPending);
    }

    /** Changes the limits; connections over a lowered limit stay until they close. */
    public synchronized void limits(int maxPerAddress, int maxPending) {
        if (maxPerAddress < 1 || maxPending < 1) {
            throw new IllegalArgumentException("limits must be >= 1: " + maxPerAddress + ", " + maxPending);
        }
        this.maxPerAddress = maxPerAddress;
        this.maxPending = maxPending;
    }

    /**
     * Counts a connection just accepted from {@code peer}. Returns its lease, or null when its
     * address is at its limit (the caller closes it; nothing was counted). May close the oldest
     * pending connection through its {@link Closer}.
     */
    public Lease admit(SocketAddress peer, Closer closer) {
        requireNonNull(closer, "closer");
        Object address = AddressRateLimiter.keyOf(peer);
        Lease lease;
        Lease evicted = null;
        synchronized (this) {
            int open = perAddress.getOrDefault(address, 0);
            if (open >= maxPerAddress) {
                return null;
            }
            perAddress.put(address, open + 1);
            lease = new Lease(address, closer);
            pending.add(lease);
            if (pending.size() > maxPending) {
                evicted = oldestPending();
            }
        }
        if (evicted != null) {
            evicted.closer.close(Outcome.PENDING_EVICTED);
        }
        return lease;
    }

    /**
     * Closes up to {@code count} of the oldest pending connections with {@code outcome}; returns how
     * many it closed.
     */
    public int evictOldest(int count, Outcome outcome) {
        List<Lease> evicted = new ArrayList<>();
        synchronized (this) {
            while (evicted.size() < count) {
                Lease oldest = oldestPending();
                if (oldest == null) {
                    break;
                }
                evicted.add(oldest);
            }
        }
        evicted.forEach(lease -> lease.closer.close(outcome));
        return evicted.size();
    }

    /** Connections not yet upgraded, now. */
    public synchronized int pending() {
        return pending.size();
    }

    /** Connections open from the address of {@code peer}, now. */
    public synchronized int openFrom(SocketAddress peer) {
        return perAddress.getOrDefault(AddressRateLimiter.keyOf(peer), 0);
    }

    /** Takes the oldest pending lease out of the pending set (under the lock), or null. */
    private Lease oldestPending() {
        Iterator<Lease> oldest = pending.iterator();
        if (!oldest.hasNext()) {
            return null;
        }
        Lease lease = oldest.next();
        oldest.remove();
        return lease;
    }

    /** One admitted connection's place at the gate. */
    public final class Lease {

        private final Object address;
        private final Closer closer;
        private boolean released;

        private Lease(Object address, Closer closer) {
            this.address = address;
            this.closer = closer;
        }

        /** The upgrade completed: the connection no longer counts as pending. Idempotent. */
        public void upgraded() {
            synchronized (ConnectionGate.this) {
                pending.remove(this);
            }
        }

        /** The connection closed: it no longer counts at all. Idempotent. */
        public void release() {
            synchronized (ConnectionGate.this) {
                if (released) {
                    return;
                }
                released = true;
                pending.remove(this);
                perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
            }
        }
    }
}
