package dev.tether.gateway.store;

/**
 * The store refused a write because the writer no longer owns the session: another node claimed
 * it (a higher epoch), it was released, or it ended. The writer must stop serving the session.
 */
public final class StaleClaimException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    StaleClaimException(String sessionId, Fence fence, String stored) {
        super("session " + sessionId + ": the claim of " + fence.node() + " at epoch " + fence.epoch()
                + " is stale (the store has " + stored + ")");
    }
}
