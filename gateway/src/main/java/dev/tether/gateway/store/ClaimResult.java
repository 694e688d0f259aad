package dev.tether.gateway.store;

/** What {@link RedisSessionStore#claim} found. */
public sealed interface ClaimResult {

    /** The session is now the claimer's, at {@code fence}. */
    record Claimed(Fence fence) implements ClaimResult {}

    /** No such session in the store (never created, its tombstone expired, or the store lost it). */
    record NotFound() implements ClaimResult {}

    /** The session was stored in a format this node cannot read; it is left as it is (contract 8.8). */
    record Incompatible(String format) implements ClaimResult {}

    /** The session has ended, for {@code reason}; its tombstone is still there. */
    record Ended(String reason) implements ClaimResult {}

    /** Someone else moved the session first: it is now on {@code node} (empty: released) at {@code epoch}. */
    record Lost(String node, long epoch) implements ClaimResult {}
}
