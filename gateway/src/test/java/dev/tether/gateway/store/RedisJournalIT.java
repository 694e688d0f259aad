package dev.tether.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.gateway.session.Journal;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.Poll;
import io.netty.channel.DefaultEventLoop;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's {@link RedisJournal} against a real {@code redis-server}: frames reported stored in
 * order; a store that stops answering (the server frozen with SIGSTOP) reported within
 * {@code unavailable_after}, the frames waiting meanwhile bounded like the replay buffer, and what
 * is kept written once the store answers again; the seq reservation of {@code write_mode: batched}.
 */
class RedisJournalIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Fence FENCE = new Fence("a", 1);

    @TempDir
    Path tmp;

    private RedisServer redis;
    private RedisSessionStore store;
    private final DefaultEventLoop loop = new DefaultEventLoop();
    /** What the journal told its session, in order. */
    private final List<String> told = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() {
        redis = RedisServer.start(tmp);
        store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(1));
        get(store.create("s1", "alice", "a", 1_000, 2_000));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        store.close();
        redis.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
    }

    private RedisJournal journal(boolean batched) {
        return journal("s1", batched);
    }

    /** Session {@code id}'s journal, started, telling {@link #told}. */
    private RedisJournal journal(String id, boolean batched) {
        RedisJournal.Limits limits = new RedisJournal.Limits(
                5, 1 << 20, 10, Duration.ofMinutes(1), Duration.ofMinutes(1), batched, Duration.ofMillis(200));
        RedisJournal journal = new RedisJournal(
                store,
                id,
                "alice",
                FENCE,
                loop,
                new WireCodec(),
                limits,
                new RedisJournal.Directory() {
                    @Override
                    public void started(RedisJournal started) {}

                    @Override
                    public void finished(RedisJournal finished) {}
                },
                0,
                0);
        onLoop(() -> journal.start(event -> {
            if (event instanceof Journal.Event.Stored stored) {
                told.add("stored " + stored.firstSeq() + ".."
                        + (stored.firstSeq() + stored.frames().size() - 1));
            } else if (event instanceof Journal.Event.Reserved reserved) {
                told.add("reserved " + reserved.upTo());
            } else if (event instanceof Journal.Event.Unavailable) {
                told.add("unavailable");
            } else if (event instanceof Journal.Event.Available) {
                told.add("available");
            } else if (event instanceof Journal.Event.Lost lost) {
                told.add(lost.replaced() ? "lost: replaced" : "lost: forgotten");
            }
        }));
        return journal;
    }

    @Test
    void framesWaitingWhileTheStoreDoesNotAnswerAreBoundedLikeTheReplayBufferAndWrittenOnceItIsBack() {
        RedisJournal journal = journal(false);
        assertTrue(journal.holds(1), "before_send: every frame waits until stored");
        onLoop(() -> appendFrames(journal, 1, 3));
        Poll.until("frames 1..3 stored", WAIT, () -> storedUpTo() == 3);
        redis.freeze();
        try {
            onLoop(() -> appendFrames(journal, 4, 20));
            Poll.until("the store reported unavailable", WAIT, () -> told.contains("unavailable"));
            assertFalse(told.contains("available"));
        } finally {
            redis.unfreeze();
        }
        Poll.until("the store reported available again", WAIT, () -> told.contains("available"));
        Poll.until("frame 20 stored", WAIT, () -> storedUpTo() == 20);
        StoredSession stored = get(store.read("s1")).orElseThrow();
        assertEquals(20, stored.newestSeq());
        assertEquals(
                List.of(16L, 17L, 18L, 19L, 20L),
                get(store.logAfter("s1", 0)).stream()
                        .map(ReplayBuffer.Entry::seq)
                        .toList(),
                "the 5 newest frames are kept (the replay bound), the log starting again at 16");
        assertTrue(told.stream().noneMatch(line -> line.startsWith("lost")), "the session goes on: " + told);
    }

    @Test
    void batchedFramesAreShownWithinAReservationKeptAheadOfTheNewestSeq() {
        RedisJournal journal = journal(true);
        assertTrue(journal.holds(1), "nothing reserved yet");
        onLoop(() -> appendFrames(journal, 1, 1));
        Poll.until("seqs reserved", WAIT, () -> told.contains("reserved " + (1 + RedisJournal.RESERVE_AHEAD)));
        assertFalse(journal.holds(1 + RedisJournal.RESERVE_AHEAD), "shown at once within the reservation");
        assertTrue(journal.holds(2 + RedisJournal.RESERVE_AHEAD), "beyond it, held");
        long half = 2 + RedisJournal.RESERVE_AHEAD / 2;
        onLoop(() -> appendFrames(journal, 2, half));
        Poll.until(
                "the reservation moved on once half of it was used",
                WAIT,
                () -> told.contains("reserved " + (half + RedisJournal.RESERVE_AHEAD)));
        Poll.until("every frame stored", WAIT, () -> storedUpTo() == half);
        assertEquals(
                half + RedisJournal.RESERVE_AHEAD,
                get(store.read("s1")).orElseThrow().reservedSeq(),
                "a node that dies now leaves its successor starting above every seq it may have sent");
    }

    @Test
    void aSessionAnotherNodeClaimedIsReplacedAndOneTheStoreForgotIsNot() {
        RedisJournal journal = journal(false);
        onLoop(() -> appendFrames(journal, 1, 1));
        Poll.until("frame 1 stored", WAIT, () -> storedUpTo() == 1);
        try (RedisSessionStore other = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(1))) {
            get(other.claim("s1", "b", "a", 1));
        }
        onLoop(() -> appendFrames(journal, 2, 2));
        Poll.until("the journal gave the session up", WAIT, () -> told.contains("lost: replaced"));

        told.clear();
        get(store.create("s2", "alice", "a", 1_000, 2_000));
        RedisJournal forgotten = journal("s2", false);
        redis.restartEmpty();
        onLoop(() -> appendFrames(forgotten, 1, 1));
        Poll.until("the journal gave the session up", WAIT, () -> told.contains("lost: forgotten"));
    }

    private long storedUpTo() {
        long newest = 0;
        for (String line : told) {
            if (line.startsWith("stored ")) {
                newest = Math.max(newest, Long.parseLong(line.substring(line.indexOf("..") + 2)));
            }
        }
        return newest;
    }

    private static void appendFrames(RedisJournal journal, long from, long to) {
        for (long seq = from; seq <= to; seq++) {
            journal.append(seq, ("frame " + seq).getBytes(StandardCharsets.UTF_8));
        }
    }

    private void onLoop(Runnable task) {
        try {
            loop.submit(task).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static <T> T get(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
