package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    @Test
    void idsThatDifferOnlyInCaseOrUnicodeAreDifferent() {
        MessageIds ids = new MessageIds(10);
        ids.add("m-1");
        ids.add("é");
        assertFalse(ids.contains("M-1"));
        assertFalse(ids.contains("e\u0301"));
        assertTrue(ids.contains("\u00e9"));
    }

    /** Against a LinkedHashSet of the ids, which is what the class promises to behave as. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 8, 9, 64, 100, 4096})
    void behavesAsAnInsertionOrderedSetOfTheNewestIds(int capacity) {
        Random random = new Random(capacity);
        MessageIds ids = new MessageIds(capacity);
        LinkedHashSet<String> model = new LinkedHashSet<>();
        int range = capacity * 3;
        for (int step = 0; step < 40_000; step++) {
            String id = "m" + random.nextInt(range);
            if (random.nextBoolean()) {
                assertEquals(model.contains(id), ids.contains(id), "step " + step + ": contains " + id);
            } else {
                ids.add(id);
                if (model.add(id) && model.size() > capacity) {
                    Iterator<String> oldest = model.iterator();
                    oldest.next();
                    oldest.remove();
                }
            }
            assertEquals(model.size(), ids.size(), "step " + step);
        }
        for (int i = 0; i < range; i++) {
            assertEquals(model.contains("m" + i), ids.contains("m" + i), "m" + i);
        }
    }
}
