package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.store.RedisSessionStore;
import dev.tether.gateway.store.StoredFormat;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateway releases against one real {@code redis-server} (contract 1.2, 8.8): node {@code old}
 * writes and reads format {@value StoredFormat#CURRENT}, node {@code next} is built as a release
 * with format "2" would be (writing and reading only "2", through {@link StoredFormat#TEST_PROPERTY}).
 * A session of either format resumed on the other node is refused with {@code session_incompatible}
 * and close 4004, left as it is in the store, and still resumes on the node that wrote it.
 */
class StoredFormatIT {

    private static final String MARKER = "stored-format";

    @TempDir
    static Path tmp;

    private static RedisServer redis;
    private static GatewayServer old;
    private static GatewayServer next;
    private static URI oldUri;
    private static URI nextUri;
    /** What {@link #start} opened, newest first. */
    private static final Deque<AutoCloseable> opened = new ArrayDeque<>();

    @BeforeAll
    static void start() throws InterruptedException {
        redis = RedisServer.start(tmp);
        opened.push(redis);
        old = new GatewayServer(RedisNodes.config(MARKER, "old", redis.uri()), Clock.systemUTC());
        opened.push(old);
        System.setProperty(StoredFormat.TEST_PROPERTY, "2");
        try {
            next = new GatewayServer(RedisNodes.config(MARKER, "next", redis.uri()), Clock.systemUTC());
            opened.push(next);
        } finally {
            System.clearProperty(StoredFormat.TEST_PROPERTY);
        }
        oldUri = URI.create("ws://127.0.0.1:" + old.start().getPort() + "/ws");
        nextUri = URI.create("ws://127.0.0.1:" + next.start().getPort() + "/ws");
    }

    @AfterAll
    static void stop() throws Exception {
        while (!opened.isEmpty()) {
            opened.pop().close();
        }
    }

    private static String token(String subject) {
        return new TokenMinter(GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint(subject, Duration.ofHours(1), Map.of());
    }

    private static URI resume(URI node, String id) {
        return URI.create(node + "?session=" + id + "&last_seq=0");
    }

    private static String storedFormat(String id) throws Exception {
        try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            return store.read(id)
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS)
                    .orElseThrow()
                    .format();
        }
    }

    /** A session of {@code subject} created on {@code writer}, then left detached. */
    private static String sessionOn(URI writer, String subject) {
        try (SessionClient c = SessionClient.openIdle(writer, token(subject))) {
            c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}");
            return c.sessionId();
        }
    }

    private static void refusedAsIncompatible(URI reader, String id, String subject, String format) {
        try (TestClient ws = TestClient.connectWithHeader(resume(reader, id), token(subject))) {
            ServerMessage.ErrorFrame error = ws.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.SESSION_INCOMPATIBLE, error.code());
            assertTrue(error.message().contains("format " + format), error.message());
            assertEquals(CloseCode.SESSION_NOT_FOUND.code(), ws.awaitCloseCode());
        }
    }

    private static void resumesOn(URI writer, String id, String subject) {
        try (TestClient ws = TestClient.connectWithHeader(resume(writer, id), token(subject))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertEquals(id, ready.sessionId(), "the same session, never another");
        }
    }

    @Test
    void aSessionOfTheNewerFormatIsRefusedByTheOlderNodeAndStillResumesOnTheNewerOne() throws Exception {
        String id = sessionOn(nextUri, "fmt-ann");
        assertEquals("2", storedFormat(id));
        refusedAsIncompatible(oldUri, id, "fmt-ann", "2");
        assertEquals("2", storedFormat(id), "left as it is");
        resumesOn(nextUri, id, "fmt-ann");
    }

    @Test
    void aSessionOfAnOlderFormatWithNoMigrationIsRefusedByTheNewerNodeAndStillResumesOnTheOlderOne() throws Exception {
        String id = sessionOn(oldUri, "fmt-ben");
        assertEquals(StoredFormat.CURRENT, storedFormat(id));
        refusedAsIncompatible(nextUri, id, "fmt-ben", StoredFormat.CURRENT);
        assertEquals(StoredFormat.CURRENT, storedFormat(id), "left as it is");
        resumesOn(oldUri, id, "fmt-ben");
    }
}
