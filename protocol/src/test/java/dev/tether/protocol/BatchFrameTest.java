package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;

/**
 * The batch frame of contract 8.4 as the gateway writes it, joined from messages encoded one by one
 * ({@link WireCodec#BATCH_START} and friends), and as clients read it.
 */
class BatchFrameTest {

    private static final WireCodec CODEC = new WireCodec();

    private static final List<ServerMessage> MESSAGES = List.of(
            new ServerMessage.Event(41, JsonNodeFactory.instance.objectNode().put("text", "é ✓ \u2028")),
            new ServerMessage.Notice(42, "worker_restarted", "restarted", null),
            new ServerMessage.Status(43, SessionState.IDLE, "done"));

    @Test
    void joinedEncodedMessagesAreTheBatchRecord() {
        StringJoiner joined = new StringJoiner(WireCodec.BATCH_SEPARATOR, WireCodec.BATCH_START, WireCodec.BATCH_END);
        long bytes = 0;
        for (ServerMessage message : MESSAGES) {
            byte[] encoded = CODEC.encodeToBytes(message);
            bytes += encoded.length;
            joined.add(new String(encoded, StandardCharsets.UTF_8));
        }
        String frame = joined.toString();

        assertEquals(new ServerMessage.Batch(MESSAGES), CODEC.decodeServer(frame));
        assertEquals(CODEC.encode(new ServerMessage.Batch(MESSAGES)), frame);
        assertEquals(frame.getBytes(StandardCharsets.UTF_8).length, WireCodec.batchFrameBytes(MESSAGES.size(), bytes));
    }

    @Test
    void unpackGivesTheMessagesInOrderOrTheMessageAlone() {
        assertEquals(MESSAGES, ServerMessage.Batch.unpack(new ServerMessage.Batch(MESSAGES)));
        ServerMessage.Pong pong = new ServerMessage.Pong();
        assertEquals(List.of(pong), ServerMessage.Batch.unpack(pong));
    }

    @Test
    void theRecordKeepsItsOwnCopy() {
        List<ServerMessage> list = new ArrayList<>(MESSAGES);
        ServerMessage.Batch batch = new ServerMessage.Batch(list);
        list.clear();

        assertEquals(MESSAGES, batch.messages());
        assertThrows(UnsupportedOperationException.class, () -> batch.messages().clear());
    }
}
