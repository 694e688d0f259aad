package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.session.Journal;
import dev.tether.gateway.session.SessionStore;
import io.netty.util.concurrent.EventExecutor;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The in-process store ({@code sessions.store: memory}): a record per session this node holds, with
 * the format it was written in, like the shared store's directory entry (contract 1.2, 8.8). The
 * sessions themselves live in the registry and die with the process, so today every record is in
 * this release's format; the check is there so that a record of a format this node cannot read is
 * refused exactly as the Redis store refuses one ({@code session_incompatible}, close 4004, the
 * record left as it is), never answered as another session.
 *
 * <p><b>Threading:</b> thread-safe; every method returns at once.
 */
public final class MemorySessionStore implements SessionStore {

    /**
     * What the store keeps of a session.
     *
     * @param subject its owner
     * @param format the format it was written in
     */
    public record Entry(String subject, String format) {
        public Entry {
            requireNonNull(subject, "subject");
            requireNonNull(format, "format");
        }
    }

    private final StoredFormat format;
    private final ConcurrentMap<String, Entry> entries;

    /**
     * A store that writes and reads as {@code format} says, over {@code entries} (by session id),
     * which others may write too: a test stands for another release that way, as two releases share
     * one Redis in StoredFormatIT.
     */
    public MemorySessionStore(StoredFormat format, ConcurrentMap<String, Entry> entries) {
        this.format = requireNonNull(format, "format");
        this.entries = requireNonNull(entries, "entries");
    }

    /** A store of this release's format ({@link StoredFormat#ofThisRelease()}) with no records yet. */
    public static MemorySessionStore ofThisRelease() {
        return new MemorySessionStore(StoredFormat.ofThisRelease(), new ConcurrentHashMap<>());
    }

    /** The record of session {@code id}, if the store has one. */
    public Optional<Entry> entry(String id) {
        return Optional.ofNullable(entries.get(id));
    }

    /** Records a new session in the format this node writes; in memory there is no per-user count across nodes. */
    @Override
    public CompletionStage<Creation> create(String id, String subject, long tokenExpiresAt, EventExecutor executor) {
        held(id, subject);
        return CompletableFuture.completedFuture(new Creation.Created(Journal.NONE));
    }

    @Override
    public void held(String id, String subject) {
        entries.putIfAbsent(id, new Entry(subject, format.writes()));
    }

    /** Nothing lives beyond this node: a session the registry does not have is not found. */
    @Override
    public CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor) {
        return CompletableFuture.completedFuture(new Adoption.NotFound());
    }

    @Override
    public CompletionStage<Void> abandon(String id, String subject) {
        forget(id);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public Optional<String> unreadableFormat(String id) {
        Entry entry = entries.get(id);
        return entry == null || format.readable(entry.format()) ? Optional.empty() : Optional.of(entry.format());
    }

    @Override
    public void forget(String id) {
        entries.remove(id);
    }
}
