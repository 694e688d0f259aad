package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The format a node writes sessions in the shared store, and the formats it reads (contract 1.2,
 * 8.8). A node never answers a resume of a session stored in a format it cannot read as another
 * session, nor changes it: it refuses the resume with {@code session_incompatible} and close 4004,
 * and leaves the session for a node that reads it.
 *
 * <p><b>Changing the format.</b> Bump {@link #CURRENT} when what is stored changes in a way an older
 * node would misread (a field renamed or reinterpreted; a new field an older node may ignore needs
 * no bump). To read the previous format as well, add it to {@link #MIGRATIONS} with what turns a
 * directory entry of that format into the current one: the claim script then accepts it, and the
 * node migrates the entry in place right after its claim ({@link RedisSessionStore#migrate}), so the
 * session is written in the current format from then on. A format with no migration is refused
 * like a newer one. Today there is one format, so the map is empty: that is the hook.
 *
 * <p>Immutable and thread-safe.
 *
 * @param writes the format new sessions are written in
 * @param reads every format this node reads: {@code writes} and those it migrates
 */
public record StoredFormat(String writes, Set<String> reads) {

    /** The format this code writes. */
    public static final String CURRENT = "1";

    /**
     * Older formats this code migrates, each to the fields to set on its directory entry (beside the
     * format itself) to make it {@link #CURRENT}. None yet.
     */
    static final Map<String, Map<String, String>> MIGRATIONS = Map.of();

    /**
     * A system property for tests only: a node built while it is set writes and reads only the
     * format it names, as a release with a newer format would (StoredFormatIT runs two releases
     * against one Redis that way). Never set in production.
     */
    public static final String TEST_PROPERTY = "tether.test.stored_format";

    public StoredFormat {
        requireNonNull(writes, "writes");
        reads = Set.copyOf(reads);
        if (!reads.contains(writes)) {
            throw new IllegalArgumentException("a node reads the format it writes");
        }
        for (String format : reads) {
            if (format.isEmpty() || format.contains(",")) {
                throw new IllegalArgumentException("formats are non-empty and have no comma: " + format);
            }
        }
    }

    /** What this release writes and reads (or, in a test, what {@link #TEST_PROPERTY} says). */
    public static StoredFormat ofThisRelease() {
        String forced = System.getProperty(TEST_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            return new StoredFormat(forced, Set.of(forced));
        }
        Set<String> reads = new HashSet<>(MIGRATIONS.keySet());
        reads.add(CURRENT);
        return new StoredFormat(CURRENT, reads);
    }

    /** Whether this node can read a session stored in {@code format}. */
    public boolean readable(String format) {
        return reads.contains(format);
    }

    /** Whether a session stored in {@code format} must be migrated before this node uses it. */
    public boolean needsMigration(String format) {
        return !writes.equals(format) && readable(format);
    }

    /** The readable formats as the claim script takes them: comma-separated, sorted. */
    String readList() {
        return String.join(",", new TreeSet<>(reads));
    }
}
