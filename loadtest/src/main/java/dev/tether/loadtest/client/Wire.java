package dev.tether.loadtest.client;

import dev.tether.gateway.async.Unwatched;
import dev.tether.loadtest.audit.ConnectionAudit;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.glassfish.tyrus.client.ClientManager;
import org.glassfish.tyrus.client.ClientProperties;

/**
 * One WebSocket connection of a {@link VirtualUser} (Tyrus endpoint): authenticates with an
 * {@code Authorization: Bearer} header, hands every text frame and the close to its user. A
 * user's later connection is a new {@code Wire}, so frames of an old one are recognised and
 * ignored; so are those of a connection the user has cut ({@link #abandoned}), even while the
 * network still delivers them. Tyrus calls it on its own threads; the fields the user sets are
 * guarded by the user's lock.
 */
final class Wire extends Endpoint {

    private static final ClientManager CLIENT = sharedClient();
    private static final Duration FLUSH_WAIT = Duration.ofSeconds(2);

    private final VirtualUser user;
    final CompletableFuture<Void> ready;
    /** This connection's view of the session's stream, for the audit. */
    final ConnectionAudit connection;
    /** The session a resume asks for; null for a new session. */
    final String askedFor;
    /** Set (under the user's lock) when this user ends the connection on purpose. */
    volatile boolean expectedEnd;
    /** The user cut it: nothing it delivers counts any more. */
    boolean abandoned;
    /** Its {@code session_ready} came. */
    boolean sawReady;
    /** Cut it again after the first replayed event, while more are due. */
    boolean replayCutArmed;
    /** When its last text frame came (System.nanoTime), for the story of an unexpected close. */
    long lastFrameNanos = System.nanoTime();
    /** With several gateway nodes: the node this connection was opened to. */
    String node;

    private volatile Session session;
    /** The newest frame handed to Tyrus; a clean close goes out after it is written. */
    private volatile CompletableFuture<Void> lastSend = CompletableFuture.completedFuture(null);

    Wire(VirtualUser user, ConnectionAudit connection, String askedFor, CompletableFuture<Void> ready) {
        this.user = user;
        this.connection = connection;
        this.askedFor = askedFor;
        this.ready = ready;
    }

    /** The one Tyrus client of this JVM. */
    static ClientManager client() {
        return CLIENT;
    }

    private static ClientManager sharedClient() {
        ClientManager client = ClientManager.createClient();
        // One selector and worker pool for every connection instead of a Grizzly transport each.
        client.getProperties().put(ClientProperties.SHARED_CONTAINER, true);
        client.getProperties().put(ClientProperties.SHARED_CONTAINER_IDLE_TIMEOUT, 5);
        return client;
    }

    /** Connects (blocking until the upgrade is answered). */
    void open(URI uri, String token, Duration timeout) throws Refusal {
        ClientEndpointConfig config = ClientEndpointConfig.Builder.create()
                .configurator(new ClientEndpointConfig.Configurator() {
                    @Override
                    public void beforeRequest(Map<String, List<String>> headers) {
                        headers.put("Authorization", List.of("Bearer " + token));
                    }
                })
                .build();
        config.getUserProperties().put(ClientProperties.HANDSHAKE_TIMEOUT, timeout.toMillis());
        try {
            CLIENT.connectToServer(this, config, uri);
        } catch (DeploymentException | IOException | RuntimeException e) {
            throw Refusal.of(e);
        }
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        this.session = session;
        session.setMaxTextMessageBufferSize(16 * 1024 * 1024);
        session.setMaxIdleTimeout(0);
        user.onOpen(this);
        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> user.onFrame(this, text));
    }

    @Override
    public void onClose(Session session, CloseReason reason) {
        user.onClose(this, reason.getCloseCode().getCode());
    }

    @Override
    public void onError(Session session, Throwable thrown) {
        // A reset or a failed write: onClose follows with 1006.
    }

    void send(String text) {
        Session s = session;
        if (s == null || !s.isOpen()) {
            return;
        }
        try {
            CompletableFuture<Void> sent = new CompletableFuture<>();
            s.getAsyncRemote().sendText(text, result -> {
                if (result.isOK()) {
                    sent.complete(null);
                } else {
                    sent.completeExceptionally(result.getException());
                }
            });
            lastSend = sent;
        } catch (RuntimeException e) {
            // closing under us: the close handler takes it from here
        }
    }

    /**
     * Closes cleanly once the frames already sent are written (or after {@link #FLUSH_WAIT}), as a
     * real client's close would, so that a close right after a send cannot overtake the send. Never
     * blocks: callers hold their user's lock, which Tyrus's threads need to deliver frames.
     */
    void close(int code, String why) {
        Session s = session;
        if (s == null) {
            return;
        }
        Unwatched.whenComplete(
                lastSend.completeOnTimeout(null, FLUSH_WAIT.toMillis(), TimeUnit.MILLISECONDS),
                (written, failed) -> closeNow(s, code, why));
    }

    private static void closeNow(Session s, int code, String why) {
        try {
            s.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), why));
        } catch (IOException | RuntimeException e) {
            // already closed
        }
    }
}
