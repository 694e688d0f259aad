package dev.tether.gateway.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The store's connection to Redis, whichever way Redis is deployed: one server ({@code redis://},
 * {@code rediss://}), a primary found through Sentinel ({@code redis-sentinel://}), or a Redis
 * Cluster ({@code redis-cluster://} or {@code rediss-cluster://} with seed nodes, comma-separated).
 * The store sees one command interface, {@link RedisClusterAsyncCommands}, which both Lettuce's
 * standalone and cluster connections implement; with a cluster, Lettuce sends each command (a script
 * by its first key) to the primary of its key's slot and follows the cluster's topology.
 *
 * <p><b>Threading:</b> thread-safe. {@link #connect} blocks and is for start-up only.
 */
final class RedisEndpoint implements AutoCloseable {

    /** The schemes of a Redis Cluster: seed nodes {@code host:port[,host:port...]}, then as {@code redis://}. */
    static final String CLUSTER = "redis-cluster://";

    static final String CLUSTER_TLS = "rediss-cluster://";

    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    private final AbstractRedisClient client;
    private final StatefulConnection<String, byte[]> connection;
    private final RedisClusterAsyncCommands<String, byte[]> commands;
    private final Supplier<StatefulRedisPubSubConnection<String, String>> pubSub;

    private RedisEndpoint(
            AbstractRedisClient client,
            StatefulConnection<String, byte[]> connection,
            RedisClusterAsyncCommands<String, byte[]> commands,
            Supplier<StatefulRedisPubSubConnection<String, String>> pubSub) {
        this.client = client;
        this.connection = connection;
        this.commands = commands;
        this.pubSub = pubSub;
    }

    /** Connects to the Redis at {@code uri}. Blocks until connected; fails when it cannot. */
    static RedisEndpoint connect(String uri, Duration commandTimeout) {
        requireNonNull(uri, "uri");
        requireNonNull(commandTimeout, "commandTimeout");
        if (isCluster(uri)) {
            List<RedisURI> seeds = clusterSeeds(uri);
            seeds.forEach(seed -> seed.setTimeout(commandTimeout));
            RedisClusterClient client = RedisClusterClient.create(seeds);
            // Follow a failover or a resharding at once (a MOVED or a lost node), not only on the next periodic
            // refresh.
            client.setOptions(ClusterClientOptions.builder()
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .build())
                    .build());
            try {
                StatefulRedisClusterConnection<String, byte[]> connection = client.connect(CODEC);
                return new RedisEndpoint(client, connection, connection.async(), client::connectPubSub);
            } catch (RuntimeException e) {
                client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
                throw e;
            }
        }
        RedisURI parsed = RedisURI.create(uri);
        parsed.setTimeout(commandTimeout);
        RedisClient client = RedisClient.create(parsed);
        try {
            StatefulRedisConnection<String, byte[]> connection = client.connect(CODEC);
            return new RedisEndpoint(client, connection, connection.async(), client::connectPubSub);
        } catch (RuntimeException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            throw e;
        }
    }

    /** Whether {@code uri} names a Redis Cluster. */
    static boolean isCluster(String uri) {
        return uri.startsWith(CLUSTER) || uri.startsWith(CLUSTER_TLS);
    }

    /**
     * The seed nodes of {@code redis-cluster://[user:password@]host:port[,host:port...][/?options]}:
     * one {@code redis://} (or {@code rediss://}) URI per host, each with the user-info and options.
     * A failure never shows the URI (it may hold a password).
     */
    static List<RedisURI> clusterSeeds(String uri) {
        boolean tls = uri.startsWith(CLUSTER_TLS);
        String rest = uri.substring((tls ? CLUSTER_TLS : CLUSTER).length());
        int at = rest.lastIndexOf('@');
        String userInfo = at < 0 ? "" : rest.substring(0, at + 1);
        String hostsAndTail = rest.substring(at + 1);
        int tail = hostsAndTail.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int index = hostsAndTail.indexOf(c);
            if (index >= 0) {
                tail = Math.min(tail, index);
            }
        }
        List<RedisURI> seeds = new ArrayList<>();
        for (String host : hostsAndTail.substring(0, tail).split(",", -1)) {
            if (host.isEmpty()) {
                throw new IllegalArgumentException(
                        "a Redis Cluster URI names an empty seed node (expected: host:port[,host:port...])");
            }
            seeds.add(
                    RedisURI.create((tls ? "rediss://" : "redis://") + userInfo + host + hostsAndTail.substring(tail)));
        }
        return seeds;
    }

    /** The commands, on the one multiplexed connection. */
    RedisClusterAsyncCommands<String, byte[]> commands() {
        return commands;
    }

    /** A new connection for pub/sub, to the same Redis (with a cluster: to one of its nodes; a PUBLISH reaches every node). */
    StatefulRedisPubSubConnection<String, String> connectPubSub() {
        return pubSub.get();
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
