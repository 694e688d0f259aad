package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.glassfish.tyrus.client.ClientManager;

/**
 * An independent WebSocket client for integration tests (Tyrus, not Netty): connects with a token,
 * decodes every frame with the shared codec into an inbox, and waits on it with deadlines.
 */
public final class TestClient implements AutoCloseable {

    /** How long any single wait may take before the test fails. */
    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static final ClientManager CLIENT = ClientManager.createClient();
    private static final WireCodec CODEC = new WireCodec();

    private final LinkedBlockingQueue<ServerMessage> inbox = new LinkedBlockingQueue<>();
    private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
    private final List<String> raw = new ArrayList<>();
    private Session session;

    private TestClient() {}

    /** Connects with the browser form: subprotocols {@code gateway.v1, bearer.<token>}. */
    public static TestClient connect(URI uri, String token) {
        return connect(uri, browserForm(token));
    }

    /**
     * Connects with the browser form, or nothing when the upgrade is refused: for polling until the
     * gateway lets {@code token} in (a key reloaded, a slot freed).
     */
    public static Optional<TestClient> connectIfAccepted(URI uri, String token) {
        try {
            return Optional.of(tryConnect(uri, browserForm(token)));
        } catch (DeploymentException | IOException refused) {
            return Optional.empty();
        }
    }

    private static ClientEndpointConfig browserForm(String token) {
        return ClientEndpointConfig.Builder.create()
                .preferredSubprotocols(List.of("gateway.v1", "bearer." + token))
                .build();
    }

    /** Connects with the {@code Authorization: Bearer} header form. */
    public static TestClient connectWithHeader(URI uri, String token) {
        return connectWithHeader(CLIENT, uri, token);
    }

    /** Like {@link #connectWithHeader(URI, String)}, through {@code client} (one set up for {@code wss://}, say). */
    public static TestClient connectWithHeader(ClientManager client, URI uri, String token) {
        return connect(
                client,
                uri,
                ClientEndpointConfig.Builder.create()
                        .configurator(new ClientEndpointConfig.Configurator() {
                            @Override
                            public void beforeRequest(Map<String, List<String>> headers) {
                                headers.put("Authorization", List.of("Bearer " + token));
                            }
                        })
                        .build());
    }

    /** Connects with any client config; fails the test if the upgrade is refused. */
    public static TestClient connect(URI uri, ClientEndpointConfig config) {
        return connect(CLIENT, uri, config);
    }

    private static TestClient connect(ClientManager manager, URI uri, ClientEndpointConfig config) {
        try {
            return tryConnect(manager, uri, config);
        } catch (DeploymentException | IOException e) {
            throw new AssertionError("connection to " + uri + " failed", e);
        }
    }

    /** Connects, letting a refused upgrade surface as the exception. */
    public static TestClient tryConnect(URI uri, ClientEndpointConfig config) throws DeploymentException, IOException {
        return tryConnect(CLIENT, uri, config);
    }

    /** Like {@link #tryConnect(URI, ClientEndpointConfig)}, through {@code manager}. */
    public static TestClient tryConnect(ClientManager manager, URI uri, ClientEndpointConfig config)
            throws DeploymentException, IOException {
        TestClient client = new TestClient();
        client.session = manager.connectToServer(client.endpoint(), config, uri);
        return client;
    }

