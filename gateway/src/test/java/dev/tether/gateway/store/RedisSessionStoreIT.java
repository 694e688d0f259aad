package dev.tether.gateway.store;

import static dev.tether.gateway.store.StoreCalls.WAIT;
import static dev.tether.gateway.store.StoreCalls.assertEveryWriteIsStale;
import static dev.tether.gateway.store.StoreCalls.frames;
import static dev.tether.gateway.store.StoreCalls.get;
import static dev.tether.gateway.store.StoreCalls.texts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.testkit.Poll;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RedisSessionStore} against a real {@code redis-server} on a free port: a session's life in
 * the store, fencing of a node whose claim was taken, one winner among simultaneous claims from
 * three nodes, the log's bounds, tombstones, formats it cannot read, per-user counts across nodes,
 * node leases, and a Redis restarted empty.
 */
class RedisSessionStoreIT {

    @TempDir
    Path tmp;

    private RedisServer redis;
    /** Three nodes' connections to one store. */
    private final List<RedisSessionStore> nodes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        redis = RedisServer.start(tmp);
        for (int i = 0; i < 3; i++) {
            nodes.add(RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5)));
        }
    }

    @AfterEach
    void tearDown() {
        nodes.forEach(RedisSessionStore::close);
        redis.close();
    }

    private RedisSessionStore a() {
        return nodes.get(0);
    }

    private RedisSessionStore b() {
        return nodes.get(1);
    }

    @Test
    void aSessionsLifeInTheStore() {
        assertTrue(get(a().create("s1", "alice", "a", 1_000, 2_000)));
        assertFalse(get(b().create("s1", "bob", "b", 1_000, 2_000)), "an id is created once");
        Fence fence = new Fence("a", 1);
        StoredSession stored = get(a().read("s1")).orElseThrow();
        assertEquals(RedisSessionStore.FORMAT, stored.format());
        assertEquals("alice", stored.subject());
        assertEquals("a", stored.node());
        assertEquals(1, stored.epoch());
        assertEquals("preparing", stored.state());
        assertEquals(2_000, stored.tokenExpiresAt());

        assertEquals(3L, get(a().append("s1", fence, 100, 1 << 20, 1, frames("one", "two", "three"))));
        assertEquals(List.of("two", "three"), texts(get(b().logAfter("s1", 1))));
        assertEquals(
                List.of(2L, 3L),
                get(b().logAfter("s1", 1)).stream().map(ReplayBuffer.Entry::seq).toList());
        assertEquals(1L, get(a().ack("s1", fence, 1)));
        assertEquals(List.of("two", "three"), texts(get(b().logAfter("s1", 0))));

        get(a().state("s1", fence, "idle"));
        get(a().detached("s1", fence, 9_000));
        get(a().checkpoint("s1", fence, "{\"turns\":2}".getBytes(StandardCharsets.UTF_8)));
        get(a().reserve("s1", fence, 10));
        get(a().reserve("s1", fence, 5)); // only ever raised
        stored = get(b().read("s1")).orElseThrow();
        assertEquals("idle", stored.state());
        assertEquals(9_000, stored.reconnectDeadlineMillis());
        assertEquals(0, stored.tokenExpiresAt());
        assertEquals(3, stored.newestSeq());
        assertEquals(10, stored.reservedSeq());
        assertEquals("{\"turns\":2}", stored.checkpoint());

        get(a().rememberMessageIds("s1", fence, 3, frames("m1", "m2")));
        get(a().rememberMessageIds("s1", fence, 3, frames("m3", "m4")));
        assertEquals(
                List.of("m2", "m3", "m4"),
                get(b().messageIds("s1")).stream().map(StoreCalls::text).toList(),
                "the newest max ids, oldest first");

        get(a().end("s1", fence, "client_end", Duration.ofMinutes(1)));
        stored = get(b().read("s1")).orElseThrow();
        assertTrue(stored.ended());
        assertEquals("client_end", stored.endReason());
        assertNull(stored.checkpoint());
        assertEquals(List.of(), get(b().logAfter("s1", 0)));
        assertEquals(List.of(), get(b().messageIds("s1")));
        assertEquals(new ClaimResult.Ended("client_end"), get(b().claim("s1", "b", "", 1)));
    }

    @Test
    void aNodeWhoseClaimWasTakenCanNoLongerWrite() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        Fence old = new Fence("a", 1);
        get(a().append("s1", old, 100, 1 << 20, 1, frames("one")));

        ClaimResult taken = get(b().claim("s1", "b", "a", 1));
        assertEquals(new ClaimResult.Claimed(new Fence("b", 2)), taken);

        assertEveryWriteIsStale(List.of(
                a().append("s1", old, 100, 1 << 20, 2, frames("two")),
                a().ack("s1", old, 1),
                a().state("s1", old, "idle"),
                a().checkpoint("s1", old, new byte[] {'1'}),
                a().rememberMessageIds("s1", old, 10, frames("m1")),
                a().release("s1", old, 0),
                a().verify("s1", old),
                a().end("s1", old, "shutdown", Duration.ofMinutes(1))));
        StoredSession stored = get(b().read("s1")).orElseThrow();
        assertEquals("b", stored.node());
        assertEquals(1, stored.newestSeq(), "nothing of a stale write was applied");
        assertEquals("preparing", stored.state());
        assertNull(stored.checkpoint());
        assertEquals(List.of("one"), texts(get(b().logAfter("s1", 0))));
        assertEquals(List.of(), get(b().messageIds("s1")));

        // The new owner writes on from the stored newest seq.
        Fence fence = ((ClaimResult.Claimed) taken).fence();
        assertEquals(2L, get(b().append("s1", fence, 100, 1 << 20, 2, frames("two"))));
        ExecutionException gap = assertThrows(
                ExecutionException.class,
                () -> b().append("s1", fence, 100, 1 << 20, 4, frames("four"))
                        .toCompletableFuture()
                        .get());
        assertInstanceOf(IllegalStateException.class, gap.getCause());
        assertTrue(
                gap.getCause().getMessage().contains("newest seq is 2"),
                gap.getCause().getMessage());
    }

    @Test
    void ofFiftySimultaneousClaimsFromThreeNodesExactlyOneWins() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        List<CompletableFuture<ClaimResult>> claims = IntStream.range(0, 50)
                .mapToObj(i ->
                        nodes.get(i % 3).claim("s1", "node-" + (i % 3), "a", 1).toCompletableFuture())
                .toList();
        List<ClaimResult> results = claims.stream().map(StoreCalls::get).toList();
        List<ClaimResult.Claimed> won = results.stream()
                .filter(ClaimResult.Claimed.class::isInstance)
                .map(ClaimResult.Claimed.class::cast)
                .toList();
        assertEquals(1, won.size(), results::toString);
        Fence winner = won.get(0).fence();
        assertEquals(2, winner.epoch());
        for (ClaimResult result : results) {
            if (!(result instanceof ClaimResult.Claimed)) {
                assertEquals(new ClaimResult.Lost(winner.node(), 2), result);
            }
        }
        assertEquals(winner.node(), get(a().read("s1")).orElseThrow().node());
    }

    @Test
    void theLogKeepsTheReplayBuffersBoundsAndAFrameOverTheByteBoundIsNotKept() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        Fence fence = new Fence("a", 1);
        get(a().append("s1", fence, 3, 1 << 20, 1, frames("1", "2", "3", "4", "5")));
        assertEquals(List.of("3", "4", "5"), texts(get(a().logAfter("s1", 0))), "count bound");
        get(a().append("s1", fence, 3, 10, 6, frames("aaaa", "bbbb", "cccc")));
        assertEquals(List.of("bbbb", "cccc"), texts(get(a().logAfter("s1", 0))), "byte bound: 8 of 10 bytes");
        get(a().append("s1", fence, 3, 10, 9, frames("x".repeat(11))));
        assertEquals(
                List.of(), texts(get(a().logAfter("s1", 0))), "a frame over the bound evicts everything, itself too");
        assertEquals(9, get(a().read("s1")).orElseThrow().newestSeq());
        get(a().append("s1", fence, 3, 10, 10, frames("ok")));
        assertEquals(List.of("ok"), texts(get(a().logAfter("s1", 0))), "the byte count was kept right");
    }

    @Test
    void framesAfterAGapRestartTheLogAndAReleaseBringsTheReservationDownToWhatWasStored() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        Fence fence = new Fence("a", 1);
        get(a().append("s1", fence, 100, 1 << 20, 1, frames("1", "2")));
        get(a().reserve("s1", fence, 300));
        ExecutionException refused = assertThrows(
                ExecutionException.class,
                () -> a().append("s1", fence, 100, 1 << 20, 6, frames("6"))
                        .toCompletableFuture()
                        .get());
        assertTrue(
                refused.getCause().getMessage().contains("newest seq is 2"),
                "a hole is refused unless said: " + refused);
        assertEquals(7L, get(a().append("s1", fence, 100, 1 << 20, true, 6, frames("6", "7"))));
        List<ReplayBuffer.Entry> log = get(a().logAfter("s1", 0));
        assertEquals(List.of(6L, 7L), log.stream().map(ReplayBuffer.Entry::seq).toList(), "the log starts again at 6");
        assertEquals(List.of("6", "7"), texts(log));
        assertEquals(7L, get(a().append("s1", fence, 100, 1 << 20, true, 6, frames("6", "7"))), "a retry is harmless");
        assertEquals(300, get(a().read("s1")).orElseThrow().reservedSeq(), "reserved ahead");
        get(a().release("s1", fence, 0));
        assertEquals(
                7,
                get(a().read("s1")).orElseThrow().reservedSeq(),
                "released: everything sent was stored, nothing beyond it is a gap");
    }

    @Test
    void everyWriteOfTheOwnerAndEveryClaimRecordWhenTheOwnerWasLastSeen() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        assertEquals(1_000, get(a().read("s1")).orElseThrow().seenAtMillis(), "created: seen at creation");
        long before = System.currentTimeMillis() - 60_000; // the store's clock, not this one: a minute's leeway
        get(a().verify("s1", new Fence("a", 1)));
        assertTrue(
                get(a().read("s1")).orElseThrow().seenAtMillis() > before, "a fenced write (here a verify) records it");
        try (RedisClient raw = RedisClient.create(redis.uri());
                StatefulRedisConnection<String, String> c = raw.connect()) {
            c.sync().hset(StoreKeys.directory("s1"), "seen_at", "5");
        }
        assertInstanceOf(ClaimResult.Claimed.class, get(b().claim("s1", "b", "a", 1)));
        assertTrue(get(a().read("s1")).orElseThrow().seenAtMillis() > before, "a claim records it");
    }

    @Test
    void aSessionStoredInAFormatThisNodeCannotReadIsLeftAsItIs() throws Exception {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        try (RedisClient raw = RedisClient.create(redis.uri());
                StatefulRedisConnection<String, String> c = raw.connect()) {
            c.sync().hset(StoreKeys.directory("s1"), "format", "99");
            assertEquals(new ClaimResult.Incompatible("99"), get(b().claim("s1", "b", "a", 1)));
            assertEquals("a", c.sync().hget(StoreKeys.directory("s1"), "node"));
            assertEquals("1", c.sync().hget(StoreKeys.directory("s1"), "epoch"));
        }
    }

    @Test
    void everyKeyOfASessionExpiresAtTheLongestItCanLive() {
        long now = System.currentTimeMillis();
        get(a().create("s1", "alice", "a", now, 2_000, now + 700));
        Fence fence = new Fence("a", 1);
        get(a().append("s1", fence, 100, 1 << 20, 1, frames("one")));
        get(a().rememberMessageIds("s1", fence, 10, frames("m1")));
        get(a().queued("s1", fence, "{\"type\":\"message\",\"id\":\"m2\"}".getBytes(StandardCharsets.UTF_8)));
        get(a().verify("s1", fence));
        assertEquals(1, get(a().queue("s1")).size());
        Poll.until(
                "the session's keys expired",
                WAIT,
                () -> get(b().read("s1")).isEmpty()
                        && get(b().logAfter("s1", 0)).isEmpty()
                        && get(b().messageIds("s1")).isEmpty()
                        && get(b().queue("s1")).isEmpty());
    }

    @Test
    void aTombstoneExpiresAfterItsTtl() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        get(a().end("s1", new Fence("a", 1), "idle_timeout", Duration.ofMillis(300)));
        assertEquals(new ClaimResult.Ended("idle_timeout"), get(b().claim("s1", "b", "", 1)));
        Poll.until("tombstone expired", WAIT, () -> get(b().read("s1")).isEmpty());
        assertEquals(new ClaimResult.NotFound(), get(b().claim("s1", "b", "", 1)));
    }

    @Test
    void aReleasedSessionIsClaimedByWhoeverExpectsItReleased() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        get(a().release("s1", new Fence("a", 1), 0));
        assertEquals("", get(b().read("s1")).orElseThrow().node());
        assertEquals(new ClaimResult.Lost("", 1), get(b().claim("s1", "b", "a", 1)), "it is not a's any more");
        assertEquals(new ClaimResult.Claimed(new Fence("b", 2)), get(b().claim("s1", "b", "", 1)));
    }

    @Test
    void perUserCountsHoldAcrossNodesUnderSimultaneousAdmissions() {
        for (int i = 0; i < 30; i++) {
            get(nodes.get(i % 3).create("s" + i, "alice {x}", "node-" + (i % 3), i, 2_000));
        }
        List<CompletableFuture<Boolean>> admissions = IntStream.range(0, 30)
                .mapToObj(
                        i -> nodes.get(i % 3).admit("alice {x}", "s" + i, 2, i).toCompletableFuture())
                .toList();
        List<Boolean> admitted = admissions.stream().map(StoreCalls::get).toList();
        assertEquals(2, admitted.stream().filter(x -> x).count(), admitted::toString);
        assertEquals(2L, get(a().sessionsOf("alice {x}")));
        assertEquals(0L, get(a().sessionsOf("bob")), "counts are per user");

        // A refused session is discarded; an admitted one that is gone from the store stops counting.
        List<String> in = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            Fence fence = new Fence("node-" + (i % 3), 1);
            if (admitted.get(i)) {
                in.add("s" + i);
            } else {
                get(nodes.get(i % 3).discard("s" + i, fence));
            }
        }
        assertFalse(get(b().admit("alice {x}", "other", 2, 100)), "the two admitted sessions still count");
        get(a().discard(
                        in.get(0),
                        new Fence("node-" + (Integer.parseInt(in.get(0).substring(1)) % 3), 1)));
        get(a().create("late", "alice {x}", "a", 100, 2_000));
        assertTrue(get(b().admit("alice {x}", "late", 2, 100)), "a session gone from the store no longer counts");
        assertEquals(2L, get(a().sessionsOf("alice {x}")));
        get(a().forget("alice {x}", "late"));
        assertEquals(1L, get(a().sessionsOf("alice {x}")));
    }

    @Test
    void aRunningSessionKeepsCountingAndAnEndedOneStops() {
        for (String id : List.of("s1", "s2")) {
            get(a().create(id, "alice", "a", 1_000, 2_000));
            assertTrue(get(a().admit("alice", id, 2, 1_000)));
        }
        assertFalse(get(b().admit("alice", "s3", 2, 1_001)), "two running sessions on another node count");
        get(a().end("s1", new Fence("a", 1), "client_end", Duration.ofMinutes(1)));
        assertTrue(get(b().admit("alice", "s3", 2, 1_002)), "an ended session stops counting");
    }

    @Test
    void nodeLeasesRunOutWithoutRenewal() {
        get(a().renewNode("a", Duration.ofMillis(400)));
        assertTrue(get(b().nodeAlive("a")));
        assertFalse(get(b().nodeAlive("b")));
        Poll.until("a's lease ran out", WAIT, () -> !get(b().nodeAlive("a")));
        get(a().renewNode("a", Duration.ofMinutes(1)));
        get(a().dropNode("a"));
        assertFalse(get(b().nodeAlive("a")));
    }

    @Test
    void aRedisRestartedEmptyFindsNothingAndTheStoreWorksOnWhenItIsBack() {
        get(a().create("s1", "alice", "a", 1_000, 2_000));
        redis.restartEmpty();
        // Lettuce reconnects by itself; until it has, reads fail.
        Optional<StoredSession> after = Poll.present("the store reconnected", () -> {
            try {
                return Optional.of(b().read("s1").toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            } catch (Exception e) {
                return Optional.empty();
            }
        });
        assertTrue(after.isEmpty(), "nothing survives a restart without persistence");
        assertEquals(new ClaimResult.NotFound(), get(b().claim("s1", "b", "a", 1)), "scripts are loaded again");
        assertTrue(get(a().create("s1", "alice", "a", 1_000, 2_000)));
    }
}
