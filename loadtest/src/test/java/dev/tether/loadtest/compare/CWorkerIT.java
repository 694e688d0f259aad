package dev.tether.loadtest.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.TestGatewayConfig;
import dev.tether.loadtest.gateway.GatewayProcess;
import dev.tether.loadtest.token.HmacTokenMinter;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.glassfish.tyrus.client.ClientManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The C reference worker, built with this machine's C compiler: on its own (both modes, lines
 * split across writes), and behind a real gateway process that runs it as its subprocess worker,
 * driven by Tyrus (an independent client).
 */
class CWorkerIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String SECRET = "c-worker-it-secret-0123456789abcdef0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEXT = "h\u00e9llo w\u00f6rld \uD83D\uDE00 \"quoted\"";

    @Test
    void speaksTheWorkerProtocolAndWebsocketdsLineMode(@TempDir Path dir) throws Exception {
        Path binary = CWorker.build(dir);
        Process gatewayMode = new ProcessBuilder(binary.toString()).start();
        try (BufferedReader out = reader(gatewayMode)) {
            assertEquals("{\"type\":\"ready\"}", line(out), "ready first");
            OutputStream in = gatewayMode.getOutputStream();
            in.write("{\"type\":\"session\",\"session_id\":\"S\",\"subject\":\"a\"}\n{\"type\":\"mess"
                    .getBytes(StandardCharsets.UTF_8));
            in.flush();
            String message = message("m1", TEXT, 4);
            in.write((message.substring("{\"type\":\"mess".length()) + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertTurn(out, "m1", 4);
            in.write("{\"type\":\"message\",\"id\":\"m2\",\"data\":\"abc\"}\n{\"type\":\"shutdown\"}\n"
                    .getBytes(StandardCharsets.UTF_8));
            in.flush();
            List<JsonNode> m2 = List.of(json(line(out)), json(line(out)), json(line(out)), json(line(out)));
            assertEquals(
                    List.of("a", "b", "c", "abc"),
                    m2.stream().map(e -> e.path("text").asText()).toList(),
                    "a text, 3 deltas by default");
            assertTrue(gatewayMode.waitFor(10, TimeUnit.SECONDS), "exits on shutdown");
            assertEquals(0, gatewayMode.exitValue());
        } finally {
            gatewayMode.destroyForcibly();
        }
        Process websocketdMode = new ProcessBuilder(binary.toString(), "--websocketd").start();
        try (BufferedReader out = reader(websocketdMode)) {
            OutputStream in = websocketdMode.getOutputStream();
            in.write("{\"type\":\"message\",\"id\":\"w1\",\"data\":\"xyz\"}\nnot json\n"
                    .getBytes(StandardCharsets.UTF_8));
            in.flush();
            assertEquals(
                    "{\"type\":\"delta\",\"id\":\"w1\",\"text\":\"x\"}",
                    line(out),
                    "no ready line: the answer comes first");
            line(out);
            line(out);
            assertEquals("{\"type\":\"result\",\"id\":\"w1\",\"text\":\"xyz\"}", line(out));
            assertEquals("error", json(line(out)).path("type").asText(), "a frame that is not a message is answered");
            in.close();
            assertTrue(websocketdMode.waitFor(10, TimeUnit.SECONDS), "exits at the end of its input");
            assertEquals(0, websocketdMode.exitValue());
        } finally {
            websocketdMode.destroyForcibly();
        }
    }

    @Test
    void runsAsTheGatewaysSubprocessWorker(@TempDir Path dir) throws Exception {
        Path binary = CWorker.build(dir.resolve("bin"));
        Path config = TestGatewayConfig.processWorkers(dir.resolve("c-worker-small.yaml"), binary, 2, 10);
        GatewayProcess gateway =
                GatewayProcess.launch(GatewayProcess.Launch.of(ROOT.resolve("gateway/target/gateway.jar"), config)
                        .withEnv(Map.of("TETHER_JWT_SECRET", SECRET))
                        .withLogFile(dir.resolve("gateway.log"))
                        .withAwaitReady(true)
                        .withStartTimeout(Duration.ofSeconds(90)));
        try {
            assertTrue(gateway.awaitWarm(2, Duration.ofSeconds(60)), "two warm C workers: they said ready");
            assertTrue(
                    ProcessHandle.of(gateway.pid())
                            .orElseThrow()
                            .descendants()
                            .anyMatch(p -> p.info()
                                    .command()
                                    .map(c -> c.endsWith("tether-echo-worker"))
                                    .orElse(false)),
                    "the workers are real subprocesses of the gateway");
            BlockingQueue<String> frames = new LinkedBlockingQueue<>();
            CompletableFuture<Integer> closed = new CompletableFuture<>();
            String token =
                    new HmacTokenMinter(SECRET, Duration.ofMinutes(5), Clock.systemUTC()).token(0, "c-worker-it");
            // The token goes in the subprotocol offer (the gateway's other way to take one).
            ClientEndpointConfig endpointConfig = ClientEndpointConfig.Builder.create()
                    .preferredSubprotocols(List.of("gateway.v1", "bearer." + token))
                    .build();
            Session ws = ClientManager.createClient()
                    .connectToServer(
                            new Endpoint() {
                                @Override
                                public void onOpen(Session session, EndpointConfig c) {
                                    session.addMessageHandler(String.class, (MessageHandler.Whole<String>) frames::add);
                                }

                                @Override
                                public void onClose(Session session, CloseReason reason) {
                                    closed.complete(reason.getCloseCode().getCode());
                                }
                            },
                            endpointConfig,
                            gateway.wsUri());
            JsonNode ready = json(next(frames));
            assertEquals("session_ready", ready.path("type").asText(), ready.toString());
            assertEquals("idle", ready.path("state").asText(), "a warm worker at once");
            ws.getBasicRemote().sendText(message("m1", TEXT, 5));
            List<String> deltas = new ArrayList<>();
            JsonNode result = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (result == null && System.nanoTime() < deadline) {
                JsonNode frame = json(next(frames));
                if (!"event".equals(frame.path("type").asText())) {
                    continue;
                }
                JsonNode event = frame.path("event");
                assertEquals("m1", event.path("id").asText());
                if ("delta".equals(event.path("type").asText())) {
                    deltas.add(event.path("text").asText());
                } else if ("result".equals(event.path("type").asText())) {
                    result = event;
                }
            }
            assertTrue(result != null, "the turn's result came");
            assertEquals(5, deltas.size(), deltas.toString());
            assertEquals(TEXT, String.join("", deltas), "the deltas are the text, cut only between characters");
            assertEquals(TEXT, result.path("text").asText());
            ws.getBasicRemote().sendText("{\"type\":\"end\"}");
            assertEquals(1000, closed.get(30, TimeUnit.SECONDS));
        } finally {
            gateway.close();
        }
    }

    /** A message line (and frame), its fields in the protocol's order: {@code type} first. */
    private static String message(String id, String text, int deltas) {
        var node = JSON.createObjectNode().put("type", "message").put("id", id);
        node.putObject("data").put("text", text).put("deltas", deltas);
        return node.toString();
    }

    private static void assertTurn(BufferedReader out, String id, int deltas) throws Exception {
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < deltas; i++) {
            JsonNode delta = json(line(out));
            assertEquals("delta", delta.path("type").asText());
            assertEquals(id, delta.path("id").asText());
            joined.append(delta.path("text").asText());
        }
        JsonNode result = json(line(out));
        assertEquals("result", result.path("type").asText());
        assertEquals(TEXT, result.path("text").asText());
        assertEquals(TEXT, joined.toString(), "the deltas are the text, cut only between characters");
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }

    /** The next line, or a failure after 10 s (a worker that does not answer must not hang the test: it is killed). */
    private static String line(BufferedReader in) throws Exception {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return in.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String text;
        try {
            text = line.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            ProcessHandle.current()
                    .children()
                    .filter(c -> c.info()
                            .command()
                            .map(x -> x.endsWith("tether-echo-worker"))
                            .orElse(false))
                    .forEach(ProcessHandle::destroyForcibly);
            throw new AssertionError("no line from the worker within 10 s", e);
        }
        if (text == null) {
            fail("the worker's output ended");
        }
        return text;
    }

    private static String next(BlockingQueue<String> frames) throws InterruptedException {
        String frame = frames.poll(30, TimeUnit.SECONDS);
        if (frame == null) {
            fail("no frame within 30 s");
        }
        return frame;
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }
}
