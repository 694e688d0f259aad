package dev.tether.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class StoredFormatTest {

    @Test
    void thisReleaseWritesTheCurrentFormatAndReadsItAndEveryFormatItMigrates() {
        StoredFormat format = StoredFormat.ofThisRelease();
        assertEquals(StoredFormat.CURRENT, format.writes());
        assertTrue(format.readable(StoredFormat.CURRENT));
        assertTrue(format.reads().containsAll(StoredFormat.MIGRATIONS.keySet()));
        assertFalse(format.needsMigration(StoredFormat.CURRENT));
        assertFalse(format.readable("99"));
    }

    @Test
    void aNodeThatMigratesAnOlderFormatReadsItAndMigratesIt() {
        StoredFormat next = new StoredFormat("3", Set.of("3", "2"));
        assertTrue(next.needsMigration("2"));
        assertFalse(next.needsMigration("3"));
        assertFalse(next.readable("1"), "a format with no migration is refused like a newer one");
        assertEquals("2,3", next.readList());
    }

    @Test
    void aNodeReadsWhatItWritesAndFormatsHaveNoComma() {
        assertThrows(IllegalArgumentException.class, () -> new StoredFormat("2", Set.of("1")));
        assertThrows(IllegalArgumentException.class, () -> new StoredFormat("1,2", Set.of("1,2")));
    }
}
