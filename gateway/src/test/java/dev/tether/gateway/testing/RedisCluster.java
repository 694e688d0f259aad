package dev.tether.gateway.testing;

import dev.tether.testkit.Poll;
import dev.tether.testkit.RedisServerCommand;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster of three primaries (no replicas), each a {@code redis-server} with
 * {@code --cluster-enabled yes} on a free port of 127.0.0.1, nothing persisted, formed with
 * {@code redis-cli --cluster create}. {@link #start} returns once every node says
 * {@code cluster_state:ok} and knows the other two; {@link #close()} stops every node and waits for
 * each to be gone. Fails, never skips, when the binaries are missing.
 */
public final class RedisCluster implements AutoCloseable {

    private static final int PRIMARIES = 3;

    private final List<RedisProcess> nodes = new ArrayList<>();

    private RedisCluster() {}

    /** Starts and forms the cluster, the nodes' files under {@code dir} (a test's temporary directory). */
    public static RedisCluster start(Path dir) {
        RedisCluster cluster = new RedisCluster();
        try {
            for (int i = 1; i <= PRIMARIES; i++) {
                int port = RedisProcess.freePort(true);
                cluster.nodes.add(RedisProcess.start(
                        dir.resolve("cluster-" + i + ".log"),
                        port,
                        RedisServerCommand.of(
                                RedisServer.BINARY,
                                port,
                                List.of(
                                        "--cluster-enabled",
                                        "yes",
                                        "--cluster-config-file",
                                        dir.resolve("nodes-" + i + ".conf").toString(),
                                        "--cluster-node-timeout",
                                        "5000",
                                        "--dir",
                                        dir.toString()))));
            }
            List<String> create = new ArrayList<>(List.of("--cluster", "create"));
            cluster.nodes.forEach(node -> create.add("127.0.0.1:" + node.port));
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            String created = cluster.nodes.get(0).cli(create.toArray(String[]::new));
            if (!created.contains("All 16384 slots covered")) {
                throw new AssertionError("redis-cli --cluster create failed: " + created);
            }
            Poll.until(
                    "cluster_state:ok on every node",
                    RedisProcess.WAIT,
                    () -> cluster.nodes.stream().allMatch(node -> {
                        String info = node.cli("CLUSTER", "INFO");
                        return info.contains("cluster_state:ok")
                                && info.contains("cluster_known_nodes:" + PRIMARIES)
                                && info.contains("cluster_slots_ok:16384");
                    }));
            return cluster;
        } catch (RuntimeException | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /** The URI the store connects to: every node as a seed. */
    public String uri() {
        return "redis-cluster://"
                + nodes.stream().map(node -> "127.0.0.1:" + node.port).collect(Collectors.joining(","));
    }

    /** The URI naming only the first node: the client learns the others from it. */
    public String oneSeedUri() {
        return "redis-cluster://127.0.0.1:" + nodes.get(0).port;
    }

    /** The ports of the nodes. */
    public List<Integer> ports() {
        return nodes.stream().map(node -> node.port).toList();
    }

    /** Runs {@code redis-cli -p <port of node i> args...}; its output. */
    public String cli(int node, String... args) {
        return nodes.get(node).cli(args);
    }

    @Override
    public void close() {
        AssertionError failure = null;
        for (RedisProcess node : nodes) {
            try {
                node.close();
            } catch (AssertionError e) {
                failure = e;
            }
        }
        nodes.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
