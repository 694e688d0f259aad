package dev.tether.gateway.testing;

import dev.tether.testkit.Poll;
import dev.tether.testkit.RedisServerCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Sentinel set-up: one primary, one replica of it, and one sentinel (quorum 1) watching them
 * as {@code mymaster}, each a {@code redis-server} on a free port of 127.0.0.1 (the sentinel is
 * {@code redis-server --sentinel}), nothing persisted. {@link #start} returns once the replica is in
 * sync and the sentinel knows it; {@link #close()} stops every process and waits for each to be gone.
 */
public final class RedisSentinelGroup implements AutoCloseable {

    public static final String MASTER = "mymaster";

    private RedisProcess primary;
    private RedisProcess replica;
    private RedisProcess sentinel;

    private RedisSentinelGroup() {}

    /** Starts the three processes, their files under {@code dir} (a test's temporary directory). */
    public static RedisSentinelGroup start(Path dir) {
        RedisSentinelGroup group = new RedisSentinelGroup();
        try {
            group.primary = server(dir, "primary", List.of());
            group.replica =
                    server(dir, "replica", List.of("--replicaof", "127.0.0.1", Integer.toString(group.primary.port)));
            Poll.until(
                    "the replica in sync",
                    RedisProcess.WAIT,
                    () -> group.replica.cli("INFO", "replication").contains("master_link_status:up"));
            int port = RedisProcess.freePort(false);
            Path conf = dir.resolve("sentinel.conf");
            Files.writeString(conf, """
                    port %d
                    bind 127.0.0.1
                    protected-mode no
                    daemonize no
                    dir %s
                    sentinel monitor %s 127.0.0.1 %d 1
                    sentinel down-after-milliseconds %s 1000
                    sentinel failover-timeout %s 10000
                    """.formatted(port, dir, MASTER, group.primary.port, MASTER, MASTER));
            group.sentinel = RedisProcess.start(
                    dir.resolve("sentinel.log"),
                    port,
                    List.of(RedisServer.BINARY.toString(), conf.toString(), "--sentinel"));
            Poll.until("the sentinel knows the replica", RedisProcess.WAIT, () -> {
                String replicas = group.sentinel.cli("SENTINEL", "REPLICAS", MASTER);
                return replicas.contains(Integer.toString(group.replica.port))
                        && !replicas.contains("s_down")
                        && !replicas.contains("disconnected");
            });
            return group;
        } catch (IOException e) {
            group.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | AssertionError e) {
            group.close();
            throw e;
        }
    }

    private static RedisProcess server(Path dir, String name, List<String> extra) {
        int port = RedisProcess.freePort(false);
        List<String> more = new ArrayList<>(List.of("--dir", dir.toString()));
        more.addAll(extra);
        return RedisProcess.start(
                dir.resolve(name + ".log"), port, RedisServerCommand.of(RedisServer.BINARY, port, more));
    }

    /** The URI the store connects to: through the sentinel, to whichever server is the primary. */
    public String uri() {
        return "redis-sentinel://127.0.0.1:" + sentinel.port + "/0#" + MASTER;
    }

    /** The port of the server the sentinel names as primary now. */
    public int primaryPort() {
        String[] address = sentinel.cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER)
                .strip()
                .split("\\s+", -1);
        return Integer.parseInt(address[address.length - 1]);
    }

    public int replicaPort() {
        return replica.port;
    }

    /**
     * Has the sentinel promote the replica ({@code SENTINEL FAILOVER}), after the primary's writes
     * reached it; returns once the sentinel names the replica as primary and the old primary
     * replicates from it.
     */
    public void failover() {
        String waited = primary.cli("WAIT", "1", "5000").strip();
        if (!"1".equals(waited)) {
            throw new AssertionError("the replica did not acknowledge the primary's writes: " + waited);
        }
        String answer = sentinel.cli("SENTINEL", "FAILOVER", MASTER).strip();
        if (!"OK".equals(answer)) {
            throw new AssertionError("SENTINEL FAILOVER answered " + answer);
        }
        Poll.until(
                "the replica promoted and the old primary following it",
                RedisProcess.WAIT,
                () -> primaryPort() == replica.port
                        && replica.cli("ROLE").startsWith("master")
                        && primary.cli("INFO", "replication").contains("master_link_status:up"));
    }

    @Override
    public void close() {
        for (RedisProcess process : new RedisProcess[] {sentinel, replica, primary}) {
            if (process != null) {
                process.close();
            }
        }
    }
}
