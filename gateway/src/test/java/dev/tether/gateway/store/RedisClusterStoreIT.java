package dev.tether.gateway.store;

import static dev.tether.gateway.store.StoreCalls.WAIT;
import static dev.tether.gateway.store.StoreCalls.assertEveryWriteIsStale;
import static dev.tether.gateway.store.StoreCalls.bytes;
import static dev.tether.gateway.store.StoreCalls.frames;
import static dev.tether.gateway.store.StoreCalls.get;
import static dev.tether.gateway.store.StoreCalls.texts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.testing.RedisCluster;
import dev.tether.protocol.WireCodec;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RedisSessionStore} against a real three-primary Redis Cluster ({@link RedisCluster}): a
 * session's life, fencing, one winner among simultaneous claims, per-user counts over sessions in
 * other slots than the user's key, node leases and hand-off messages between two nodes. Every
 * script touches keys of one slot only; a CROSSSLOT would fail these tests.
 */
class RedisClusterStoreIT {

    @TempDir
    static Path tmp;

    private static RedisCluster cluster;
    private final List<RedisSessionStore> nodes = new ArrayList<>();

    @BeforeAll
    static void startCluster() {
        cluster = RedisCluster.start(tmp);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void connect() {
        cluster.cli(0, "--cluster", "call", "127.0.0.1:" + cluster.ports().get(0), "FLUSHALL");
        nodes.add(RedisSessionStore.connect(cluster.uri(), Duration.ofSeconds(5)));
        nodes.add(RedisSessionStore.connect(cluster.oneSeedUri(), Duration.ofSeconds(5)));
        nodes.add(RedisSessionStore.connect(cluster.uri(), Duration.ofSeconds(5)));
    }

    @AfterEach
    void close() {
        nodes.forEach(RedisSessionStore::close);
    }

    private RedisSessionStore a() {
        return nodes.get(0);
    }

    private RedisSessionStore b() {
        return nodes.get(1);
    }

    @Test
    void seedNodesAreParsedWithTheirUserInfoAndOptions() {
        List<RedisURI> seeds = RedisEndpoint.clusterSeeds("rediss-cluster://u:p%40ss@h1:7000,h2:7001?timeout=3s");
        assertEquals(2, seeds.size());
        assertEquals("h2", seeds.get(1).getHost());
        assertEquals(7001, seeds.get(1).getPort());
        assertTrue(seeds.get(0).isSsl());
        assertEquals("u", seeds.get(0).getUsername());
        assertEquals("p@ss", new String(seeds.get(1).getPassword()));
        assertEquals(Duration.ofSeconds(3), seeds.get(0).getTimeout());
        IllegalArgumentException empty = assertThrows(
                IllegalArgumentException.class, () -> RedisEndpoint.clusterSeeds("redis-cluster://:hunter2@h1:7000,"));
        assertFalse(empty.getMessage().contains("hunter2"));
    }

    @Test
    void aClusterThatCannotBeReachedFailsTheStartWithoutShowingThePassword() {
        int closed = cluster.ports().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try {
            IllegalStateException failure = assertThrows(
                    IllegalStateException.class,
                    () -> SharedSessionStore.start(
                            "redis-cluster://:hunter2@127.0.0.1:" + closed,
                            "a",
                            SessionConfig.defaults(),
                            Duration.ofSeconds(2),
                            Duration.ofSeconds(1),
                            Duration.ofMinutes(1),
                            new WireCodec(),
                            Clock.systemUTC(),
                            timers));
            StringBuilder chain = new StringBuilder();
            for (Throwable t = failure; t != null; t = t.getCause()) {
                chain.append(t).append('\n');
            }
            assertTrue(chain.toString().contains("redis-cluster://***@127.0.0.1:" + closed), chain.toString());
            assertFalse(chain.toString().contains("hunter2"), chain.toString());
        } finally {
            timers.shutdownNow();
        }
    }

    @Test
    void sessionsSpreadOverEveryPrimaryAndEachLivesItsLifeInItsSlot() {
        List<String> ids = IntStream.range(0, 12).mapToObj(i -> "session-" + i).toList();
        Set<Integer> slots = new HashSet<>();
        for (String id : ids) {
            slots.add(SlotHash.getSlot(StoreKeys.directory(id)));
            assertEquals(SlotHash.getSlot(StoreKeys.directory(id)), SlotHash.getSlot(StoreKeys.log(id)));
            assertTrue(get(a().create(id, "alice", "a", 1_000, 2_000)));
            Fence fence = new Fence("a", 1);
            assertEquals(3L, get(a().append(id, fence, 100, 1 << 20, 1, frames("one", "two", "three"))));
            assertEquals(1L, get(a().ack(id, fence, 1)));
            get(a().state(id, fence, "idle"));
            get(a().queued(id, fence, bytes("q1")));
            get(a().rememberMessageIds(id, fence, 3, frames("m1", "m2")));
            get(a().checkpoint(id, fence, bytes("{}")));
        }
        assertTrue(slots.size() > 3, "the sessions are in several slots");
        for (int node = 0; node < 3; node++) {
            String keys = cluster.cli(node, "DBSIZE").strip();
            assertNotEquals("0", keys, "every primary holds sessions' keys");
        }
        for (String id : ids) {
            StoredSession stored = get(b().read(id)).orElseThrow();
            assertEquals("idle", stored.state());
            assertEquals(3, stored.newestSeq());
            assertEquals(List.of("two", "three"), texts(get(b().logAfter(id, 0))));
            assertEquals(
                    List.of("q1"),
                    get(b().queue(id)).stream().map(StoreCalls::text).toList());
            assertEquals(
                    List.of("m1", "m2"),
                    get(b().messageIds(id)).stream().map(StoreCalls::text).toList());

            get(a().release(id, new Fence("a", 1), 0));
            ClaimResult claimed = get(b().claim(id, "b", "", 1));
            assertEquals(new ClaimResult.Claimed(new Fence("b", 2)), claimed);
            get(b().end(id, new Fence("b", 2), "client_end", Duration.ofMinutes(1)));
            assertEquals(List.of(), get(a().logAfter(id, 0)));
            assertEquals(new ClaimResult.Ended("client_end"), get(a().claim(id, "a", "", 2)));
        }
        get(a().create("gone", "alice", "a", 1_000, 2_000));
        get(a().discard("gone", new Fence("a", 1)));
        assertTrue(get(b().read("gone")).isEmpty());
    }

    @Test
    void aNodeWhoseClaimWasTakenCanNoLongerWrite() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        Fence old = new Fence("a", 1);
        get(a().append("s1", old, 100, 1 << 20, 1, frames("one")));
        assertEquals(new ClaimResult.Claimed(new Fence("b", 2)), get(b().claim("s1", "b", "a", 1)));
        assertEveryWriteIsStale(List.of(
                a().append("s1", old, 100, 1 << 20, 2, frames("two")),
                a().ack("s1", old, 1),
                a().queued("s1", old, bytes("q")),
                a().rememberMessageIds("s1", old, 10, frames("m1")),
                a().release("s1", old, 0),
                a().end("s1", old, "shutdown", Duration.ofMinutes(1))));
        StoredSession stored = get(b().read("s1")).orElseThrow();
        assertEquals("b", stored.node());
        assertEquals(1, stored.newestSeq(), "nothing of a stale write was applied");
        assertEquals(2L, get(b().append("s1", new Fence("b", 2), 100, 1 << 20, 2, frames("two"))));
    }

