package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import io.netty.util.concurrent.EventExecutor;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where sessions live beyond this node ({@code sessions.store}): nowhere with {@code memory}
 * ({@link #MEMORY}), or a store shared by several nodes ({@code redis}), which registers new
 * sessions, counts them per user across nodes, gives each a {@link Journal}, and takes over
 * sessions that another node had (contract 7.1).
 *
 * <p><b>Threading:</b> thread-safe; methods return at once, and their stages complete on the
 * store's threads (callers hand the outcome to their loop).
 */
public interface SessionStore {

    /** What became of a new session. */
    sealed interface Creation {
        /** Registered and counted; its history is written through {@code journal}. */
        record Created(Journal journal) implements Creation {
            public Created {
                requireNonNull(journal, "journal");
            }
        }

        /** The user already has {@code sessions.max_sessions_per_user} sessions on the nodes together. */
        record UserLimit() implements Creation {}
    }

    /** What a resume of a session this node does not have found in the store. */
    sealed interface Adoption {
        /**
         * The session is this node's now: it continues from {@code restored}, writing through
         * {@code journal}, on {@code executor} (the loop the journal was made for: resumes racing
         * on one node share one take-over, and the session runs where its journal does).
         */
        record Adopted(Journal journal, Restored restored, EventExecutor executor) implements Adoption {
            public Adopted {
                requireNonNull(journal, "journal");
                requireNonNull(restored, "restored");
                requireNonNull(executor, "executor");
            }
        }

        /** No such session of this user. */
        record NotFound() implements Adoption {}

        /** It ended, for {@code reason} (the wire reason). */
        record Ended(String reason) implements Adoption {}

        /** It was stored in a format this node cannot read (contract 8.8); left as it is. */
        record Incompatible(String format) implements Adoption {}
    }

    /**
     * Where a session is, as the store says (for a viewer that did not find it on this node).
     *
     * @param subject its owner
     * @param node the node that holds it; empty while none does
     * @param endReason why it ended (the wire reason), or null while it runs
     */
    record Location(String subject, String node, String endReason) {
        public Location {
            requireNonNull(subject, "subject");
            requireNonNull(node, "node");
        }
    }

    /**
     * A store that keeps nothing and records no format, for tests of other concerns; the gateway
     * runs {@code sessions.store: memory} on {@code store.MemorySessionStore}, which records each
     * session's format (contract 1.2, 8.8).
     */
    SessionStore MEMORY = new SessionStore() {
        @Override
        public CompletionStage<Creation> create(
                String id, String subject, long tokenExpiresAt, EventExecutor executor) {
            return CompletableFuture.completedFuture(new Creation.Created(Journal.NONE));
        }

        @Override
        public CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor) {
            return CompletableFuture.completedFuture(new Adoption.NotFound());
        }
    };

    /**
     * Forgets a session {@link #create created} whose client went away before it started: removed
     * from the store and from its user's count, with no tombstone.
     */
    default CompletionStage<Void> abandon(String id, String subject) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Where session {@code id} is, read only: never claimed, never asked to move (a viewer must not
     * take a session over, contract 7.4). Empty when the store does not know it (always, in memory).
     * Fails when the store cannot be reached.
     */
    default CompletionStage<Optional<Location>> locate(String id) {
        return CompletableFuture.completedFuture(Optional.empty());
    }

    /**
     * Records that this node now holds session {@code id} of {@code subject} (created here or taken
     * over), for a store that keeps a record of what this node holds; a shared store has one already.
     */
    default void held(String id, String subject) {}

    /**
     * The format session {@code id}, held on this node, is recorded in, when this node cannot read
     * it (contract 1.2, 8.8): its resume is then refused with {@code session_incompatible} and the
     * record left as it is. Empty when it can, or when the store keeps no record of it (the shared
     * store checks the format when a node claims a session, so the sessions a node holds are in its
     * format).
     */
    default Optional<String> unreadableFormat(String id) {
        return Optional.empty();
    }

    /** Drops the record of session {@code id}, which ended or left this node (the shared store keeps its own). */
    default void forget(String id) {}

    /**
     * What a fork of session {@code id} of {@code subject} starts from (contract 1.2, 8.2), read only:
     * the session is never claimed, moved or changed. Another user's session is {@link
     * ForkSource.NotFound}, like an unknown one (always, in memory: this node's own sessions are
     * found before the store is asked). Fails when the store cannot be reached.
     */
    default CompletionStage<ForkSource> forkSource(String id, String subject) {
        return CompletableFuture.completedFuture(new ForkSource.NotFound());
    }

    /** Whether sessions are kept in a store other nodes share; not by default (in memory, they live and die here). */
    default boolean shared() {
        return false;
    }

    /**
     * Registers new session {@code id} of {@code subject} and counts it against the user's
     * {@code sessions.max_sessions_per_user} on every node; its journal runs on {@code executor}.
     * Fails when the store cannot be reached.
     */
    CompletionStage<Creation> create(String id, String subject, long tokenExpiresAt, EventExecutor executor);

    /**
     * Takes session {@code id} of {@code subject} over from the node that has it, once that node has
     * handed it over (or its lease ran out); the client has seen seqs up to {@code lastSeq}. The
     * journal runs on {@code executor}. Fails when the store cannot be reached.
     */
    CompletionStage<Adoption> adopt(String id, String subject, long lastSeq, EventExecutor executor);
}
