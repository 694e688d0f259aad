package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionHistory}: which frames reach the attached connection, when, and in what order, for
 * a journal that holds nothing (the in-memory store), one that holds every frame until stored
 * ({@code write_mode: before_send}), and one that holds frames beyond a reservation
 * ({@code batched}); a store that goes away and comes back; replay to a resume.
 */
class SessionHistoryTest {

    private static final WireCodec CODEC = new WireCodec();

    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final Connection attached =
            new Connection(channel, new VerifiedToken("alice", Instant.now().plusSeconds(3600), Map.of()));

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Test
    void withTheInMemoryStoreEveryFrameIsShownAtOnce() {
        SessionHistory history = new SessionHistory(new ReplayBuffer(10, 1 << 20), Journal.NONE, CODEC);
        emit(history, 3);
        assertEquals(List.of(1L, 2L, 3L), shownSeqs());
        assertEquals(3, history.visibleSeq());
        assertTrue(history.allShown());
    }

    @Test
    void aHeldFrameIsShownOnceStoredInOrderAndOnce() {
        RecordingJournal journal = new RecordingJournal(0);
        SessionHistory history = new SessionHistory(new ReplayBuffer(10, 1 << 20), journal, CODEC);
        emit(history, 3);
        assertEquals(List.of(), shownSeqs(), "nothing before the store has it");
        assertFalse(history.allShown());
        history.stored(1, journal.frames.subList(0, 2), attached);
        assertEquals(List.of(1L, 2L), shownSeqs());
        history.stored(1, journal.frames.subList(0, 3), attached);
        assertEquals(List.of(3L), shownSeqs(), "a frame already shown is not shown again");
        assertTrue(history.allShown());
    }

    @Test
    void framesWithinAReservationAreShownAtOnceAndHeldOnesWhenTheReservationComes() {
        RecordingJournal journal = new RecordingJournal(0);
        journal.reservedUpTo = 2;
        SessionHistory history = new SessionHistory(new ReplayBuffer(10, 1 << 20), journal, CODEC);
        emit(history, 4);
        assertEquals(List.of(1L, 2L), shownSeqs());
        journal.reservedUpTo = 10;
        history.showUpTo(10, attached);
        assertEquals(List.of(3L, 4L), shownSeqs(), "up to the newest, not up to the reservation");
        emit(history, 1);
        assertEquals(List.of(5L), shownSeqs());
    }

    @Test
    void heldFramesTheReplayBufferEvictedMeanwhileAreAReplayGap() {
        RecordingJournal journal = new RecordingJournal(0);
        SessionHistory history = new SessionHistory(new ReplayBuffer(2, 1 << 20), journal, CODEC);
        emit(history, 5);
        history.showUpTo(5, attached);
        List<Object> out = outbound();
        assertEquals(new ServerMessage.ReplayGap(1, 3), out.get(0));
        assertEquals(List.of(4L, 5L), seqsOf(out.subList(1, out.size())));
    }

    @Test
    void whileTheStoreIsAwayFramesAreShownAtOnceAndAfterItCameBackTheyWaitAgain() {
        RecordingJournal journal = new RecordingJournal(0);
        SessionHistory history = new SessionHistory(new ReplayBuffer(10, 1 << 20), journal, CODEC);
        emit(history, 2);
        assertTrue(history.storeWentAway(attached));
        assertFalse(history.storeWentAway(attached), "once");
        assertTrue(history.storeAway());
        assertEquals(List.of(1L, 2L), shownSeqs(), "the held frames at once");
        emit(history, 1);
        assertEquals(List.of(3L), shownSeqs());
        assertTrue(history.storeCameBack());
        assertFalse(history.storeCameBack(), "once");
        emit(history, 1);
        assertEquals(List.of(), shownSeqs(), "held again");
        history.stored(1, journal.frames, attached);
        assertEquals(List.of(4L), shownSeqs());
    }

    @Test
    void aResumeIsReplayedWhatItMissedButNotWhatIsStillHeld() {
        RecordingJournal journal = new RecordingJournal(0);
        SessionHistory history = new SessionHistory(new ReplayBuffer(10, 1 << 20), journal, CODEC);
        emit(history, 4);
        history.stored(1, journal.frames.subList(0, 3), attached);
        outbound();
        EmbeddedChannel other = new EmbeddedChannel();
        try {
            Connection resumed = new Connection(
                    other, new VerifiedToken("alice", Instant.now().plusSeconds(3600), Map.of()));
            history.replayTo(resumed, 1);
            List<Object> replayed = new ArrayList<>();
            for (Object o; (o = other.readOutbound()) != null; ) {
                replayed.add(o);
            }
            assertEquals(List.of(2L, 3L), seqsOf(replayed), "seq 4 waits for the store");
        } finally {
            other.finishAndReleaseAll();
        }
    }

    @Test
    void anAckDropsTheFramesHereAndInTheStore() {
        RecordingJournal journal = new RecordingJournal(0);
        SessionHistory history = new SessionHistory(new ReplayBuffer(10, 1 << 20), journal, CODEC);
        emit(history, 3);
        history.stored(1, journal.frames, attached);
        history.ack(2);
        assertEquals(1, history.size());
        assertEquals(List.of(2L), journal.acks);
    }

    private void emit(SessionHistory history, int count) {
        for (int i = 0; i < count; i++) {
            history.emit(seq -> new ServerMessage.Status(seq, SessionState.IDLE, null), attached);
        }
    }

    private List<Long> shownSeqs() {
        return seqsOf(outbound());
    }

    private List<Object> outbound() {
        List<Object> out = new ArrayList<>();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            out.add(o);
        }
        return out;
    }

    private static List<Long> seqsOf(List<Object> frames) {
        List<Long> seqs = new ArrayList<>();
        for (Object o : frames) {
            String json = new String(((EncodedFrame) o).json(), StandardCharsets.UTF_8);
            try {
                seqs.add(CODEC.mapper().readTree(json).path("seq").asLong());
            } catch (IOException e) {
                throw new AssertionError(json, e);
            }
        }
        return seqs;
    }
}
