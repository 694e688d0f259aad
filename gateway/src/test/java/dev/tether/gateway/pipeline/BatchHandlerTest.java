package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.session.EncodedFrame;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BatchHandler} behind the real {@link FrameCodec} on an {@link EmbeddedChannel} with frozen
 * time: when a batch leaves (its delay after its first frame, or the frame size), what it holds, and
 * that every other write keeps its place in the order.
 */
class BatchHandlerTest {

    private static final WireCodec CODEC = new WireCodec();
    private static final Duration DELAY = Duration.ofMillis(50);
    private static final int MAX_FRAME_BYTES = 1024;

    private EmbeddedChannel channel;

    @RegisterExtension
    final FrozenChannels channels = new FrozenChannels();

    private EmbeddedChannel channel(int maxFrameBytes) {
        return channels.open(new FrameCodec(CODEC), new BatchHandler(DELAY.toNanos(), maxFrameBytes));
    }

    private void advance(Duration by) {
        FrozenChannels.advance(channel, by);
    }

    private static ServerMessage.Event event(long seq, int padding) {
        return new ServerMessage.Event(
                seq, JsonNodeFactory.instance.objectNode().put("text", "x".repeat(padding)));
    }

    private static EncodedFrame encoded(ServerMessage message) {
        return new EncodedFrame(CODEC.encodeToBytes(message));
    }

    /** Writes and flushes {@code message} as the session does with a live history frame. */
    private void send(ServerMessage message) {
        channel.writeOutbound(encoded(message));
    }

    /** Every frame written so far, decoded, with the size of each; frames are released. */
    private List<ServerMessage> sent(List<Integer> sizes) {
        List<ServerMessage> frames = new ArrayList<>();
        Object out;
        while ((out = channel.readOutbound()) != null) {
            TextWebSocketFrame frame = assertInstanceOf(TextWebSocketFrame.class, out);
            try {
                sizes.add(frame.content().readableBytes());
                frames.add(CODEC.decodeServer(frame.content().toString(StandardCharsets.UTF_8)));
            } finally {
                frame.release();
            }
        }
        return frames;
    }

    private List<ServerMessage> sent() {
        return sent(new ArrayList<>());
    }

    @Test
    void framesHeldWithinTheDelayLeaveAsOneBatchInOrderWhenItEnds() {
        channel = channel(MAX_FRAME_BYTES);
        List<ServerMessage> events = List.of(event(1, 10), event(2, 10), event(3, 10));
        events.forEach(this::send);
        assertEquals(List.of(), sent(), "nothing before the delay");

        advance(DELAY.minusNanos(1));
        assertEquals(List.of(), sent(), "nothing before the delay");
        advance(Duration.ofNanos(1));

        assertEquals(List.of(new ServerMessage.Batch(events)), sent());
        assertFalse(channel.finish());
    }

    @Test
    void theDelayCountsFromTheFirstHeldFrame() {
        channel = channel(MAX_FRAME_BYTES);
        send(event(1, 10));
        advance(DELAY.dividedBy(2));
        send(event(2, 10));
        advance(DELAY.dividedBy(2));

        assertEquals(List.of(new ServerMessage.Batch(List.of(event(1, 10), event(2, 10)))), sent());

        send(event(3, 10)); // the first of the next batch: a delay of its own
        advance(DELAY.minusNanos(1));
        assertEquals(List.of(), sent());
        advance(Duration.ofNanos(1));
        assertEquals(List.of(event(3, 10)), sent(), "a batch of one is the message itself");
        assertFalse(channel.finish());
    }

    @Test
    void aBatchLeavesBeforeTheNextFrameWouldTakeItOverTheFrameSize() {
        channel = channel(MAX_FRAME_BYTES);
        List<ServerMessage> events = new ArrayList<>();
        for (int seq = 1; seq <= 10; seq++) {
            events.add(event(seq, 200));
            send(events.get(seq - 1));
        }
        advance(DELAY);

        List<Integer> sizes = new ArrayList<>();
        List<ServerMessage> frames = sent(sizes);
        assertTrue(frames.size() > 1 && frames.size() < events.size(), "cut by size: " + sizes);
        sizes.forEach(size -> assertTrue(size <= MAX_FRAME_BYTES, "a frame of " + size + " bytes"));
        List<ServerMessage> delivered = new ArrayList<>();
        frames.forEach(frame -> delivered.addAll(ServerMessage.Batch.unpack(frame)));
        assertEquals(events, delivered, "every message once, in order");
        assertFalse(channel.finish());
    }

    @Test
    void aBatchCutBySizeLeavesAtOnceWithoutWaitingForTheDelay() {
        channel = channel(MAX_FRAME_BYTES);
        send(event(1, 400));
        send(event(2, 400));
        send(event(3, 400)); // does not fit with the two before it

        assertEquals(List.of(new ServerMessage.Batch(List.of(event(1, 400), event(2, 400)))), sent());
        advance(DELAY);
        assertEquals(List.of(event(3, 400)), sent());
        assertFalse(channel.finish());
    }

