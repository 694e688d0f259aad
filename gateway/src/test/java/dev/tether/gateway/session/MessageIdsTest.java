package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MessageIdsTest {

    @Test
    void remembersIdsUpToCapacityThenForgetsTheOldest() {
        MessageIds ids = new MessageIds(3);
        ids.add("a");
        ids.add("b");
        ids.add("c");
        assertTrue(ids.contains("a"));
        ids.add("d");
        assertFalse(ids.contains("a"));
        assertTrue(ids.contains("b"));
        assertTrue(ids.contains("d"));
        assertEquals(3, ids.size());
    }

    @Test
    void addingAKnownIdChangesNothing() {
        MessageIds ids = new MessageIds(2);
        ids.add("a");
        ids.add("a");
        ids.add("b");
        assertTrue(ids.contains("a"));
        assertEquals(2, ids.size());
    }
}
