package dev.tether.gateway.replay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayBufferTest {

    private static byte[] frame(long seq, int size) {
        byte[] bytes = new byte[size];
        byte[] label = Long.toString(seq).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(label, 0, bytes, 0, Math.min(label.length, size));
        return bytes;
    }

    private static List<Long> seqs(ReplayBuffer.Replay replay) {
        return replay.entries().stream().map(ReplayBuffer.Entry::seq).toList();
    }

    private static void fill(ReplayBuffer buffer, long from, long to, int size) {
        for (long seq = from; seq <= to; seq++) {
            buffer.append(seq, frame(seq, size));
        }
    }

    @Test
    void emptyBufferHasNothingToReplayAndNoGap() {
        ReplayBuffer buffer = new ReplayBuffer(10, 1000);
        assertEquals(0, buffer.newestSeq());
        assertEquals(1, buffer.oldestSeq());
        ReplayBuffer.Replay replay = buffer.replayAfter(0);
        assertFalse(replay.hasGap());
        assertTrue(replay.entries().isEmpty());
    }

    @Test
    void replaysEverythingAfterLastSeqInOrder() {
        ReplayBuffer buffer = new ReplayBuffer(10, 1000);
        fill(buffer, 1, 5, 10);
        ReplayBuffer.Replay replay = buffer.replayAfter(2);
        assertFalse(replay.hasGap());
        assertEquals(List.of(3L, 4L, 5L), seqs(replay));
        assertArrayEquals(frame(3, 10), replay.entries().get(0).frame());
        assertTrue(buffer.replayAfter(5).entries().isEmpty());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs(buffer.replayAfter(0)));
    }

    @Test
    void countBoundEvictsOldestAndResumeSeesTheGap() {
        ReplayBuffer buffer = new ReplayBuffer(3, 1_000_000);
        fill(buffer, 1, 10, 10);
        assertEquals(3, buffer.size());
        assertEquals(8, buffer.oldestSeq());
        ReplayBuffer.Replay replay = buffer.replayAfter(4);
        assertTrue(replay.hasGap());
        assertEquals(5, replay.gapFrom());
        assertEquals(7, replay.gapTo());
        assertEquals(List.of(8L, 9L, 10L), seqs(replay));
    }

    @Test
    void noGapWhenLastSeqIsJustBeforeOldestKept() {
        ReplayBuffer buffer = new ReplayBuffer(3, 1_000_000);
        fill(buffer, 1, 10, 10);
        ReplayBuffer.Replay replay = buffer.replayAfter(7);
        assertFalse(replay.hasGap());
        assertEquals(List.of(8L, 9L, 10L), seqs(replay));
    }

    @Test
    void byteBoundEvictsOldestAndTracksBytes() {
        ReplayBuffer buffer = new ReplayBuffer(1000, 100);
        fill(buffer, 1, 10, 30);
        assertEquals(3, buffer.size());
        assertEquals(90, buffer.bytes());
        assertEquals(8, buffer.oldestSeq());
    }

    @Test
    void frameLargerThanTheByteBoundIsNotKeptAndBecomesAGap() {
        ReplayBuffer buffer = new ReplayBuffer(1000, 100);
        fill(buffer, 1, 2, 30);
        buffer.append(3, frame(3, 101));
        assertEquals(0, buffer.size());
        assertEquals(0, buffer.bytes());
        assertEquals(3, buffer.newestSeq());
        ReplayBuffer.Replay replay = buffer.replayAfter(1);
        assertEquals(2, replay.gapFrom());
        assertEquals(3, replay.gapTo());
        assertTrue(replay.entries().isEmpty());
        buffer.append(4, frame(4, 10));
        assertEquals(List.of(4L), seqs(buffer.replayAfter(3)));
    }

    @Test
    void ackTrimsUpToAndIncludingSeq() {
        ReplayBuffer buffer = new ReplayBuffer(100, 10_000);
        fill(buffer, 1, 10, 10);
        buffer.ackUpTo(6);
        assertEquals(4, buffer.size());
        assertEquals(40, buffer.bytes());
        assertEquals(7, buffer.oldestSeq());
        assertEquals(List.of(7L, 8L, 9L, 10L), seqs(buffer.replayAfter(6)));
        buffer.ackUpTo(3);
        assertEquals(4, buffer.size(), "an older ack changes nothing");
        buffer.ackUpTo(10);
        assertEquals(0, buffer.size());
        assertEquals(11, buffer.oldestSeq());
        assertFalse(buffer.replayAfter(10).hasGap());
    }

    @Test
    void resumeBehindAnAckSeesTheAckedRangeAsAGap() {
        ReplayBuffer buffer = new ReplayBuffer(100, 10_000);
        fill(buffer, 1, 10, 10);
        buffer.ackUpTo(6);
        ReplayBuffer.Replay replay = buffer.replayAfter(2);
        assertEquals(3, replay.gapFrom());
        assertEquals(6, replay.gapTo());
        assertEquals(List.of(7L, 8L, 9L, 10L), seqs(replay));
    }

    @Test
    void ackBeyondNewestIsRefused() {
        ReplayBuffer buffer = new ReplayBuffer(100, 10_000);
        fill(buffer, 1, 3, 10);
        assertThrows(IllegalArgumentException.class, () -> buffer.ackUpTo(4));
        assertEquals(3, buffer.size());
    }

    @Test
    void replayOutsideKnownRangeIsRefused() {
        ReplayBuffer buffer = new ReplayBuffer(100, 10_000);
        fill(buffer, 1, 3, 10);
        assertThrows(IllegalArgumentException.class, () -> buffer.replayAfter(4));
        assertThrows(IllegalArgumentException.class, () -> buffer.replayAfter(-1));
    }

    @Test
    void seqsMustBeConsecutive() {
        ReplayBuffer buffer = new ReplayBuffer(100, 10_000);
        buffer.append(1, frame(1, 10));
        assertThrows(IllegalStateException.class, () -> buffer.append(3, frame(3, 10)));
        assertThrows(IllegalStateException.class, () -> buffer.append(1, frame(1, 10)));
        assertEquals(1, buffer.newestSeq());
    }

    @Test
    void boundsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new ReplayBuffer(0, 10));
        assertThrows(IllegalArgumentException.class, () -> new ReplayBuffer(10, 0));
    }
}
