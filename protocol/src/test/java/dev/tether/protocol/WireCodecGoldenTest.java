package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pins the wire form of every frame to the golden files under {@code golden/}: each golden must be
 * exactly what {@link WireCodec} writes for its record, and must decode back to that record. A
 * message type added to {@link ServerMessage} or {@link ClientMessage} without a golden fails
 * {@link #everyServerTypeHasAGolden()} or {@link #everyClientTypeHasAGolden()}.
 *
 * <p>Trees, not strings, are compared, so the goldens can stay pretty-printed.
 */
class WireCodecGoldenTest {

    private static final WireCodec CODEC = new WireCodec();
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private static final String SESSION_ID = "q3Jz8Xw1Tn2hV0bLk9AaYw";

    /** Golden file (under {@code golden/server/}) to the record it pins. */
    private static Map<String, ServerMessage> serverGoldens() {
        Map<String, ServerMessage> goldens = new LinkedHashMap<>();
        goldens.put(
                "session_ready.json",
                new ServerMessage.SessionReady(SESSION_ID, false, 0, 1767225600L, SessionState.PREPARING));
        goldens.put(
                "session_ready-resumed.json",
                new ServerMessage.SessionReady(SESSION_ID, true, 42, 1767229200L, SessionState.PROCESSING));
        goldens.put(
                "session_ready-viewer-pending.json",
                new ServerMessage.SessionReady(
                        SESSION_ID,
                        true,
                        42,
                        1767229200L,
                        SessionState.PROCESSING,
                        "node-a",
                        Role.VIEWER,
                        List.of(new ServerMessage.PendingRequest("r-1", approval(), 40))));
        goldens.put("session_ready-ends_at.json", newSessionEnding(SessionState.IDLE, null, null));
        goldens.put(
                "session_ready-fork.json",
                newSessionEnding(
                        SessionState.PREPARING, "Zk4m2Pq8Rs6tUv0wXy1zAb", ServerMessage.SessionReady.forkSeqOf(17L)));
        goldens.put(
                "session_ready-fork-no-checkpoint.json",
                newSessionEnding(
                        SessionState.IDLE, "Zk4m2Pq8Rs6tUv0wXy1zAb", ServerMessage.SessionReady.forkSeqOf(null)));
        goldens.put("request.json", new ServerMessage.Request(40, "r-1", approval()));
        goldens.put("request_resolved.json", new ServerMessage.RequestResolved(43, "r-1", RequestOutcome.ANSWERED));
        goldens.put("event.json", new ServerMessage.Event(7, workerEvent()));
        goldens.put("status.json", new ServerMessage.Status(3, SessionState.IDLE, null));
        goldens.put("status-with-reason.json", new ServerMessage.Status(19, SessionState.ENDED, "idle_timeout"));
        goldens.put(
                "notice.json",
                new ServerMessage.Notice(
                        5,
                        "worker_restarted",
                        "The worker was restarted; queued messages will reach the new one.",
                        null));
        goldens.put(
                "notice-with-details.json",
                new ServerMessage.Notice(
                        12,
                        "duration_warning",
                        "The session ends in 5 minutes.",
                        JSON.objectNode().put("remaining_seconds", 300).put("ends_at", 1767225900)));
        goldens.put(
                "notice-duration_extended.json",
                new ServerMessage.Notice(
                        13,
                        "duration_extended",
                        "the session's end moved later",
                        JSON.objectNode().put("ends_at", 1767231000).put("extensions_left", 1)));
        goldens.put(
                "error-extension_refused.json",
                ServerMessage.ErrorFrame.of(
                        ErrorCode.EXTENSION_REFUSED, "this session has used all 2 of its extensions"));
        goldens.put("accepted.json", new ServerMessage.Accepted("m-1", false, 0));
        goldens.put("accepted-queued.json", new ServerMessage.Accepted("m-2", false, 2));
        goldens.put("accepted-duplicate.json", new ServerMessage.Accepted("m-1", true, 0));
        goldens.put(
                "error.json",
                ServerMessage.ErrorFrame.of(ErrorCode.INVALID_JSON, "not valid JSON: Unexpected end-of-input"));
        goldens.put(
                "error-with-id.json",
                new ServerMessage.ErrorFrame(ErrorCode.QUEUE_FULL, "the session's queue is full", "m-7", null));
        goldens.put(
                "error-session-expired.json",
                new ServerMessage.ErrorFrame(
                        ErrorCode.SESSION_EXPIRED, "the session has ended", null, "duration_limit"));
        goldens.put(
                "error-respond.json",
                ServerMessage.ErrorFrame.ofRespond(
                        ErrorCode.REQUEST_RESOLVED, "request r-1 was already resolved", "r-1"));
        goldens.put("replay_gap.json", new ServerMessage.ReplayGap(11, 40));
        goldens.put("refresh_required.json", new ServerMessage.RefreshRequired(1767225600L));
        goldens.put("auth_ok.json", new ServerMessage.AuthOk(1767229200L));
        goldens.put("session_replaced.json", new ServerMessage.SessionReplaced());
        goldens.put("shutting_down.json", new ServerMessage.ShuttingDown(30));
        goldens.put("pong.json", new ServerMessage.Pong());
        goldens.put(
                "batch.json",
                new ServerMessage.Batch(List.of(
                        new ServerMessage.Event(7, workerEvent()),
                        new ServerMessage.Status(8, SessionState.IDLE, null),
                        new ServerMessage.Accepted("m-2", false, 0))));
        goldens.put("queued.json", new ServerMessage.Queued(3, 42L));
        goldens.put("queued-unknown-wait.json", new ServerMessage.Queued(1, null));
        return goldens;
    }

    /** Golden file (under {@code golden/client/}) to the record it pins. */
    private static Map<String, ClientMessage> clientGoldens() {
        Map<String, ClientMessage> goldens = new LinkedHashMap<>();
        ObjectNode data = JSON.objectNode().put("text", "Summarise this file");
        data.putArray("attachments").addObject().put("name", "a.txt").put("size", 1024);
        goldens.put("message.json", new ClientMessage.Message("m-1", data));
        goldens.put("message-null-data.json", new ClientMessage.Message("m-2", NullNode.getInstance()));
        goldens.put("message-string-data.json", new ClientMessage.Message("m-3", TextNode.valueOf("just text")));
        goldens.put("ack.json", new ClientMessage.Ack(42));
        goldens.put("interrupt.json", new ClientMessage.Interrupt());
        goldens.put("end.json", new ClientMessage.End());
        goldens.put("extend.json", new ClientMessage.Extend());
        goldens.put(
                "auth_refresh.json",
                new ClientMessage.AuthRefresh(
                        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTc2NzIyOTIwMH0.c2lnbmF0dXJl"));
        goldens.put("ping.json", new ClientMessage.Ping());
        goldens.put(
                "respond.json",
                new ClientMessage.Respond("r-1", JSON.objectNode().put("decision", "allow")));
        return goldens;
    }

    /** A new session's {@code session_ready} that names its end ({@code ends_at}), forked from {@code forkedFrom} or not (null). */
    private static ServerMessage.SessionReady newSessionEnding(
            SessionState state, String forkedFrom, JsonNode forkSeq) {
        return new ServerMessage.SessionReady(
                SESSION_ID,
                false,
                0,
                1767225600L,
                state,
                null,
                Role.OWNER,
                List.of(),
                1767254400L,
                forkedFrom,
                forkSeq);
    }

    private static ObjectNode approval() {
        ObjectNode request = JSON.objectNode().put("kind", "approval").put("tool", "Bash");
        request.putObject("input").put("command", "rm -rf build");
        return request;
    }

    private static ObjectNode workerEvent() {
        ObjectNode event = JSON.objectNode().put("type", "assistant").put("text", "Hello, world");
        event.putObject("usage").put("input_tokens", 12).put("output_tokens", 3);
        event.putArray("tags").add("a").add("b");
        event.put("final", false);
        event.putNull("extra");
        return event;
    }

    static Stream<Arguments> serverCases() {
        return serverGoldens().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    static Stream<Arguments> clientCases() {
        return clientGoldens().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "server/{0}")
    @MethodSource("serverCases")
    void serverMessageEncodesToGolden(String file, ServerMessage expected) {
        JsonNode golden = golden("server/" + file);

        assertEquals(golden, tree(CODEC.encode(expected)), "encode(" + expected + ")");
        assertEquals(
                golden,
                tree(new String(CODEC.encodeToBytes(expected), StandardCharsets.UTF_8)),
                "encodeToBytes(" + expected + ")");
    }

    @ParameterizedTest(name = "server/{0}")
    @MethodSource("serverCases")
    void serverGoldenDecodesToRecord(String file, ServerMessage expected) {
        assertEquals(expected, CODEC.decodeServer(goldenText("server/" + file)));
    }

    @ParameterizedTest(name = "client/{0}")
    @MethodSource("clientCases")
    void clientMessageEncodesToGolden(String file, ClientMessage expected) {
        assertEquals(golden("client/" + file), tree(CODEC.encode(expected)), "encode(" + expected + ")");
    }

    @ParameterizedTest(name = "client/{0}")
    @MethodSource("clientCases")
    void clientGoldenDecodesToRecord(String file, ClientMessage expected) throws ProtocolException {
        assertEquals(expected, CODEC.decodeClient(goldenText("client/" + file)));
    }

    @Test
    void refusalBodyMatchesGolden() throws IOException {
        RefusalBody body =
                RefusalBody.of(UpgradeRefusal.TOO_MANY_CONNECTIONS, "connection limit reached for this user");
        JsonNode golden = golden("refusal.json");

        assertEquals(golden, tree(CODEC.mapper().writeValueAsString(body)));
        assertEquals(body, CODEC.mapper().readValue(goldenText("refusal.json"), RefusalBody.class));
    }

    @ParameterizedTest(name = "server/{0}")
    @MethodSource("serverCases")
    void serverTypeDiscriminatorIsTheSubtypeName(String file, ServerMessage message) {
        assertEquals(
                subtypeNames(ServerMessage.class).get(message.getClass()),
                tree(CODEC.encode(message)).path("type").textValue());
    }

    @ParameterizedTest(name = "client/{0}")
    @MethodSource("clientCases")
    void clientTypeDiscriminatorIsTheSubtypeName(String file, ClientMessage message) {
        assertEquals(
                subtypeNames(ClientMessage.class).get(message.getClass()),
                tree(CODEC.encode(message)).path("type").textValue());
    }

    @Test
    void multiWordFieldsAreSnakeCase() {
        assertFields(
                new ServerMessage.SessionReady(SESSION_ID, true, 1, 2, SessionState.IDLE),
                "type",
                "session_id",
                "resumed",
                "last_seq",
                "token_expires_at",
                "state",
                "role",
                "pending_requests");
        assertFields(
                new ServerMessage.RequestResolved(3, "r", RequestOutcome.TIMEOUT),
                "type",
                "seq",
                "request_id",
                "outcome");
        assertFields(new ServerMessage.RefreshRequired(1), "type", "expires_at");
        assertFields(new ServerMessage.AuthOk(1), "type", "expires_at");
        assertFields(new ServerMessage.ShuttingDown(5), "type", "retry_after");
    }

    @Test
    void absentOptionalFieldsAreOmittedNotNull() {
        assertFields(ServerMessage.ErrorFrame.of(ErrorCode.RATE_LIMITED, "slow down"), "type", "code", "message");
        assertFields(new ServerMessage.Status(1, SessionState.IDLE, null), "type", "seq", "state");
        assertFields(new ServerMessage.Notice(1, "c", "m", null), "type", "seq", "code", "message");
    }

    @Test
    void everyServerTypeHasAGolden() {
        assertEveryTypeHasAGolden(ServerMessage.class, "server", serverGoldens().values());
    }

    @Test
    void everyClientTypeHasAGolden() {
        assertEveryTypeHasAGolden(ClientMessage.class, "client", clientGoldens().values());
    }

    @Test
    void everyServerGoldenFileIsChecked() {
        assertEquals(files("server"), new TreeSet<>(serverGoldens().keySet()));
    }

    @Test
    void everyClientGoldenFileIsChecked() {
        assertEquals(files("client"), new TreeSet<>(clientGoldens().keySet()));
    }

    /**
     * Every concrete record the sealed hierarchy permits must be registered in {@code @JsonSubTypes},
     * have a golden file named after its wire type, and be exercised by at least one golden case.
     */
    private static void assertEveryTypeHasAGolden(Class<?> root, String dir, Iterable<?> checked) {
        Map<Class<?>, String> names = subtypeNames(root);
        Set<Class<?>> records = permittedRecords(root);
        assertEquals(
                records,
                names.keySet(),
                "@JsonSubTypes of " + root.getSimpleName() + " must list exactly the permitted records");

        Set<Class<?>> exercised = new HashSet<>();
        checked.forEach(message -> exercised.add(message.getClass()));
        for (Class<?> type : records) {
            String file = "golden/" + dir + "/" + names.get(type) + ".json";
            assertNotNull(
                    WireCodecGoldenTest.class.getClassLoader().getResource(file),
                    type.getName() + " has no golden " + file);
            assertTrue(exercised.contains(type), type.getName() + " is not checked against a golden");
        }
    }

    private static Set<Class<?>> permittedRecords(Class<?> type) {
        Set<Class<?>> records = new HashSet<>();
        for (Class<?> sub : type.getPermittedSubclasses()) {
            if (sub.isSealed()) {
                records.addAll(permittedRecords(sub));
            } else {
                assertTrue(sub.isRecord(), sub.getName() + " should be a record");
                records.add(sub);
            }
        }
        return records;
    }

    private static Map<Class<?>, String> subtypeNames(Class<?> root) {
        JsonSubTypes subTypes = root.getAnnotation(JsonSubTypes.class);
        assertNotNull(subTypes, root.getName() + " has no @JsonSubTypes");
        return Arrays.stream(subTypes.value())
                .collect(Collectors.toMap(JsonSubTypes.Type::value, JsonSubTypes.Type::name));
    }

    private static void assertFields(ServerMessage message, String... fields) {
        List<String> actual = new ArrayList<>();
        tree(CODEC.encode(message)).fieldNames().forEachRemaining(actual::add);
        assertEquals(new TreeSet<>(List.of(fields)), new TreeSet<>(actual), "fields of " + message);
    }

    private static Set<String> files(String dir) {
        URL url = WireCodecGoldenTest.class.getClassLoader().getResource("golden/" + dir);
        assertNotNull(url, "golden/" + dir);
        try (Stream<Path> paths = Files.list(Path.of(url.toURI()))) {
            return paths.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode golden(String path) {
        return tree(goldenText(path));
    }

    private static String goldenText(String path) {
        try (InputStream in = WireCodecGoldenTest.class.getClassLoader().getResourceAsStream("golden/" + path)) {
            assertNotNull(in, "golden/" + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode tree(String json) {
        try {
            return CODEC.mapper().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
