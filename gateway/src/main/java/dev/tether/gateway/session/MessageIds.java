package dev.tether.gateway.session;

import io.netty.util.concurrent.FastThreadLocal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The client message ids a session has taken, for idempotency: a resend of a remembered id is
 * acknowledged as duplicate and not forwarded again. Remembers the newest {@code capacity} ids
 * (sessions.max_tracked_message_ids); an id older than that is forgotten, so a resend of it much
 * later would be taken again.
 *
 * <p>An id is remembered by a digest of 128 bits (the first half of the SHA-256 of its UTF-8), in
 * flat arrays that grow with the ids up to {@code capacity} and are then reused in a ring: oldest
 * first, found through an open-addressing table. Taking an id leaves nothing behind for the garbage
 * collector to copy: with one {@code LinkedHashSet} entry and string per id, a busy gateway kept
 * 4,096 of them alive per session, and every young collection copied those taken since the last
 * (at 20,000 messages a second, about 40 MB and 50 ms per pause). Two ids share a digest with a
 * probability of 2^-128, which no client can arrange (SHA-256 resists collisions).
 *
 * <p>Not thread-safe: touched only on the session's event loop.
 */
final class MessageIds {

    private static final int FIRST_SLOTS = 8;
    private static final FastThreadLocal<MessageDigest> SHA_256 = new FastThreadLocal<>() {
        @Override
        protected MessageDigest initialValue() throws NoSuchAlgorithmException {
            return MessageDigest.getInstance("SHA-256");
        }
    };

    private final int capacity;
    /** Two longs per remembered id, in slots {@code head, head + 1, ...} (mod slots), oldest first. */
    private long[] digests = new long[0];

    private int slots;
    private int head;
    private int size;
    /** Open addressing with linear probing: slot + 1 of the id whose digest hashes there, 0 if empty. */
    private int[] table = new int[0];
    /** The id last digested, and its digest: a message is looked up, then taken, with one SHA-256. */
    private String digested;

    private long high;
    private long low;

    MessageIds(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1");
        }
        this.capacity = capacity;
    }

    boolean contains(String id) {
        digest(id);
        return find(high, low) >= 0;
    }

    void add(String id) {
        digest(id);
        addDigested();
    }

    /** The 16 bytes remembered for {@code id} (what the session store keeps of it). */
    byte[] digestOf(String id) {
        digest(id);
        return ByteBuffer.allocate(16).putLong(high).putLong(low).array();
    }

    /** Remembers an id by the 16 bytes {@link #digestOf} gave for it (from the session store). */
    void addDigest(byte[] digest) {
        if (digest.length != 16) {
            throw new IllegalArgumentException("a message id digest has 16 bytes, not " + digest.length);
        }
        ByteBuffer bytes = ByteBuffer.wrap(digest);
        high = bytes.getLong(0);
        low = bytes.getLong(8);
        digested = null;
        addDigested();
    }

    private void addDigested() {
        if (find(high, low) >= 0) {
            return;
        }
        if (size == capacity) {
            forgetOldest();
        } else if (size == slots) {
            grow();
        }
        int slot = (head + size) % slots;
        digests[2 * slot] = high;
        digests[2 * slot + 1] = low;
        size++;
        insert(slot);
    }

    int size() {
        return size;
    }

    /** The bucket holding the id with this digest, or -1. */
    private int find(long high, long low) {
        if (size == 0) {
            return -1;
        }
        int mask = table.length - 1;
        for (int bucket = home(low, mask); table[bucket] != 0; bucket = (bucket + 1) & mask) {
            int slot = table[bucket] - 1;
            if (digests[2 * slot] == high && digests[2 * slot + 1] == low) {
                return bucket;
            }
        }
        return -1;
    }

    private void insert(int slot) {
        int mask = table.length - 1;
        int bucket = home(digests[2 * slot + 1], mask);
        while (table[bucket] != 0) {
            bucket = (bucket + 1) & mask;
        }
        table[bucket] = slot + 1;
    }

    private void forgetOldest() {
        int bucket = find(digests[2 * head], digests[2 * head + 1]);
        removeAt(bucket);
        head = (head + 1) % slots;
        size--;
    }

    /** Empties {@code bucket} and moves later entries of its probe run back, so no lookup is cut short. */
    private void removeAt(int bucket) {
        int mask = table.length - 1;
        int hole = bucket;
        for (int next = (hole + 1) & mask; table[next] != 0; next = (next + 1) & mask) {
            int wanted = home(digests[2 * (table[next] - 1) + 1], mask);
            boolean canFill = hole <= next ? wanted <= hole || wanted > next : wanted <= hole && wanted > next;
            if (canFill) {
                table[hole] = table[next];
                hole = next;
            }
        }
        table[hole] = 0;
    }

    /** Doubles the slots (up to capacity), oldest id first again, and rebuilds the table at most half full. */
    private void grow() {
        int newSlots = slots == 0 ? Math.min(FIRST_SLOTS, capacity) : (int) Math.min((long) slots * 2, capacity);
        long[] newDigests = new long[2 * newSlots];
        for (int i = 0; i < size; i++) {
            int slot = (head + i) % slots;
            newDigests[2 * i] = digests[2 * slot];
            newDigests[2 * i + 1] = digests[2 * slot + 1];
        }
        digests = newDigests;
        slots = newSlots;
        head = 0;
        table = new int[Integer.highestOneBit(Math.max(2, newSlots) * 2 - 1) << 1];
        for (int slot = 0; slot < size; slot++) {
            insert(slot);
        }
    }

    private static int home(long low, int mask) {
        return (int) (low ^ (low >>> 32)) & mask;
    }

    private void digest(String id) {
        if (id.equals(digested)) {
            return;
        }
        ByteBuffer digest = ByteBuffer.wrap(SHA_256.get().digest(id.getBytes(StandardCharsets.UTF_8)));
        high = digest.getLong(0);
        low = digest.getLong(8);
        digested = id;
    }
}
