package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.metrics.MeterNames;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import io.netty.util.concurrent.EventExecutor;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The read-only viewer connections of one {@link Session} (contract 7.4): at most {@code
 * sessions.max_viewers_per_session} of them, each with its own token watch and frame rate. Viewers
 * are not the session's attached connection: they never replace the owner's connection or one
 * another, the reconnect window and the detach logic ignore them, their {@code ack} trims nothing,
 * and their writability never pauses the worker (a viewer that does not read is cut by the
 * outbound guard like any slow connection, and the session goes on). Everything a viewer may send
 * is answered here, so the session's state machine never sees it.
 *
 * <p><b>Threading:</b> places are reserved with {@link #reserve} at the upgrade, from any thread
 * (an atomic count); everything else is confined to the session's event loop. Iterating yields the
 * connections of the attached viewers, for the session's history to reach them.
 */
public final class Viewers implements Iterable<Connection> {

    /** One place among a session's viewers: reserved at the upgrade, given back exactly once. */
    public static final class Slot {
        private final AtomicInteger taken;
        private final AtomicBoolean released = new AtomicBoolean();

        private Slot(AtomicInteger taken) {
            this.taken = taken;
        }

        /** Gives the place back (idempotent). Any thread. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                taken.decrementAndGet();
            }
        }
    }

    private record Viewer(Slot slot, TokenWatch tokens, FrameRateGuard rate) {}

    private final String sessionId;
    private final String owner;
    private final EventExecutor executor;
    private final SessionContext context;
    private final int max;
    private final AtomicInteger taken = new AtomicInteger();
    private final Map<Connection, Viewer> attached = new LinkedHashMap<>();
    private final GatewayMetrics metrics;

    Viewers(String sessionId, String owner, EventExecutor executor, SessionContext context) {
        this.sessionId = requireNonNull(sessionId, "sessionId");
        this.owner = requireNonNull(owner, "owner");
        this.executor = requireNonNull(executor, "executor");
        this.context = requireNonNull(context, "context");
        this.max = context.config().maxViewersPerSession();
        this.metrics = context.metrics();
    }

    /** A place for one more viewer, or null when {@code sessions.max_viewers_per_session} are taken. Any thread. */
    Slot reserve() {
        if (taken.incrementAndGet() > max) {
            taken.decrementAndGet();
            return null;
        }
        return new Slot(taken);
    }

    /** Viewers attached now. Any thread (a snapshot). */
    int size() {
        return Math.max(0, taken.get());
    }

    /** {@code connection} in {@code slot} watches from now on (after its {@code session_ready} and replay). */
    void add(Connection connection, Slot slot) {
        assert executor.inEventLoop();
        TokenWatch tokens = new TokenWatch(sessionId, owner, executor, context, true);
        tokens.watch(connection);
        attached.put(
                connection,
                new Viewer(slot, tokens, new FrameRateGuard(sessionId, owner, context.abuse(), context.ticker())));
        metrics.viewerAttached();
    }

    /** Whether {@code connection} is one of the attached viewers. */
    boolean has(Connection connection) {
        return attached.containsKey(connection);
    }

    /**
     * {@code connection} went away: if it was a viewer its place is free again (a cut by the outbound
     * guard is counted as {@code slow}).
     *
     * @return whether it was a viewer
     */
    boolean detach(Connection connection) {
        assert executor.inEventLoop();
        return remove(connection, connection.cutAsSlowConsumer() ? MeterNames.VIEWER_CUT_SLOW : null);
    }

    /** Closes every viewer with {@code close}; {@code cutReason} is a {@code MeterNames.VIEWER_CUT_*} constant. */
    void closeAll(CloseCode close, String cutReason) {
        assert executor.inEventLoop();
        for (Connection connection : List.copyOf(attached.keySet())) {
            connection.close(close);
            remove(connection, cutReason);
        }
    }

    /** Sends a connection-level message to every viewer. */
    void send(ServerMessage message) {
        for (Connection connection : attached.keySet()) {
            connection.send(message);
        }
    }

    /**
     * A frame from {@code connection}, if it is a viewer: {@code ping} and {@code auth_refresh} work
     * as for the owner, {@code ack} is ignored (the replay buffer is the owner's), everything else
     * ({@code message}, {@code interrupt}, {@code respond}, {@code end}, and types added later) is
     * answered {@code read_only} and changes nothing.
     *
     * @return whether {@code connection} is a viewer (the frame was handled here)
     */
    boolean receive(Connection connection, ClientMessage message) {
        Viewer viewer = attached.get(connection);
        if (viewer == null) {
            return false;
        }
        String id = message instanceof ClientMessage.Message m ? m.id() : null;
        if (!viewer.rate().admit(connection, id)) {
            return true;
        }
        if (message instanceof ClientMessage.Ping) {
            connection.send(new ServerMessage.Pong());
        } else if (message instanceof ClientMessage.AuthRefresh refresh) {
            viewer.tokens().refresh(connection, refresh.token());
        } else if (!(message instanceof ClientMessage.Ack)) {
            connection.send(new ServerMessage.ErrorFrame(
                    ErrorCode.READ_ONLY, "this connection is a viewer: it may not " + verb(message), id, null));
        }
        return true;
    }

    /** A ping, pong or fragment from {@code connection}, if it is a viewer; counted against its own rate. */
    boolean control(Connection connection, ControlFrame frame) {
        Viewer viewer = attached.get(connection);
        if (viewer == null) {
            return false;
        }
        if (viewer.rate().admit(connection, null) && frame.kind() == ControlFrame.Kind.PING) {
            connection.pong(frame.payload());
        }
        return true;
    }

    /** An undecodable frame from {@code connection}, if it is a viewer: answered like the owner's. */
    boolean reject(Connection connection, ServerMessage.ErrorFrame error) {
        Viewer viewer = attached.get(connection);
        if (viewer == null) {
            return false;
        }
        if (viewer.rate().admit(connection, error.id())) {
            connection.send(error);
        }
        return true;
    }

    @Override
    public Iterator<Connection> iterator() {
        return attached.keySet().iterator();
    }

    private boolean remove(Connection connection, String cutReason) {
        Viewer viewer = attached.remove(connection);
        if (viewer == null) {
            return false;
        }
        viewer.tokens().stop();
        viewer.slot().release();
        metrics.viewerDetached(cutReason);
        return true;
    }

    private static String verb(ClientMessage message) {
        if (message instanceof ClientMessage.Message) {
            return "send messages";
        } else if (message instanceof ClientMessage.Interrupt) {
            return "interrupt";
        } else if (message instanceof ClientMessage.End) {
            return "end the session";
        } else if (message instanceof ClientMessage.Extend) {
            return "extend the session";
        } else if (message instanceof ClientMessage.Respond) {
            return "answer requests";
        }
        return "do this";
    }
}
