package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.token.TokenSource;
import java.net.URI;
import java.time.Duration;

/**
 * What every virtual user of a run shares: the endpoint, where tokens come from, the stats they
 * write to, how they behave on the wire, and what their audit expects.
 *
 * @param uri              {@code ws://host:port/ws} of the gateway (or the baseline server)
 * @param tokens           bearer tokens, minted or from a file
 * @param stats            where measurements go
 * @param ackEvery         send {@code ack} after this many new seqs (0 = never)
 * @param resumeOnDrop     reconnect with {@code last_seq} when a connection ends unexpectedly
 * @param connectTimeout   longest wait for an upgrade
 * @param model            how the target's worker answers a message, for the audit's predictions
 * @param allowGaps        events announced lost by {@code replay_gap} are expected (a replay buffer shrunk on purpose)
 * @param chaos            what the users do beyond sending (resends, acks held back for rewinds)
 * @param nodes            with several gateway nodes sharing their sessions, where each connection goes (then
 *                         {@code uri} is only the first node's); null for one target
 */
public record ClientSettings(
        URI uri,
        TokenSource tokens,
        RunStats stats,
        int ackEvery,
        boolean resumeOnDrop,
        Duration connectTimeout,
        TurnModel model,
        boolean allowGaps,
        UserChaos chaos,
        NodeRoute nodes) {
    public ClientSettings {
        requireNonNull(uri, "uri");
        requireNonNull(tokens, "tokens");
        requireNonNull(stats, "stats");
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(model, "model");
        requireNonNull(chaos, "chaos");
    }

    /**
     * Settings for one target (no {@link NodeRoute}) without resume on drop, without chaos and
     * without gaps expected.
     */
    public static ClientSettings plain(
            URI uri, TokenSource tokens, RunStats stats, int ackEvery, Duration connectTimeout, TurnModel model) {
        return new ClientSettings(
                uri, tokens, stats, ackEvery, false, connectTimeout, model, false, UserChaos.NONE, null);
    }

    /** The same settings writing to {@code other} stats. */
    public ClientSettings withStats(RunStats other) {
        return new ClientSettings(
                uri, tokens, other, ackEvery, resumeOnDrop, connectTimeout, model, allowGaps, chaos, nodes);
    }

    /**
     * Settings for warm-up sessions: the same target, tokens, acks, connect timeout and model, stats
     * of their own, and nothing more (no resume on drop, no chaos, one target).
     */
    public ClientSettings forWarmUp() {
        return plain(uri, tokens, new RunStats(), ackEvery, connectTimeout, model);
    }

    /**
     * The upgrade URL of one connection: to {@code base} (the run's endpoint or one node's) through
     * {@code authority}, for a new session ({@code session} null) or a resume of {@code session}
     * after {@code lastSeq}, routed to {@code node} when it is not null. The query parameters of
     * {@link #uri} (such as {@code batch=<ms>}, contract 8.4) go on every connection, to any node.
     */
    public URI upgradeUri(URI base, String authority, String session, long lastSeq, String node) {
        StringBuilder query = new StringBuilder();
        if (uri.getRawQuery() != null) {
            query.append(uri.getRawQuery());
        }
        if (session != null) {
            query.append(query.isEmpty() ? "" : "&").append("session=").append(session);
            query.append("&last_seq=").append(lastSeq);
            if (node != null) {
                query.append("&node=").append(node);
            }
        }
        return URI.create(
                base.getScheme() + "://" + authority + base.getRawPath() + (query.isEmpty() ? "" : "?" + query));
    }

    /** The same settings connecting through {@code route}. */
    public ClientSettings withNodes(NodeRoute route) {
        return new ClientSettings(
                uri, tokens, stats, ackEvery, resumeOnDrop, connectTimeout, model, allowGaps, chaos, route);
    }
}
