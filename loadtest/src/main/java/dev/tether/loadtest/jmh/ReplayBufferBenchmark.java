package dev.tether.loadtest.jmh;

import dev.tether.gateway.replay.ReplayBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The gateway's per-session replay buffer ({@link ReplayBuffer}): appending a frame at steady state
 * (where every append also evicts, by count or by bytes), appending and trimming on each ack, and
 * building a resume's replay. Frames of about 100 bytes and about 4 KiB. Average time per operation.
 *
 * <p>State is per thread, as the buffer is confined to one session's event loop in the gateway.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ReplayBufferBenchmark {

    /** Kept frames at steady state, and the frames a full resume replays. */
    static final int KEPT = 1_000;

    @Param({"small", "4k"})
    public String payload;

    private byte[] bytes;
    /** Full at {@link #KEPT} frames: each append evicts the oldest by count. */
    private ReplayBuffer byCount;
    /** Bounded by bytes to {@link #KEPT} frames' worth: each append evicts the oldest by bytes. */
    private ReplayBuffer byBytes;
    /** Every frame acknowledged as soon as it is appended: append then trim. */
    private ReplayBuffer acked;
    /** Holds {@link #KEPT} frames, for replays. */
    private ReplayBuffer full;

    @Setup
    public void setUp() {
        bytes = ("{\"type\":\"event\",\"seq\":123456,\"event\":{\"type\":\"result\",\"text\":\"" + Payloads.of(payload)
                        + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        byCount = new ReplayBuffer(KEPT, Long.MAX_VALUE);
        byBytes = new ReplayBuffer(Integer.MAX_VALUE, (long) KEPT * bytes.length);
        acked = new ReplayBuffer(KEPT, Long.MAX_VALUE);
        full = new ReplayBuffer(KEPT, Long.MAX_VALUE);
        for (int i = 0; i < KEPT; i++) {
            byCount.append(byCount.newestSeq() + 1, bytes);
            byBytes.append(byBytes.newestSeq() + 1, bytes);
            full.append(full.newestSeq() + 1, bytes);
        }
    }

    /** One append into a full buffer, which evicts the oldest frame by count. */
    @Benchmark
    public long appendEvictByCount() {
        byCount.append(byCount.newestSeq() + 1, bytes);
        return byCount.size();
    }

    /** One append into a buffer at its byte bound, which evicts the oldest frame by bytes. */
    @Benchmark
    public long appendEvictByBytes() {
        byBytes.append(byBytes.newestSeq() + 1, bytes);
        return byBytes.bytes();
    }

    /** One append, then the client's ack of it trims the buffer back to empty. */
    @Benchmark
    public long appendThenAck() {
        long seq = acked.newestSeq() + 1;
        acked.append(seq, bytes);
        acked.ackUpTo(seq);
        return acked.size();
    }

    /** A resume that missed the last 10 frames. */
    @Benchmark
    public ReplayBuffer.Replay replayLast10() {
        return full.replayAfter(full.newestSeq() - 10);
    }

    /** A resume that missed all {@link #KEPT} kept frames. */
    @Benchmark
    public ReplayBuffer.Replay replayAll() {
        return full.replayAfter(full.oldestSeq() - 1);
    }
}