    @Test
    void aFrameTooBigToShareGoesAloneAsWithoutBatching() {
        channel = channel(MAX_FRAME_BYTES);
        send(event(1, 10));
        send(event(2, 2 * MAX_FRAME_BYTES));
        send(event(3, 10));
        advance(DELAY);

        assertEquals(List.of(event(1, 10), event(2, 2 * MAX_FRAME_BYTES), event(3, 10)), sent());
        assertFalse(channel.finish());
    }

    @Test
    void anyOtherWriteSendsWhatIsHeldFirstAndGoesAtOnce() {
        channel = channel(MAX_FRAME_BYTES);
        send(event(1, 10));
        send(event(2, 10));
        ServerMessage.ErrorFrame error = ServerMessage.ErrorFrame.of(ErrorCode.RATE_LIMITED, "slow down");
        channel.writeOutbound(error);
        ServerMessage.Accepted accepted = new ServerMessage.Accepted("m-1", false, 0);
        channel.writeOutbound(accepted);

        assertEquals(
                List.of(new ServerMessage.Batch(List.of(event(1, 10), event(2, 10))), error, accepted),
                sent(),
                "no waiting for the delay, and no message overtakes another");
        assertFalse(channel.finish());
    }

    @Test
    void replayedFramesWrittenBeforeOneFlushAreBatchedToo() {
        channel = channel(MAX_FRAME_BYTES);
        ServerMessage.SessionReady ready = new ServerMessage.SessionReady("s", true, 3, 0, SessionState.IDLE);
        channel.writeOutbound(ready);
        ServerMessage.Status status = new ServerMessage.Status(3, SessionState.IDLE, null);
        List<ServerMessage> replay = List.of(event(1, 10), event(2, 10), status);
        replay.forEach(message -> assertFalse(channel.write(encoded(message)).isDone(), "held"));
        channel.flush();
        advance(DELAY);

        assertEquals(List.of(ready, new ServerMessage.Batch(replay)), sent());
        assertFalse(channel.finish());
    }

    @Test
    void aCloseSendsWhatIsHeldThenTheCloseFrame() {
        channel = channel(MAX_FRAME_BYTES);
        send(event(1, 10));
        send(event(2, 10));
        CloseWebSocketFrame close =
                new CloseWebSocketFrame(CloseCode.SESSION_REPLACED.code(), CloseCode.SESSION_REPLACED.reason());
        channel.writeOutbound(close);

        TextWebSocketFrame batch = channel.readOutbound();
        try {
            assertEquals(
                    new ServerMessage.Batch(List.of(event(1, 10), event(2, 10))),
                    CODEC.decodeServer(batch.content().toString(StandardCharsets.UTF_8)));
        } finally {
            batch.release();
        }
        CloseWebSocketFrame written = channel.readOutbound();
        assertEquals(CloseCode.SESSION_REPLACED.code(), written.statusCode());
        written.release();
        assertNull(channel.readOutbound());
        assertFalse(channel.finish());
    }

    @Test
    void aClosedChannelDropsWhatIsHeldAndFailsItsPromises() {
        channel = channel(MAX_FRAME_BYTES);
        ChannelFuture held = channel.writeAndFlush(encoded(event(1, 10)));
        channel.pipeline().fireChannelInactive();

        assertTrue(held.isDone() && !held.isSuccess(), "the held frame's write failed");
        advance(DELAY);
        assertNull(channel.readOutbound(), "nothing is sent after the connection went");
        assertFalse(channel.finish());
    }

    @Test
    void aHeldFramesPromiseCompletesWithItsBatch() {
        channel = channel(MAX_FRAME_BYTES);
        ChannelFuture first = channel.writeAndFlush(encoded(event(1, 10)));
        ChannelFuture second = channel.writeAndFlush(encoded(event(2, 10)));
        assertFalse(first.isDone());

        advance(DELAY);
        assertTrue(first.isSuccess() && second.isSuccess());
        assertEquals(1, sent().size());
        assertFalse(channel.finish());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"", "0", "1001", "10000", "-1", "+5", "1e3", "5.0", " 5", "0x10", "٥", "99999999999"})
    void aBatchValueOutOfRangeOrNotANumberIsRefused(String raw) {
        assertEquals(-1, BatchHandler.parseDelayMillis(raw));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"1", "50", "0050", "1000"})
    void aBatchValueFromOneToAThousandIsTaken(String raw) {
        assertEquals(Integer.parseInt(raw), BatchHandler.parseDelayMillis(raw));
    }

    @Test
    void noBatchValueMeansNoBatching() {
        assertEquals(0, BatchHandler.parseDelayMillis(null));
        assertNull(BatchHandler.forRequest(0, DELAY.toNanos(), MAX_FRAME_BYTES));
    }

    @Test
    void theDelayIsCutToTheOperatorsMaximumAndZeroTurnsBatchingOff() {
        long max = Duration.ofMillis(100).toNanos();
        assertEquals(
                Duration.ofMillis(20).toNanos(),
                BatchHandler.forRequest(20, max, MAX_FRAME_BYTES).delayNanos());
        assertEquals(max, BatchHandler.forRequest(1000, max, MAX_FRAME_BYTES).delayNanos());
        assertNull(BatchHandler.forRequest(20, 0, MAX_FRAME_BYTES));
    }
}
