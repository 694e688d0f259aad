package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.SeqAudit;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.protocol.WireCodec;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Batched delivery (contract 8.4) against a real gateway, read by an independent client (Tyrus):
 * a burst of events arrives in {@code batch} frames, cut at {@code server.max_frame_bytes}, with
 * every seq exactly once and in order; a resume may choose another {@code batch} (or none), replays
 * are batched too; out-of-range values are refused at the upgrade and leave the gateway and the
 * other sessions alone; an operator's {@code max_batch_delay: 0} turns batching off.
 */
class BatchedDeliveryIT {

    private static final int DELTAS = 200;
    /** A turn from idle: processing, the deltas, the result, idle. */
    private static final int TURN = DELTAS + 3;

    private static final int MAX_FRAME_BYTES = 4096;

    /** A burst: 200 deltas with no pause, in frames of at most 4 KiB. */
    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            server:
              max_frame_bytes: 4KiB
            worker:
              echo:
                deltas: 200
                delta_interval: 0ms
            """);

    /** The same burst where the operator turned batching off. */
    @RegisterExtension
    static final GatewayExtension batchingOff = GatewayExtension.withConfig("""
            server:
              max_batch_delay: 0s
            worker:
              echo:
                deltas: 200
                delta_interval: 0ms
            """);

    private static final WireCodec CODEC = new WireCodec();

    @Test
    void aBurstArrivesInBatchesWithEverySeqOnceInOrder() {
        String token = gateway.token(newSubject());
        try (TestClient client = TestClient.connect(withBatch(gateway.uri(), "100"), token)) {
            List<ServerMessage> frames = new ArrayList<>();
            frames.add(client.next());
            assertTrue(frames.get(0) instanceof ServerMessage.SessionReady, "session_ready first, alone");
            client.send(message("m1", "the quick brown fox"));
            List<ServerMessage> messages = untilIdle(client, frames);

            SeqAudit.assertRange("the turn", SeqAudit.seqs(messages), 1, TURN);
            assertTrue(messages.contains(new ServerMessage.Accepted("m1", false, 0)), "the accepted is among them");
            long batches = frames.stream()
                    .filter(ServerMessage.Batch.class::isInstance)
                    .count();
            assertTrue(batches > 0, "no batch frame among " + frames.size() + " frames");
            assertTrue(frames.size() < TURN / 2, "only " + (TURN + 2) + " messages in " + frames.size() + " frames");
            frames.stream()
                    .filter(ServerMessage.Batch.class::isInstance)
                    .forEach(batch -> assertTrue(
                            ((ServerMessage.Batch) batch).messages().size() > 1, "a batch of one: " + batch));
            for (String raw : client.rawFrames()) {
                int bytes = raw.getBytes(StandardCharsets.UTF_8).length;
                assertTrue(bytes <= MAX_FRAME_BYTES, "a frame of " + bytes + " bytes");
            }
        }
    }

    @Test
    void aResumeChoosesAnotherBatchValueAndReplaysAreBatchedToo() {
        String token = gateway.token(newSubject());
        SeqAudit audit = new SeqAudit();
        String id;
        try (TestClient first = TestClient.connect(withBatch(gateway.uri(), "1000"), token)) {
            id = first.expect(ServerMessage.SessionReady.class).sessionId();
            first.send(message("m1", "first turn"));
            List<ServerMessage> turn = untilIdle(first, new ArrayList<>()).stream()
                    .filter(ServerMessage.Sequenced.class::isInstance)
                    .toList();
            // The client processed half the turn: the rest comes from the replay, batched at 5 ms.
            audit.record("first", turn.subList(0, TURN / 2));
        }
        long processed = TURN / 2;
        try (TestClient second = TestClient.connect(withBatch(gateway.resumeUri(id, processed), "5"), token)) {
            ServerMessage.SessionReady ready = second.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            List<ServerMessage> frames = new ArrayList<>();
            List<ServerMessage> replayed = unpacked(second, frames, TURN - processed);
            assertTrue(frames.stream().anyMatch(ServerMessage.Batch.class::isInstance), "the replay is batched");
            SeqAudit.assertRange("the replay", SeqAudit.seqs(replayed), processed + 1, TURN);
            audit.record("second", replayed);
            second.send(message("m2", "second turn"));
            audit.record("second", untilIdle(second, frames));
        }
        audit.assertExactlyOnce(1, 2L * TURN);
        // Without batch the same session is exactly as before: one message per frame.
        try (TestClient third = TestClient.connect(gateway.resumeUri(id, 0), token)) {
            third.expect(ServerMessage.SessionReady.class);
            List<ServerMessage> frames = new ArrayList<>();
            List<ServerMessage> replayed = unpacked(third, frames, 2L * TURN);
            assertEquals(replayed, frames, "no batch frame without ?batch");
            SeqAudit.assertRange("the full replay", SeqAudit.seqs(replayed), 1, 2L * TURN);
        }
    }

    @Test
    void outOfRangeOrNonNumericBatchValuesAreRefusedAndHarmNobody() throws IOException {
        String token = gateway.token(newSubject());
        try (TestClient bystander = TestClient.connect(withBatch(gateway.uri(), "20"), token)) {
            bystander.expect(ServerMessage.SessionReady.class);
            for (String value : List.of("0", "1001", "-1", "abc", "", "1e2", "5.5", "%2B5", "99999999999999999999")) {
                String target = "/ws?batch=" + value;
                RawHttp.Response response = RawHttp.upgrade(
                        gateway.address(), target, Map.of("Authorization", "Bearer " + gateway.token("prober")));
                assertRefusedAsBadRequest(target, response);
            }
            String resumeTarget = "/ws?session=" + URLEncoder.encode("x", StandardCharsets.UTF_8) + "&batch=0";
            assertRefusedAsBadRequest(
                    resumeTarget,
                    RawHttp.upgrade(
                            gateway.address(),
                            resumeTarget,
                            Map.of("Authorization", "Bearer " + gateway.token("prober"))));

            bystander.send(message("m1", "still here"));
            List<ServerMessage> messages = untilIdle(bystander, new ArrayList<>());
            SeqAudit.assertRange("the bystander's turn", SeqAudit.seqs(messages), 1, TURN);
        }
    }

    @Test
    void withBatchingTurnedOffTheValueIsCheckedThenIgnored() throws IOException {
        String token = batchingOff.token(newSubject());
        try (TestClient client = TestClient.connect(withBatch(batchingOff.uri(), "100"), token)) {
            client.expect(ServerMessage.SessionReady.class);
            List<ServerMessage> frames = new ArrayList<>();
            client.send(message("m1", "one per frame"));
            List<ServerMessage> messages = untilIdle(client, frames);
            assertEquals(messages, frames, "no batch frame");
            SeqAudit.assertRange("the turn", SeqAudit.seqs(messages), 1, TURN);
        }
        assertRefusedAsBadRequest(
                "/ws?batch=0",
                RawHttp.upgrade(
                        batchingOff.address(),
                        "/ws?batch=0",
                        Map.of("Authorization", "Bearer " + batchingOff.token("prober"))));
    }

    /**
     * Reads frames into {@code frames} and returns the messages they carry, unpacked, up to the
     * session's {@code idle} status.
     */
    private static List<ServerMessage> untilIdle(TestClient client, List<ServerMessage> frames) {
        List<ServerMessage> messages = new ArrayList<>();
        while (messages.isEmpty() || !isIdle(messages.get(messages.size() - 1))) {
            ServerMessage frame = client.next();
            frames.add(frame);
            messages.addAll(ServerMessage.Batch.unpack(frame));
        }
        return messages;
    }

    /** Reads frames into {@code frames} until they carried {@code count} messages; returns those. */
    private static List<ServerMessage> unpacked(TestClient client, List<ServerMessage> frames, long count) {
        List<ServerMessage> messages = new ArrayList<>();
        while (messages.size() < count) {
            ServerMessage frame = client.next();
            frames.add(frame);
            messages.addAll(ServerMessage.Batch.unpack(frame));
        }
        assertEquals(count, messages.size(), "a frame carried more than the replay");
        return messages;
    }

    private static void assertRefusedAsBadRequest(String target, RawHttp.Response response) throws IOException {
        assertEquals(UpgradeRefusal.BAD_REQUEST.status(), response.status(), target + ": " + response);
        assertFalse(response.headers().containsKey("sec-websocket-accept"), target);
        JsonNode body = CODEC.mapper().readTree(response.body());
        assertEquals(UpgradeRefusal.BAD_REQUEST.code(), body.path("error").textValue(), target);
        assertTrue(body.path("message").textValue().startsWith("batch must be"), target + ": " + body);
    }

    private static boolean isIdle(ServerMessage message) {
        return message instanceof ServerMessage.Status s && s.state() == SessionState.IDLE;
    }

    private static URI withBatch(URI uri, String millis) {
        return URI.create(uri + (uri.getQuery() == null ? "?" : "&") + "batch=" + millis);
    }

    private static ClientMessage.Message message(String id, String text) {
        return new ClientMessage.Message(id, TextNode.valueOf(text));
    }

    private static String newSubject() {
        return "user-" + UUID.randomUUID();
    }
}
