package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

/**
 * What a node shows the store with every write to a session it owns: its node id and the epoch of
 * its claim. The store refuses the write once another claim has raised the epoch or moved the
 * session ({@link StaleClaimException}).
 */
public record Fence(String node, long epoch) {
    public Fence {
        requireNonNull(node, "node");
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be >= 1: " + epoch);
        }
    }
}