    @Test
    void ofFiftySimultaneousClaimsFromThreeNodesExactlyOneWins() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        List<ClaimResult> results = IntStream.range(0, 50)
                .mapToObj(i ->
                        nodes.get(i % 3).claim("s1", "node-" + (i % 3), "a", 1).toCompletableFuture())
                .toList()
                .stream()
                .map(StoreCalls::get)
                .toList();
        List<ClaimResult> won =
                results.stream().filter(ClaimResult.Claimed.class::isInstance).toList();
        assertEquals(1, won.size(), results::toString);
    }

    @Test
    void perUserCountsHoldOverSessionsInOtherSlotsThanTheUsersKey() {
        int userSlot = SlotHash.getSlot(StoreKeys.userSessions("alice {x}"));
        List<String> ids = IntStream.range(0, 30).mapToObj(i -> "s" + i).toList();
        assertTrue(ids.stream().anyMatch(id -> SlotHash.getSlot(StoreKeys.directory(id)) != userSlot));
        for (int i = 0; i < ids.size(); i++) {
            get(nodes.get(i % 3).create(ids.get(i), "alice {x}", "node-" + (i % 3), i, 2_000));
        }
        List<CompletableFuture<Boolean>> admissions = IntStream.range(0, ids.size())
                .mapToObj(i ->
                        nodes.get(i % 3).admit("alice {x}", ids.get(i), 2, i).toCompletableFuture())
                .toList();
        List<Boolean> admitted = admissions.stream().map(StoreCalls::get).toList();
        assertEquals(2, admitted.stream().filter(x -> x).count(), admitted::toString);
        List<String> in = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            if (admitted.get(i)) {
                in.add(ids.get(i));
            } else {
                get(nodes.get(i % 3).discard(ids.get(i), new Fence("node-" + (i % 3), 1)));
            }
        }
        assertFalse(get(b().admit("alice {x}", "other", 2, 100)), "the two admitted sessions still count");
        // Admission reads the sessions' directories (other slots) one command each: an ended one stops counting.
        String first = in.get(0);
        get(a().end(
                        first,
                        new Fence("node-" + (Integer.parseInt(first.substring(1)) % 3), 1),
                        "client_end",
                        Duration.ofMinutes(1)));
        get(a().create("late", "alice {x}", "a", 100, 2_000));
        assertTrue(get(b().admit("alice {x}", "late", 2, 100)), "an ended session in another slot no longer counts");
        assertEquals(2L, get(a().sessionsOf("alice {x}")));
    }

    @Test
    void nodeLeasesAndHandOffMessagesReachTheOtherNode() throws Exception {
        get(a().renewNode("a", Duration.ofMinutes(1)));
        assertTrue(get(b().nodeAlive("a")));
        assertFalse(get(b().nodeAlive("b")));

        BlockingQueue<String> toA = new LinkedBlockingQueue<>();
        StatefulRedisPubSubConnection<String, String> channel = a().connectPubSub();
        try {
            channel.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String name, String message) {
                    toA.add(name + " " + message);
                }
            });
            channel.sync().subscribe(StoreKeys.handoffChannel("a"));
            // Every node publishes: whichever cluster node a publisher's connection is on, the message reaches a.
            for (RedisSessionStore node : nodes) {
                get(node.requestHandoff("a", "s1", "b", 3));
                assertEquals(
                        StoreKeys.handoffChannel("a") + " handoff s1 b 3",
                        toA.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
            }
            get(b().tellTaken("a", "s2", 7));
            assertEquals(StoreKeys.handoffChannel("a") + " taken 7 s2", toA.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
        } finally {
            channel.close();
        }
        get(a().dropNode("a"));
        assertFalse(get(b().nodeAlive("a")));
    }
}
