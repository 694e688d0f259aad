package dev.tether.gateway.store;

/**
 * The store refused a write because the writer no longer owns the session: another node claimed
 * it (a higher epoch), it was released, or it ended. The writer must stop serving the session.
 */
public final class StaleClaimException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final boolean forgotten;

    StaleClaimException(String sessionId, Fence fence, String stored, boolean forgotten) {
        super("session " + sessionId + ": the claim of " + fence.node() + " at epoch " + fence.epoch()
                + " is stale (the store has " + stored + ")");
        this.forgotten = forgotten;
    }

    /** Whether the store has no such session at all (Redis lost its data), rather than another owner. */
    public boolean forgotten() {
        return forgotten;
    }
}
