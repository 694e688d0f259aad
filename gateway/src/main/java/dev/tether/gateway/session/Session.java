package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.auth.TokenRejectedException;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One user's session: its worker, its numbered history, its inbound queue and the one connection
 * attached to it at a time.
 *
 * <p><b>Threading:</b> confined to one event loop ({@link #executor()}). Every method except the
 * accessors of immutable fields must run there; callers on other threads (the channel handlers of a
 * connection on another loop, worker output threads, timers) hand work over with
 * {@code executor().execute(...)}. That confinement is what makes a takeover atomic: attaches run
 * one after another, so however many resumes race, exactly one connection ends up attached and
 * each sees every seq once.
 */
public final class Session {

    private static final Logger log = LoggerFactory.getLogger(Session.class);

    private final String id;
    private final String subject;
    private final EventExecutor executor;
    private final SessionContext context;
    private final ReplayBuffer history;
    private final MessageIds messageIds;
    private final ArrayDeque<ClientMessage.Message> queue = new ArrayDeque<>();

    private SessionState state = SessionState.PREPARING;
    private Worker worker;
    private Connection attached;
    private ScheduledFuture<?> reconnectTimer;
    private EndReason endReason;

    Session(String id, String subject, EventExecutor executor, SessionContext context) {
        this.id = requireNonNull(id, "id");
        this.subject = requireNonNull(subject, "subject");
        this.executor = requireNonNull(executor, "executor");
        this.context = requireNonNull(context, "context");
        this.history = new ReplayBuffer(context.config().replayMaxMessages(), context.config().replayMaxBytes());
        this.messageIds = new MessageIds(context.config().maxTrackedMessageIds());
    }

    /** The session id. Any thread. */
    public String id() {
        return id;
    }

    /** The owner: the {@code sub} of the token that created the session. Any thread. */
    public String subject() {
        return subject;
    }

    /** The event loop this session is confined to. Any thread. */
    public EventExecutor executor() {
        return executor;
    }


    /**
     * Starts the session with the worker that {@code workerStage} yields. A worker that is already
     * there starts the session idle; otherwise it starts with {@code status preparing} and turns
     * idle when the worker is ready.
     */
    void start(CompletionStage<Worker> workerStage) {
        executor.execute(() -> onStart(workerStage));
    }

    private void onStart(CompletionStage<Worker> workerStage) {
        assert executor.inEventLoop();
        var future = workerStage.toCompletableFuture();
        if (future.isDone() && !future.isCompletedExceptionally()) {
            bindWorker(future.join());
            state = SessionState.IDLE;
            log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject)
                    .addKeyValue("worker", worker.describe()).log("session started");
            return;
        }
        emitStatus(SessionState.PREPARING, null);
        workerStage.whenComplete((ready, failure) -> executor.execute(() -> {
            if (failure != null) {
                log.atWarn().addKeyValue("session", id).addKeyValue("subject", subject)
                        .log("no worker for session: {}", failure.toString());
                onEnd(EndReason.WORKER_FAILED);
                return;
            }
            if (state == SessionState.ENDED) {
                ready.stop();
                return;
            }
            bindWorker(ready);
            log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject)
                    .addKeyValue("worker", worker.describe()).log("session started");
            dispatchNext();
        }));
    }

    /**
     * Attaches {@code connection}, replacing any other one, and sends it {@code session_ready} and,
     * on a resume, everything after {@code lastSeq}. A resume with {@code lastSeq} beyond the
     * newest seq is refused with 4009 and leaves the current connection alone.
     */
    public void attach(Connection connection, long lastSeq, boolean resumed) {
        executor.execute(() -> onAttach(connection, lastSeq, resumed));
    }

    private void onAttach(Connection connection, long lastSeq, boolean resumed) {
        assert executor.inEventLoop();
        if (state == SessionState.ENDED) {
            connection.send(new ServerMessage.Error(ErrorCode.SESSION_EXPIRED, "session has ended", null, endReason.wire()));
            connection.close(CloseCode.SESSION_NOT_FOUND);
            return;
        }
        if (lastSeq > history.newestSeq()) {
            connection.send(ServerMessage.Error.of(ErrorCode.INVALID_SEQUENCE,
                    "last_seq " + lastSeq + " is beyond the newest seq " + history.newestSeq()));
            connection.close(CloseCode.INVALID_SEQUENCE);
            return;
        }
        Connection previous = attached;
        if (previous != null && previous != connection) {
            previous.send(new ServerMessage.SessionReplaced());
            previous.close(CloseCode.SESSION_REPLACED);
            log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject)
                    .log("connection {} replaced by {}", previous, connection);
        }
        attached = connection;
        cancelReconnectTimer();
        connection.send(new ServerMessage.SessionReady(id, resumed, history.newestSeq(),
                connection.token().expiresAt().getEpochSecond(), state));
        // Also for a new session (lastSeq 0): a worker that is not ready at once makes the session
        // emit status preparing before its first connection is attached, and that seq must reach it.
        ReplayBuffer.Replay replay = history.replayAfter(lastSeq);
        if (replay.hasGap()) {
            connection.send(new ServerMessage.ReplayGap(replay.gapFrom(), replay.gapTo()));
        }
        for (ReplayBuffer.Entry entry : replay.entries()) {
            connection.write(new EncodedFrame(entry.frame()));
        }
        connection.flush();
        if (resumed) {
            log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject)
                    .log("resumed after seq {}: replayed {}, gap {}", lastSeq, replay.entries().size(),
                            replay.hasGap() ? replay.gapFrom() + ".." + replay.gapTo() : "none");
        }
    }

    /**
     * The connection went away. If it was the attached one the session goes on detached, buffering
     * its history, until {@code sessions.reconnect_window} ends it.
     */
    public void detach(Connection connection) {
        executor.execute(() -> onDetach(connection));
    }

    private void onDetach(Connection connection) {
        assert executor.inEventLoop();
        if (attached != connection) {
            return;
        }
        attached = null;
        if (state == SessionState.ENDED) {
            return;
        }
        long window = context.config().reconnectWindow().toNanos();
        reconnectTimer = executor.schedule(() -> onEnd(EndReason.RECONNECT_WINDOW_EXPIRED), window, TimeUnit.NANOSECONDS);
        log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject).log("detached");
    }

    /** A decoded frame from {@code connection}; frames of a connection that is no longer attached are dropped. */
    public void receive(Connection connection, ClientMessage message) {
        executor.execute(() -> onClientMessage(connection, message));
    }

    private void onClientMessage(Connection connection, ClientMessage message) {
        assert executor.inEventLoop();
        if (connection != attached) {
            return;
        }
        if (message instanceof ClientMessage.Message m) {
            onMessage(connection, m);
        } else if (message instanceof ClientMessage.Ack ack) {
            onAck(connection, ack.seq());
        } else if (message instanceof ClientMessage.Interrupt) {
            onInterrupt();
        } else if (message instanceof ClientMessage.AuthRefresh refresh) {
            onAuthRefresh(connection, refresh.token());
        } else if (message instanceof ClientMessage.Ping) {
            connection.send(new ServerMessage.Pong());
        }
    }

    /** A frame from {@code connection} that could not be decoded: answer it, change nothing. */
    public void reject(Connection connection, ErrorCode code, String message) {
        executor.execute(() -> onBadFrame(connection, code, message));
    }

    private void onBadFrame(Connection connection, ErrorCode code, String message) {
        assert executor.inEventLoop();
        if (connection == attached) {
            connection.send(ServerMessage.Error.of(code, message));
        }
    }

    /** Ends the session: {@code status ended}, close 4011 to the attached connection, worker stopped, tombstone left. */
    public void end(EndReason reason) {
        executor.execute(() -> onEnd(reason));
    }

    private void onEnd(EndReason reason) {
        assert executor.inEventLoop();
        if (state == SessionState.ENDED) {
            return;
        }
        endReason = reason;
        cancelReconnectTimer();
        queue.clear();
        emitStatus(SessionState.ENDED, reason.wire());
        if (attached != null) {
            attached.close(CloseCode.SESSION_ENDED);
            attached = null;
        }
        if (worker != null) {
            worker.stop();
        }
        context.registry().ended(this, reason);
        log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject).log("ended: {}", reason.wire());
    }

    private void onMessage(Connection connection, ClientMessage.Message message) {
        if (messageIds.contains(message.id())) {
            connection.send(new ServerMessage.Accepted(message.id(), true, 0));
            return;
        }
        boolean runNow = worker != null && state == SessionState.IDLE && queue.isEmpty();
        if (runNow) {
            messageIds.add(message.id());
            connection.send(new ServerMessage.Accepted(message.id(), false, 0));
            startTurn(message);
            return;
        }
        int bound = context.config().maxQueuedMessages();
        if (bound == 0) {
            connection.send(new ServerMessage.Error(ErrorCode.SESSION_BUSY,
                    "a turn is running and this gateway does not queue messages", message.id(), null));
            return;
        }
        if (queue.size() >= bound) {
            connection.send(new ServerMessage.Error(ErrorCode.QUEUE_FULL,
                    "inbound queue is full (" + bound + " messages)", message.id(), null));
            return;
        }
        messageIds.add(message.id());
        queue.addLast(message);
        connection.send(new ServerMessage.Accepted(message.id(), false, queue.size()));
    }

    private void onAck(Connection connection, long seq) {
        if (seq > history.newestSeq()) {
            connection.send(ServerMessage.Error.of(ErrorCode.INVALID_SEQUENCE,
                    "ack " + seq + " is beyond the newest seq " + history.newestSeq()));
            return;
        }
        history.ackUpTo(seq);
    }

    private void onInterrupt() {
        if (state == SessionState.PROCESSING && worker != null) {
            worker.interrupt();
        }
    }

    private void onAuthRefresh(Connection connection, String token) {
        VerifiedToken refreshed;
        try {
            refreshed = context.verifier().verify(token);
        } catch (TokenRejectedException e) {
            connection.send(ServerMessage.Error.of(ErrorCode.AUTH_REFRESH_FAILED, "token refused: " + e.getMessage()));
            return;
        }
        if (!refreshed.subject().equals(subject)) {
            connection.send(ServerMessage.Error.of(ErrorCode.AUTH_REFRESH_FAILED, "token is for another subject"));
            return;
        }
        connection.token(refreshed);
        connection.send(new ServerMessage.AuthOk(refreshed.expiresAt().getEpochSecond()));
        log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject).log("credentials refreshed");
    }

    private void bindWorker(Worker ready) {
        worker = ready;
        worker.bind(id, subject, new WorkerListener() {
            @Override
            public void onEvent(JsonNode event) {
                executor.execute(() -> onWorkerEvent(ready, event));
            }

            @Override
            public void onExit(WorkerExit exit) {
                executor.execute(() -> onWorkerExit(ready, exit));
            }
        });
    }

    private void onWorkerEvent(Worker from, JsonNode event) {
        if (from != worker || state == SessionState.ENDED) {
            return;
        }
        emit(seq -> new ServerMessage.Event(seq, event));
        JsonNode type = event.get("type");
        if (type != null && "result".equals(type.textValue()) && state == SessionState.PROCESSING) {
            dispatchNext();
        }
    }

    private void onWorkerExit(Worker from, WorkerExit exit) {
        if (from != worker || state == SessionState.ENDED) {
            return;
        }
        log.atWarn().addKeyValue("session", id).addKeyValue("subject", subject)
                .log("worker {} exited: {}", from.describe(), exit.description());
        onEnd(EndReason.WORKER_FAILED);
    }

    /** Starts the next queued message, or goes idle when there is none. */
    private void dispatchNext() {
        ClientMessage.Message next = queue.pollFirst();
        if (next == null) {
            emitStatus(SessionState.IDLE, null);
            return;
        }
        startTurn(next);
    }

    private void startTurn(ClientMessage.Message message) {
        emitStatus(SessionState.PROCESSING, null);
        worker.send(message.id(), message.data());
    }

    private void emitStatus(SessionState next, String reason) {
        if (state == next && next != SessionState.PREPARING) {
            return;
        }
        state = next;
        emit(seq -> new ServerMessage.Status(seq, next, reason));
    }

    /** Numbers a history message, keeps it for replay and sends it to the attached connection. */
    private void emit(java.util.function.LongFunction<ServerMessage.Sequenced> message) {
        long seq = history.newestSeq() + 1;
        byte[] frame = context.codec().encodeToBytes(message.apply(seq));
        history.append(seq, frame);
        if (attached != null) {
            attached.write(new EncodedFrame(frame));
            attached.flush();
        }
    }

    private void cancelReconnectTimer() {
        if (reconnectTimer != null) {
            reconnectTimer.cancel(false);
            reconnectTimer = null;
        }
    }
}
