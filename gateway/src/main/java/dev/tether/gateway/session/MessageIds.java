package dev.tether.gateway.session;

import java.util.LinkedHashSet;
import java.util.Iterator;

/**
 * The client message ids a session has taken, for idempotency: a resend of a remembered id is
 * acknowledged as duplicate and not forwarded again. Remembers the newest {@code capacity} ids
 * (sessions.max_tracked_message_ids); an id older than that is forgotten, so a resend of it much
 * later would be taken again.
 *
 * <p>Not thread-safe: touched only on the session's event loop.
 */
final class MessageIds {

    private final int capacity;
    private final LinkedHashSet<String> ids = new LinkedHashSet<>();

    MessageIds(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1");
        }
        this.capacity = capacity;
    }

    boolean contains(String id) {
        return ids.contains(id);
    }

    void add(String id) {
        if (ids.add(id) && ids.size() > capacity) {
            Iterator<String> oldest = ids.iterator();
            oldest.next();
            oldest.remove();
        }
    }

    int size() {
        return ids.size();
    }
}
