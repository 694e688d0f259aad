package dev.tether.loadtest.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.loadtest.process.RunningProcess;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.NettyLeaks;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.glassfish.tyrus.client.ClientManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The baseline server, launched as its own JVM and in this one, answers the steady workload's frames
 * and leaks no buffer doing it.
 */
class BaselineServerIT {

    private static final WireCodec CODEC = new WireCodec();

    @Test
    void launchedAsItsOwnJvmItAnswersTheSteadyWorkloadAndLeaksNothing(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("baseline.log");
        try (RunningProcess server =
                BaselineServer.launch(null, List.of("-Dio.netty.leakDetection.level=paranoid", "-Xmx64m"), log, 0)) {
            assertTrue(
                    ProcessHandle.of(server.pid()).map(ProcessHandle::isAlive).orElse(false));
            assertTrue(server.pid() != ProcessHandle.current().pid());
            assertEquals("/ws", server.wsUri().getPath());
            exchange(server.wsUri());
            // The buffers of that connection, closed now, are garbage in the server's JVM: collect
            // them there, and let the next connection's allocations make its detector report them.
            NettyLeaks.collectGarbageIn(server.pid(), NettyLeaks.DEADLINE);
            exchange(server.wsUri());
        }
        String output = Files.readString(log);
        assertEquals(List.of(), NettyLeaks.reportsIn(output), output);
    }

    /** In this JVM, where the buffers it leaked would be reported here. */
    @Test
    void inProcessItAnswersTheSameWayAndLeaksNothing() throws Exception {
        try (BaselineServer server = BaselineServer.start("127.0.0.1", 0)) {
            exchange(URI.create("ws://127.0.0.1:" + server.address().getPort() + BaselineServer.PATH));
        }
        NettyLeaks.assertNone("while the in-process baseline server ran");
    }

    private static void exchange(URI uri) throws Exception {
        {
            Inbox inbox = new Inbox();
            Session session = connect(uri, inbox);
            try {
                assertEquals("gateway.v1", session.getNegotiatedSubprotocol());

                var ready = assertInstanceOf(ServerMessage.SessionReady.class, inbox.next());
                assertFalse(ready.resumed());
                assertEquals(0, ready.lastSeq());
                assertEquals(SessionState.IDLE, ready.state());
                assertTrue(ready.tokenExpiresAt() > System.currentTimeMillis() / 1000 + 365L * 24 * 3600);

                for (int i = 1; i <= 3; i++) {
                    session.getBasicRemote()
                            .sendText(CODEC.encode(new ClientMessage.Message("m" + i, new TextNode("hello " + i))));
                    var accepted = assertInstanceOf(ServerMessage.Accepted.class, inbox.next());
                    assertEquals("m" + i, accepted.id());
                    assertFalse(accepted.duplicate());
                    var event = assertInstanceOf(ServerMessage.Event.class, inbox.next());
                    assertEquals(i, event.seq());
                    assertEquals("result", event.event().get("type").asText());
                    assertEquals("m" + i, event.event().get("id").asText());
                    assertEquals("hello " + i, event.event().get("text").asText());
                }

                var object = CODEC.mapper().createObjectNode().put("text", "from an object");
                session.getBasicRemote().sendText(CODEC.encode(new ClientMessage.Message("m4", object)));
                assertInstanceOf(ServerMessage.Accepted.class, inbox.next());
                var fromObject = assertInstanceOf(ServerMessage.Event.class, inbox.next());
                assertEquals(4, fromObject.seq());
                assertEquals("from an object", fromObject.event().get("text").asText());

                session.getBasicRemote().sendText(CODEC.encode(new ClientMessage.Ack(3)));
                session.getBasicRemote().sendText(CODEC.encode(new ClientMessage.Ping()));
                assertInstanceOf(ServerMessage.Pong.class, inbox.next(), "ack is ignored, ping answered");

                session.getBasicRemote().sendText("{not json");
                var error = assertInstanceOf(ServerMessage.ErrorFrame.class, inbox.next());
                assertEquals(ErrorCode.INVALID_JSON, error.code());
            } finally {
                session.close();
            }
            assertEquals(1000, inbox.closeCode.get(10, TimeUnit.SECONDS), "the server closed the connection");
        }
    }

    @Test
    void closeStopsTheProcess() {
        RunningProcess server = BaselineServer.launch(null);
        ProcessHandle handle = ProcessHandle.of(server.pid()).orElseThrow();
        server.close();
        assertFalse(handle.isAlive());
    }

    @Test
    void withDeltasItStreamsLikeTheEchoWorker() throws Exception {
        try (BaselineServer server = BaselineServer.start("127.0.0.1", 0, 2)) {
            Inbox inbox = new Inbox();
            Session session =
                    connect(URI.create("ws://127.0.0.1:" + server.address().getPort() + BaselineServer.PATH), inbox);
            try {
                assertInstanceOf(ServerMessage.SessionReady.class, inbox.next());
                session.getBasicRemote().sendText(CODEC.encode(new ClientMessage.Message("a", new TextNode("abcd"))));
                assertInstanceOf(ServerMessage.Accepted.class, inbox.next());
                List<String> events = new ArrayList<>();
                for (int i = 1; i <= 3; i++) {
                    var event = assertInstanceOf(ServerMessage.Event.class, inbox.next());
                    assertEquals(i, event.seq());
                    events.add(event.event().get("type").asText() + ":"
                            + event.event().get("text").asText());
                }
                assertEquals(List.of("delta:ab", "delta:cd", "result:abcd"), events);
            } finally {
                session.close();
            }
        }
    }

    @Test
    void endIsAnsweredAsTheGatewayAnswersIt() throws Exception {
        try (BaselineServer server = BaselineServer.start("127.0.0.1", 0)) {
            Inbox inbox = new Inbox();
            Session session =
                    connect(URI.create("ws://127.0.0.1:" + server.address().getPort() + BaselineServer.PATH), inbox);
            assertInstanceOf(ServerMessage.SessionReady.class, inbox.next());
            session.getBasicRemote().sendText(CODEC.encode(new ClientMessage.End()));
            var ended = assertInstanceOf(ServerMessage.Status.class, inbox.next());
            assertEquals(SessionState.ENDED, ended.state());
            assertEquals("client_end", ended.reason());
            assertEquals(1000, inbox.closeCode.get(10, TimeUnit.SECONDS));
        }
    }

    private static Session connect(URI uri, Inbox inbox) throws Exception {
        ClientEndpointConfig config = ClientEndpointConfig.Builder.create()
                .preferredSubprotocols(List.of("gateway.v1", "bearer.ignored"))
                .build();
        return ClientManager.createClient()
                .connectToServer(
                        new Endpoint() {
                            @Override
                            public void onOpen(Session session, EndpointConfig endpointConfig) {
                                session.setMaxIdleTimeout(0);
                                session.addMessageHandler(
                                        String.class, (MessageHandler.Whole<String>) inbox.frames::add);
                            }

                            @Override
                            public void onClose(Session session, CloseReason reason) {
                                inbox.closeCode.complete(reason.getCloseCode().getCode());
                            }
                        },
                        config,
                        uri);
    }

    /** Frames as they arrive, decoded on demand; each wait has a deadline. */
    private static final class Inbox {
        final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

        ServerMessage next() throws InterruptedException {
            String frame = frames.poll(10, TimeUnit.SECONDS);
            assertNotNull(frame, "no frame within 10 s");
            return CODEC.decodeServer(frame);
        }
    }
}
