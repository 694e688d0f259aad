package dev.tether.loadtest.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the load clients read frames: one message, a batch (contract 8.4) of several, or garbage. */
class ServerFramesTest {

    private static final WireCodec CODEC = new WireCodec();

    @Test
    void aFrameOfOneMessageIsThatMessage() {
        RunStats stats = new RunStats();
        ServerMessage pong = new ServerMessage.Pong();
        assertEquals(List.of(pong), ServerFrames.decode(CODEC.encode(pong), stats));
        assertEquals(Map.of(), stats.errors());
        assertEquals(1, stats.frameCount());
        assertEquals(1, stats.messageCount());
    }

    @Test
    void aBatchFrameIsItsMessagesInOrder() {
        RunStats stats = new RunStats();
        List<ServerMessage> messages = List.of(
                new ServerMessage.Event(1, JsonNodeFactory.instance.objectNode().put("type", "delta")),
                new ServerMessage.Accepted("m-1", false, 0),
                new ServerMessage.Status(2, SessionState.IDLE, null));
        assertEquals(messages, ServerFrames.decode(CODEC.encode(new ServerMessage.Batch(messages)), stats));
        assertEquals(Map.of(), stats.errors());
        assertEquals(1, stats.frameCount(), "one frame");
        assertEquals(3, stats.messageCount(), "holding three messages");
    }

    @Test
    void aFrameThatDoesNotDecodeIsNoMessageAndAnError() {
        RunStats stats = new RunStats();
        assertEquals(List.of(), ServerFrames.decode("{\"type\":\"batch\",\"messages\":[{\"type\":\"nope\"}]}", stats));
        assertEquals(Map.of("undecodable_frame", 1L), stats.errors());
        assertEquals(1, stats.frameCount());
        assertEquals(0, stats.messageCount());
    }
}
