package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.token.TokenSource;
import java.net.URI;
import java.time.Duration;

/**
 * What every virtual user of a run shares: the endpoint, where tokens come from, the stats they
 * write to, and how they behave on the wire.
 *
 * @param uri              {@code ws://host:port/ws} of the gateway (or the baseline server)
 * @param tokens           bearer tokens, minted or from a file
 * @param stats            where measurements go
 * @param ackEvery         send {@code ack} after this many new seqs (0 = never)
 * @param resumeOnDrop     reconnect with {@code last_seq} when a connection ends unexpectedly
 * @param connectTimeout   longest wait for an upgrade
 */
public record ClientSettings(URI uri, TokenSource tokens, RunStats stats, int ackEvery, boolean resumeOnDrop,
                             Duration connectTimeout) {
    public ClientSettings {
        requireNonNull(uri, "uri");
        requireNonNull(tokens, "tokens");
        requireNonNull(stats, "stats");
        requireNonNull(connectTimeout, "connectTimeout");
    }
}