    private Endpoint endpoint() {
        return new Endpoint() {
            @Override
            public void onOpen(Session session, EndpointConfig config) {
                // Here, not after connectToServer returns: by then the server may already have
                // closed the connection (a refused resume), and Tyrus refuses settings on a closed session.
                session.setMaxTextMessageBufferSize(16 * 1024 * 1024);
                // No client-side idle timeout: Tyrus would schedule it on its container's executor at
                // every send, and that executor can already be shut down (RejectedExecutionException).
                session.setMaxIdleTimeout(0);
                session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> {
                    synchronized (raw) {
                        raw.add(text);
                    }
                    inbox.add(CODEC.decodeServer(text));
                });
            }

            @Override
            public void onClose(Session session, CloseReason reason) {
                closed.complete(reason);
            }

            @Override
            public void onError(Session session, Throwable error) {
                closed.completeExceptionally(error);
            }
        };
    }

    /** The next message, waiting up to {@link #TIMEOUT}. */
    public ServerMessage next() {
        try {
            ServerMessage message = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (message == null) {
                fail("no message within " + TIMEOUT + (closed.isDone() ? " (closed: " + closeReasonText() + ")" : ""));
            }
            return message;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next message, which must be a {@code type}. */
    public <T extends ServerMessage> T expect(Class<T> type) {
        return assertInstanceOf(type, next());
    }

    /** Reads up to the next {@code request} of the worker (contract 7.3) and returns it. */
    public ServerMessage.Request awaitRequest() {
        List<ServerMessage> asked = until(m -> m instanceof ServerMessage.Request);
        return (ServerMessage.Request) asked.get(asked.size() - 1);
    }

    /** Messages up to and including the first that matches {@code last}. */
    public List<ServerMessage> until(Predicate<ServerMessage> last) {
        List<ServerMessage> messages = new ArrayList<>();
        while (true) {
            ServerMessage message = next();
            messages.add(message);
            if (last.test(message)) {
                return messages;
            }
        }
    }

    /** A message already received or arriving within {@code wait}, without failing when none does. */
    public ServerMessage poll(Duration wait) throws InterruptedException {
        return inbox.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The text of every frame received so far, in arrival order, as it came off the wire. */
    public List<String> rawFrames() {
        synchronized (raw) {
            return List.copyOf(raw);
        }
    }

    /** Everything received and not yet taken, without waiting. */
    public List<ServerMessage> drain() {
        List<ServerMessage> messages = new ArrayList<>();
        inbox.drainTo(messages);
        return messages;
    }

    /** Whether nothing is waiting in the inbox right now. */
    public boolean inboxEmpty() {
        return inbox.isEmpty();
    }

    public void send(ClientMessage message) {
        sendText(CODEC.encode(message));
    }

    public void sendText(String text) {
        try {
            session.getBasicRemote().sendText(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RejectedExecutionException e) {
            // Tyrus restarts its idle timer after the frame is written; when the server's answer to
            // that frame was to close (an `end`), the close may already have shut the timer's executor
            // down. The frame went out (had the write failed, the test's next expectation would find
            // no answer): what the server does with it is the test's to check.
        }
    }

    /**
     * Sends one fragment of a text message: the first call opens a text frame, later ones are
     * continuation frames, and {@code last} ends the message.
     */
    public void sendPartial(String part, boolean last) {
        try {
            session.getBasicRemote().sendText(part, last);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void sendBinary(byte[] bytes) {
        try {
            session.getBasicRemote().sendBinary(ByteBuffer.wrap(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The subprotocol the server selected. */
    public String subprotocol() {
        return session.getNegotiatedSubprotocol();
    }

    /** Waits for the server to close the connection and returns its close reason. */
    public CloseReason awaitClose() {
        try {
            return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("connection did not close cleanly within " + TIMEOUT, e);
        }
    }

    /** The close code, once closed. */
    public int awaitCloseCode() {
        return awaitClose().getCloseCode().getCode();
    }

    public boolean isOpen() {
        return session.isOpen() && !closed.isDone();
    }

    private String closeReasonText() {
        CloseReason reason = closed.getNow(null);
        return reason == null ? "error" : reason.getCloseCode().getCode() + " " + reason.getReasonPhrase();
    }

    /** Closes with 1000 if still open. */
    @Override
    public void close() {
        try {
            if (session != null && session.isOpen()) {
                session.close();
            }
        } catch (IOException e) {
            // already gone
        }
    }
}
