package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.auth.ForwardedClaims;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.metrics.MeterNames;
import dev.tether.gateway.replay.ReplayBuffer;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.process.DiskMonitor;
import dev.tether.gateway.worker.process.RssMonitor;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.RequestOutcome;
import dev.tether.protocol.Role;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One user's session: its numbered history, its inbound queue, its turns, its worker and the one
 * connection attached to it at a time. This class is the one owner of the session's state machine;
 * the parts it uses are called in one direction and answer with return values or events: the
 * {@link SessionHistory} (replay buffer and journal), the {@link Inbox}, the {@link TokenWatch}, the {@link WorkerSlot} (which
 * reports {@link WorkerEvent}s) and the {@link SessionClock} (which reports its {@link
 * SessionClock.Tick}s).
 *
 * <p><b>States and transitions</b> (each in a method below; {@code SessionSupervisionTest} covers every
 * row):
 *
 * <table>
 *   <caption>transitions</caption>
 *   <tr><th>from</th><th>on</th><th>to, doing</th></tr>
 *   <tr><td>preparing</td><td>worker ready</td><td>idle, or processing the first queued message</td></tr>
 *   <tr><td>preparing, restarting</td><td>worker unavailable</td><td>ended ({@code worker_failed})</td></tr>
 *   <tr><td>idle</td><td>message</td><td>processing: the message goes to the worker</td></tr>
 *   <tr><td>preparing, processing, restarting</td><td>message</td><td>same state: queued ({@code queue_full} beyond its bound)</td></tr>
 *   <tr><td>processing</td><td>result</td><td>ended ({@code duration_limit}) once the maximum duration was reached;
 *       restarting when a soft restart is due; else processing the next queued message, or idle</td></tr>
 *   <tr><td>idle, processing</td><td>worker exited, or RSS over the hard limit</td><td>restarting (the running turn
 *       is lost and named), or ended ({@code restart_limit}, {@code worker_failed})</td></tr>
 *   <tr><td>idle</td><td>RSS over the soft limit</td><td>restarting (the replacement takes over now)</td></tr>
 *   <tr><td>processing</td><td>RSS over the soft limit</td><td>processing; the restart happens when the turn ends</td></tr>
 *   <tr><td>restarting</td><td>worker ready</td><td>idle, or processing the first queued message</td></tr>
 *   <tr><td>idle</td><td>no turn for {@code limits.hibernate_after}, a checkpoint since the last</td><td>hibernated: the
 *       worker is stopped (contract 1.2, 8.9; {@link Hibernation})</td></tr>
 *   <tr><td>hibernated</td><td>message</td><td>preparing, the message queued, on a worker resumed from the checkpoint;
 *       refused ({@code session_busy}) and still hibernated when no worker can be had</td></tr>
 *   <tr><td>any but ended</td><td>an end: a time limit, the reconnect window, {@code end}, an operator, shutdown</td><td>ended</td></tr>
 * </table>
 *
 * <p><b>Threading:</b> confined to one event loop ({@link #executor()}). Its public methods may be
 * called from any thread: they never do the work inline but hand it over with
 * {@code executor().execute(...)}, so the work of one caller runs in the order it was handed over.
 * Everything else runs on the loop and asserts it. That confinement is what makes a takeover
 * atomic: attaches run one after another, so however many resumes race, exactly one connection
 * ends up attached and each sees every seq once. {@link #state()}, {@link #attached()} and the
 * replay buffer's size are published through volatile fields for the metrics gauges.
 *
 * <p><b>Viewers</b> (contract 7.4) are read-only connections beside the attached one, kept in
 * {@link Viewers}: they see the same history at the same moment, but are not "the attached
 * connection": they never replace it, the reconnect window, the interrupt after a disconnect and
 * the worker's back-pressure are about the owner's connection only, and their frames never reach
 * the state machine. The session closes them when it ends (as its owner) and when it leaves this
 * node (1001, so they reconnect where it went). Their methods are grouped under "viewers" below.
 */
public final class Session implements RssMonitor.Holder, DiskMonitor.Holder {

    private static final Logger log = LoggerFactory.getLogger(Session.class);

    private final String id;
    private final String subject;
    private final EventExecutor executor;
    private final SessionContext context;
    private final LimitsConfig limits;
    private final SessionHistory history;
    private final Inbox inbox;
    /** Read-only connections beside the attached one (contract 7.4). */
    private final Viewers viewers;
    /** The session ended while its last frames were being stored: its viewers close with this once they are shown. */
    private CloseCode viewersCloseWhenShown;

    private final WorkerSlot workers;
    private final SessionClock clock;
    private final Timer reconnectTimer;
    private final Timer interruptTimer;
    /** Bounds a hand-off's wait for the running turn (see {@link #handOff}). */
    private final Timer handoffTimer;
    /** Watches the running turn for worker silence ({@code limits.turn_stall_timeout}). */
    private final StallWatch stall;
    /** The worker's requests to the user waiting for an answer, and those resolved (contract 7.3). */
    private final PendingRequests requests;
    /** Another node asked for the session: it is released as soon as no turn runs. */
    private boolean handingOff;

    private final TokenWatch tokenWatch;
    /** Where what must outlive this node is written ({@link Journal#NONE} with the in-memory store). */
    private final Journal journal;
    /** Set when the session continues from the shared store; used once, at start. */
    private Restored restored;

    private final Instant startedAt;
    /** Ticker time of creation, for the session start time metric. */
    private final long createdNanos;
    /** Ticker time the running turn's message went to the worker; -1 once its first event came. */
    private long turnSentNanos = -1;
    /** When the session may sleep without a worker (contract 1.2, 8.9). */
    private final Hibernation hibernation;
    /** Ticker time of the message that woke the session; -1 unless a wake is under way. */
    private long wakeNanos = -1;
    /** Every client frame passes it; kept across reconnects, so a resume does not reset the rate. */
    private final FrameRateGuard frameRate;

    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    /** Completes once a drain has begun and no turn runs any more (see {@link #drain}). */
    private final CompletableFuture<Void> settled = new CompletableFuture<>();

    private volatile SessionState state = SessionState.PREPARING;
    /** The message whose turn is running: set exactly while the state is {@code processing}. */
    private ClientMessage.Message turn;
    /** Why the worker being waited for is a replacement ({@code crash}, ...); null for the first one. */
    private String restartReason;
    /** {@code limits.max_duration} has passed: the session ends when its running turn does. */
    private boolean durationReached;
    /** The owner's token claims its workers are given (contract 1.2, 8.5); null when none are forwarded. */
    private ObjectNode claims;
    /** The {@code extend}s granted so far (contract 1.2, 8.3), on any node: each moved the end later. */
    private int extensions;
    /** The newest seq when the newest worker checkpoint came (a fork's {@code fork_seq}); null without one. */
    private Long checkpointSeq;
    /** The session this one was forked from (contract 1.2, 8.2), for its first {@code session_ready}; else null. */
    private String forkedFrom;
    /** That session's newest seq when the checkpoint this one continues from was taken; null when it had none. */
    private Long forkSeq;

    private volatile Connection attached;
    /** The session ended while its last frames were being stored: the connection closes with this once they are shown. */
    private CloseCode closeWhenShown;

    private EndReason endReason;
    /**
     * The gateway is draining: {@code shutting_down} was sent, later messages are refused with
     * error {@code shutting_down}, nothing queued is started; the running turn may finish.
     */
    private boolean draining;
    /** The {@code retry_after} of this session's {@code shutting_down}, in seconds, once draining. */
    private long drainRetryAfter;

    Session(String id, String subject, EventExecutor executor, SessionContext context) {
        this(id, subject, executor, context, Journal.NONE, null, null);
    }

    /**
     * @param journal where the session writes what must outlive this node
     * @param restored what it continues from the shared store, or null for a new session
     * @param claims the creating (or resuming) token's forwarded claims, or null when none are forwarded
     */
    Session(
            String id,
            String subject,
            EventExecutor executor,
            SessionContext context,
            Journal journal,
            Restored restored,
            ObjectNode claims) {
        this.claims = claims;
        this.id = requireNonNull(id, "id");
        this.subject = requireNonNull(subject, "subject");
        this.executor = requireNonNull(executor, "executor");
        this.context = requireNonNull(context, "context");
        this.limits = context.limits();
        this.journal = requireNonNull(journal, "journal");
        this.viewers = new Viewers(id, subject, executor, context);
        this.history = new SessionHistory(
                new ReplayBuffer(
                        context.config().replayMaxMessages(), context.config().replayMaxBytes()),
                journal,
                context.codec(),
                viewers);
        this.inbox =
                new Inbox(context.config().maxQueuedMessages(), context.config().maxTrackedMessageIds());
        this.reconnectTimer = new Timer(executor);
        this.interruptTimer = new Timer(executor);
        this.handoffTimer = new Timer(executor);
        this.stall = new StallWatch(new Timer(executor), limits.turnStallTimeout(), this::onStall);
        this.requests = new PendingRequests(
                limits.maxPendingRequests(),
                limits.maxRememberedRequests(),
                limits.requestTimeout(),
                () -> new Timer(executor));
        this.tokenWatch = new TokenWatch(id, subject, executor, context);
        this.restored = restored;
        this.startedAt = restored == null ? context.clock().instant() : restored.startedAt();
        this.hibernation = new Hibernation(limits.hibernateAfter());
        this.workers = new WorkerSlot(id, subject, executor, context, this::onWorker);
        if (restored != null) {
            history.restore(restored);
            inbox.restore(restored.messageIds(), restored.queued());
            workers.restoreCheckpoint(restored.checkpoint());
            if (restored.checkpoint() != null && restored.lostTurnId() == null) {
                hibernation.resumedFromCheckpoint();
            }
            checkpointSeq = restored.checkpoint() == null
                    ? null
                    : restored.checkpointSeq() == null ? Long.valueOf(0) : restored.checkpointSeq();
        }
        this.clock = new SessionClock(executor, limits, this::onTick);
        this.createdNanos = context.ticker().read();
        this.frameRate = new FrameRateGuard(id, subject, context.abuse(), context.ticker());
    }

    /** The session id. Any thread. */
    @Override
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

    /** Completes once the session has ended and every worker it had is gone. Any thread. */
    public CompletionStage<Void> terminated() {
        return terminated;
    }

    /** The worker serving the session right now, if any (for the RSS monitor). Any thread. */
    @Override
    public Worker currentWorker() {
        return workers.current();
    }

    /** The session's state; a snapshot for metrics. Any thread. */
    public SessionState state() {
        return state;
    }

    /** Whether the session shows its output without waiting for the shared store, which does not answer. Any thread. */
    public boolean storeAway() {
        return history.storeAway();
    }

    /** Whether a connection is attached; a snapshot for metrics. Any thread. */
    public boolean attached() {
        return attached != null;
    }

    /** History messages kept for replay; a snapshot for metrics. Any thread. */
    int replayMessages() {
        return history.size();
    }

    /** Bytes kept for replay; a snapshot for metrics. Any thread. */
    long replayBytes() {
        return history.bytes();
    }

    // ---- hand-over entry points (any thread) ----

    /** Starts the session with the worker acquired for it. */
    void start(CompletionStage<Worker> firstWorker) {
        executor.execute(() -> onStart(firstWorker));
    }

    /**
     * Attaches {@code connection}, replacing any other one, and sends it {@code session_ready} and,
     * on a resume, everything after {@code lastSeq}. A resume with {@code lastSeq} beyond the
     * newest seq is refused with 4009 and leaves the current connection alone.
     */
    public void attach(Connection connection, long lastSeq, boolean resumed) {
        executor.execute(() -> onAttach(connection, lastSeq, resumed));
    }

    /**
     * The connection went away. If it was the attached one the session goes on detached, buffering
     * its history, until {@code sessions.reconnect_window} ends it.
     */
    public void detach(Connection connection) {
        executor.execute(() -> onDetach(connection));
    }

    /** A decoded frame from {@code connection} (the owner's or a viewer's); frames of a connection that is no longer attached are dropped. */
    public void receive(Connection connection, ClientMessage message) {
        executor.execute(() -> onClientMessage(connection, message));
    }

    /**
     * A ping, pong or continuation fragment from {@code connection}: it takes a token of the frame
     * rate like any frame, and a ping is answered with its pong only when it gets one.
     */
    public void control(Connection connection, ControlFrame frame) {
        executor.execute(() -> onControlFrame(connection, frame));
    }

    /**
     * {@code connection} stopped (or resumed) taking what is written to it as fast as it comes: while
     * it is the attached one and cannot take more, the worker's output is paused, so the worker
     * blocks on its own output instead of the gateway holding it. A viewer's writability changes
     * nothing: a viewer never slows the worker (the outbound guard cuts one that does not read).
     */
    public void writability(Connection connection, boolean writable) {
        executor.execute(() -> {
            Worker current = workers.current();
            if (connection == attached && current != null) {
                current.pauseOutput(!writable);
            }
        });
    }

    /** A frame from {@code connection} that could not be decoded: answer it, change nothing. */
    public void reject(Connection connection, ErrorCode code, String message) {
        reject(connection, code, message, null);
    }

    /**
     * A frame from {@code connection} refused before it reached the session (undecodable, or a
     * {@code message} too large): answer it, with the client's message id when it has one, change
     * nothing.
     */
    public void reject(Connection connection, ErrorCode code, String message, String messageId) {
        executor.execute(() -> onBadFrame(connection, new ServerMessage.ErrorFrame(code, message, messageId, null)));
    }

    /** A fresh RSS sample of {@code sampled}'s process tree (from the RSS monitor). */
    @Override
    public void reportRss(Worker sampled, long rssBytes) {
        executor.execute(() -> onRss(sampled, rssBytes));
    }

    /** The disk monitor's last finished measurement of a worker's directory, for the admin snapshot. */
    private record DiskUse(Worker of, long bytes) {}

    /** The newest {@link DiskUse}; written on the disk monitor's thread, read on the loop. */
    private volatile DiskUse lastDisk;

    @Override
    public void measuredDisk(Worker measured, long bytes) {
        lastDisk = new DiskUse(measured, bytes);
    }

    /** {@code measured}'s working directory passed a disk limit (from the disk monitor). */
    @Override
    public void reportDisk(Worker measured, DiskMonitor.Verdict verdict, long bytes, long limitBytes) {
        executor.execute(() -> onDisk(measured, verdict, bytes, limitBytes));
    }

    /** Ends the session: {@code status ended}, close 4011 to the attached connection, worker stopped, tombstone left. */
    public void end(EndReason reason) {
        end(reason, CloseCode.SESSION_ENDED);
    }

    /**
     * Like {@link #end(EndReason)}, closing the attached connection with {@code close} instead of
     * 4011: a finished drain ends sessions with {@link EndReason#SHUTDOWN} and 1001
     * ({@link CloseCode#GOING_AWAY}), which tells the client to reconnect elsewhere.
     */
    public void end(EndReason reason, CloseCode close) {
        requireNonNull(close, "close");
        executor.execute(() -> onEnd(reason, close));
    }

    /**
     * Another node asked for this session (its client resumed there; contract 7.1): the attached
     * connection, if any, gets {@code session_replaced} and close 4001; a running turn may finish
     * for {@code timeout}, then it is interrupted, and {@code timeout} later the worker is stopped
     * whatever it does; then the session is released for the other node, its queued messages left
     * in the store for it.
     */
    public void handOff(Duration timeout) {
        executor.execute(() -> {
            if (state == SessionState.ENDED || handingOff) {
                return;
            }
            handingOff = true;
            if (attached != null) {
                attached.send(new ServerMessage.SessionReplaced());
                attached.close(CloseCode.SESSION_REPLACED);
                attached = null;
                tokenWatch.stop();
            }
            info().log("handing over to another node{}", turn == null ? "" : " once turn " + turn.id() + " ends");
            if (turn == null) {
                releaseForHandoff();
                return;
            }
            handoffTimer.arm(timeout, () -> {
                Worker current = workers.current();
                if (turn != null && current != null) {
                    current.interrupt();
                }
                handoffTimer.arm(timeout, this::releaseForHandoff);
            });
        });
    }

    private void releaseForHandoff() {
        if (state == SessionState.ENDED) {
            return;
        }
        handoffTimer.cancel();
        long deadline =
                context.clock().millis() + context.config().reconnectWindow().toMillis();
        leave(CloseCode.SESSION_REPLACED, false);
        journal.release(deadline);
        context.metrics().sessionLeft(MeterNames.LEFT_HANDOFF);
    }

    /**
     * Lets the session leave this node alive (a drain with the shared store): the attached
     * connection is closed with {@code close} (1001 tells the client to resume elsewhere), the
     * worker is stopped, what is pending is written and the store is told no node owns it, so
     * another node takes it over at once on resume. Completes once it is released and its worker
     * is gone.
     */
    public CompletionStage<Void> release(CloseCode close) {
        CompletableFuture<Void> released = new CompletableFuture<>();
        executor.execute(() -> {
            if (state == SessionState.ENDED) {
                released.complete(null);
                return;
            }
            long deadline = attached != null
                    ? context.clock().millis()
                            + context.config().reconnectWindow().toMillis()
                    : context.clock().millis() + Math.max(0, reconnectTimer.remainingMillis());
            info().log("released for another node");
            context.metrics().sessionLeft(MeterNames.LEFT_RELEASED);
            leave(close, false);
            Unwatched.whenComplete(
                    terminated.thenCombine(journal.release(deadline).exceptionally(failure -> null), (a, b) -> null),
                    (ignored, error) -> released.complete(null));
        });
        return released;
    }

    /**
     * Starts draining (idempotent): the attached connection, and any connection that attaches
     * later, gets {@code shutting_down} with {@code retryAfterSeconds}; every later {@code message}
     * is answered with error {@code shutting_down} (with its id) and not taken; queued messages
     * that have not started are dropped, each answered the same way on the attached connection
     * (with the shared store they stay queued instead, and go on on the node that takes the session
     * over). A running turn goes on. The session itself keeps running until it is ended or released.
     *
     * @return completes once no turn runs any more (at once when idle, preparing or restarting;
     *     when the session ends, at the latest)
     */
    public CompletionStage<Void> drain(long retryAfterSeconds) {
        executor.execute(() -> onDrain(retryAfterSeconds));
        return settled.minimalCompletionStage();
    }

    /**
     * Ends the session for an operator (admin API): a {@code notice ended_by_operator} first, then
     * as {@link #end} with {@link EndReason#ENDED_BY_OPERATOR}. Does nothing if it has already ended.
     */
    public void endByOperator() {
        executor.execute(() -> {
            notice(Notices.endedByOperator());
            onEnd(EndReason.ENDED_BY_OPERATOR);
        });
    }

    /**
     * What the session looks like now, read on its event loop (for the admin API). Fails with
     * {@link RejectedExecutionException} when the loop has shut down.
     */
    public CompletionStage<SessionSnapshot> snapshot() {
        CompletableFuture<SessionSnapshot> snapshot = new CompletableFuture<>();
        try {
            executor.execute(() -> snapshot.complete(takeSnapshot()));
        } catch (RejectedExecutionException e) {
            snapshot.completeExceptionally(e);
        }
        return snapshot;
    }

    /** Whether the session may be due to sleep by {@code nowMillis} of the gateway's clock ({@link HibernationSweep}). Any thread. */
    boolean sleepDueBy(long nowMillis) {
        return hibernation.dueBy(nowMillis);
    }

    /** Puts the session to sleep if it is due and nothing but its idle worker holds it (contract 1.2, 8.9). */
    void hibernateIfDue() {
        executor.execute(this::onSleepCheck);
    }

    /**
     * What a fork of this session starts from (contract 1.2, 8.2), read on its event loop: a copy of
     * its newest worker checkpoint and the seq it was taken at. Nothing of the session changes. An
     * ended session is {@link ForkSource.Ended}; one that left this node (or whose loop has shut
     * down) is {@link ForkSource.NotFound}, for the caller to look in the shared store.
     */
    public CompletionStage<ForkSource> forkSource() {
        CompletableFuture<ForkSource> source = new CompletableFuture<>();
        try {
            executor.execute(() -> source.complete(takeForkSource()));
        } catch (RejectedExecutionException e) {
            source.complete(new ForkSource.NotFound());
        }
        return source;
    }

    private ForkSource takeForkSource() {
        assert executor.inEventLoop();
        if (state == SessionState.ENDED) {
            return endReason == null ? new ForkSource.NotFound() : new ForkSource.Ended(endReason.wire());
        }
        JsonNode checkpoint = workers.checkpoint();
        return checkpoint == null || checkpointSeq == null
                ? ForkSource.Found.none()
                : new ForkSource.Found(checkpoint.deepCopy(), checkpointSeq);
    }

    /**
     * Makes this new session a fork of {@code parent} (contract 1.2, 8.2), before it starts: its
     * first worker continues from {@code from}'s checkpoint with {@code "fork": true}, and its first
     * {@code session_ready} names {@code parent} and {@code from}'s seq. Its own history starts empty;
     * until its own worker checkpoints, its newest checkpoint is the inherited one, at its seq 0.
     */
    void forkFrom(String parent, ForkSource.Found from) {
        forkedFrom = requireNonNull(parent, "parent");
        forkSeq = from.seq();
        if (from.checkpoint() != null) {
            workers.inherit(from.checkpoint());
            checkpointSeq = 0L;
        }
    }

    // ---- the state machine: start, turns, workers, time ----

    private void onStart(CompletionStage<Worker> firstWorker) {
        assert executor.inEventLoop();
        journal.start(this::onJournal);
        workers.claims(claims); // before any worker is bound: its session line carries them
        if (restored != null) {
            Duration elapsed = Duration.between(startedAt, context.clock().instant());
            extensions = restored.extensions();
            clock.start(
                    elapsed.isNegative() ? Duration.ZERO : elapsed,
                    !restored.messageIds().isEmpty(),
                    extensions);
            continueMoved(firstWorker);
            return;
        }
        clock.start();
        Worker ready = WorkerSlot.readyNow(firstWorker);
        if (ready != null && workers.canServe(ready)) {
            workers.bind(ready);
            state = SessionState.IDLE;
            // No status frame (session_ready says idle), but the store must not keep the preparing it was registered
            // with.
            journal.state(SessionState.IDLE, null);
            logStarted(GatewayMetrics.StartKind.WARM);
            return;
        }
        emitStatus(SessionState.PREPARING, null);
        workers.await(firstWorker);
    }

    /**
     * A session continued from the shared store: the client learns where it came from and which
     * turn, if any, was lost with the previous node; queued messages start once the new worker, bound
     * with the stored checkpoint, is ready.
     */
    private void continueMoved(CompletionStage<Worker> firstWorker) {
        Restored from = restored;
        restored = null;
        notice(Notices.sessionMoved(from.fromNode(), from.lostTurnId()));
        cancelRequestsOf(from);
        // Reconnect window first: detached until its resume attaches (which cancels this); a move nobody resumes ends
        // too.
        reconnectTimer.arm(context.config().reconnectWindow(), () -> onEnd(EndReason.RECONNECT_WINDOW_EXPIRED));
        if (from.queued().isEmpty() && from.asleep(context.codec())) {
            // It slept on the previous node (contract 1.2, 8.9), as its history says: it sleeps on here.
            state = SessionState.HIBERNATED;
            workers.letGo(firstWorker);
            info().log("continued asleep from node {} above seq {}", from.fromNode(), from.newestSeq());
            return;
        }
        restartReason = "session_moved";
        emitStatus(SessionState.RESTARTING, restartReason);
        info().log("continued from node {} above seq {}", from.fromNode(), from.newestSeq());
        workers.await(firstWorker);
    }

    /** Everything the {@link WorkerSlot} reports: the transitions driven by the worker. */
    private void onWorker(WorkerEvent event) {
        assert executor.inEventLoop();
        // A pattern switch once the build is on Java 21 or later; the same cases, one per event type.
        if (event instanceof WorkerEvent.Output output) {
            onOutput(output.event());
        } else if (event instanceof WorkerEvent.ProtocolProblem problem) {
            notice(new Notices.Notice(problem.code(), problem.message(), null));
        } else if (event instanceof WorkerEvent.Requested requested) {
            onRequest(requested.requestId(), requested.request());
        } else if (event instanceof WorkerEvent.TurnEnded) {
            if (turn != null) {
                onTurnEnded();
            }
        } else if (event instanceof WorkerEvent.Checkpointed checkpointed) {
            hibernation.checkpointed();
            checkpointSeq = history.newestSeq();
            journal.checkpoint(checkpointed.json(), checkpointSeq);
        } else if (event instanceof WorkerEvent.Exited exited) {
            onWorkerExited(exited);
        } else if (event instanceof WorkerEvent.Ready ready) {
            onWorkerReady(ready.worker());
        } else if (event instanceof WorkerEvent.Unavailable unavailable) {
            warn().log("no worker became ready: {}", unavailable.why());
            onEnd(EndReason.WORKER_FAILED);
        }
    }

    /** preparing or restarting, on a ready worker: the first one, or a replacement. */
    private void onWorkerReady(Worker ready) {
        if (wakeNanos >= 0) {
            Duration took = Duration.ofNanos(context.ticker().read() - wakeNanos);
            wakeNanos = -1;
            context.metrics().sessionWoke(took);
            info().log("woke on {} after {} ms", ready.describe(), took.toMillis());
        } else if (restartReason == null) {
            logStarted(GatewayMetrics.StartKind.COLD);
        } else {
            notice(Notices.workerRestarted(restartReason));
            info().log("worker restarted ({}): now {}", restartReason, ready.describe());
            restartReason = null;
        }
        dispatchNext();
    }

    /** An event of the current worker: into history; a {@code result} ends the running turn. */
    private void onOutput(ObjectNode event) {
        if (turn != null && turnSentNanos >= 0) {
            context.metrics().turnFirstEvent(Duration.ofNanos(context.ticker().read() - turnSentNanos));
            turnSentNanos = -1;
        }
        if (turn != null) {
            stall.output();
        }
        emit(seq -> new ServerMessage.Event(seq, event));
        if (turn != null && "result".equals(event.path("type").textValue())) {
            onTurnEnded();
        }
    }

    /** processing, on a result: end, restart, the next turn, or idle. */
    private void onTurnEnded() {
        cancelRequests(requests.idsOfTurn(turn.id()), true);
        turn = null;
        interruptTimer.cancel();
        stall.stop();
        if (handingOff) {
            journal.state(SessionState.IDLE, null);
            releaseForHandoff();
            return;
        }
        if (durationReached) {
            onEnd(EndReason.DURATION_LIMIT);
        } else if (workers.softRestartDue()) {
            softRestart();
        } else {
            dispatchNext();
        }
    }

    /** Starts the next queued message, or goes idle when there is none. */
    private void dispatchNext() {
        if (draining && context.registry().store().shared()) {
            // Draining with the shared store: what is queued goes with the session to the next node.
            emitStatus(SessionState.IDLE, null);
            return;
        }
        ClientMessage.Message next = inbox.poll();
        while (next != null && !workers.current().turns()) {
            journal.dequeued(next);
            startTurn(next); // taken at once: the next one too
            next = inbox.poll();
        }
        if (next != null) {
            journal.dequeued(next);
            startTurn(next);
            return;
        }
        emitStatus(SessionState.IDLE, null);
        clock.wentIdle();
        hibernation.wentIdle(context.clock().millis());
    }

    private void startTurn(ClientMessage.Message message) {
        Worker current = workers.current();
        if (!current.turns()) {
            // A worker without turns (a line program) takes each message as it comes: nothing runs,
            // so the session stays idle and the next message goes straight on too.
            current.send(message.id(), message.data());
            return;
        }
        boolean backToBack = state == SessionState.PROCESSING; // the previous turn's result just came
        turn = message;
        emitStatus(SessionState.PROCESSING, null);
        if (backToBack) {
            // No status is sent between back-to-back turns, but the store must know which turn runs
            // now: a node that takes the session over names it as lost rather than losing it silently.
            journal.state(SessionState.PROCESSING, message.id());
        }
        turnSentNanos = context.ticker().read();
        hibernation.turnStarted();
        workers.current().send(message.id(), message.data());
        armInterruptAfterDisconnect();
        stall.start();
    }

    /** The current worker exited by itself: a crash. */
    private void onWorkerExited(WorkerEvent.Exited exited) {
        WorkerExit exit = exited.exit();
        if (exit.memoryLimit()) {
            // The kernel enforced limits.rss_hard_limit (the worker's control group): as the RSS sampler would.
            notice(Notices.killedAtMemoryLimit(exit.peakBytes(), limits.rssHardLimit(), turnId()));
            warn().log("worker {}", exit.description());
            context.metrics().workerRestarted(GatewayMetrics.RestartCause.MEMORY_LIMIT);
            restartLost("memory_limit");
            return;
        }
        warn().log("worker exited: {}", exit.description());
        notice(Notices.workerCrashed(exit, turnId()));
        context.metrics().workerRestarted(GatewayMetrics.RestartCause.CRASH);
        restartLost("crash");
    }

    /** A fresh RSS sample: the hard limit replaces the worker now, the soft one between turns. */
    private void onRss(Worker sampled, long rssBytes) {
        assert executor.inEventLoop();
        if (state == SessionState.ENDED) {
            return;
        }
        switch (workers.sample(sampled, rssBytes)) {
            case WITHIN -> {}
            case OVER_HARD -> {
                notice(Notices.overRssHardLimit(rssBytes, limits.rssHardLimit(), turnId()));
                warn().log("worker {} over rss_hard_limit ({} bytes): killed", sampled.describe(), rssBytes);
                workers.killCurrent();
                context.metrics().workerRestarted(GatewayMetrics.RestartCause.RSS_HARD);
                restartLost("rss_hard_limit");
            }
            case OVER_SOFT -> {
                context.metrics().workerRestarted(GatewayMetrics.RestartCause.RSS_SOFT);
                notice(Notices.overRssSoftLimit(rssBytes, limits.rssSoftLimit()));
                if (turn == null && state == SessionState.IDLE) {
                    softRestart();
                }
            }
        }
    }

    /** The soft disk limit tells the client; the hard one replaces the worker now, as the RSS hard limit does. */
    private void onDisk(Worker measured, DiskMonitor.Verdict verdict, long bytes, long limitBytes) {
        assert executor.inEventLoop();
        if (state == SessionState.ENDED || measured != workers.current()) {
            return;
        }
        switch (verdict) {
            case OVER_SOFT -> {
                context.metrics().diskWarning();
                notice(Notices.diskWarning(bytes, limitBytes));
            }
            case OVER_HARD -> {
                notice(Notices.diskLimit(bytes, limitBytes, turnId()));
                warn().log("worker {} over disk_hard_limit ({} bytes): killed", measured.describe(), bytes);
                workers.killCurrent();
                context.metrics().workerRestarted(GatewayMetrics.RestartCause.DISK_HARD);
                restartLost("disk_limit");
            }
        }
    }

    /** The worker is gone (crash, hard limit): the turn is lost; restart if the budget allows. */
    private void restartLost(String reason) {
        cancelRequests(requests.ids(), false); // the worker that asked is gone
        turn = null;
        interruptTimer.cancel();
        stall.stop();
        if (!workers.tryRestart()) {
            warn().log(
                            "worker restarted {} times within {}: ending session",
                            limits.maxRestarts(),
                            limits.restartWindow());
            onEnd(EndReason.RESTART_LIMIT);
            return;
        }
        restartReason = reason;
        emitStatus(SessionState.RESTARTING, reason);
        if (!workers.replaceLost()) {
            warn().log("no worker for the restart");
            onEnd(EndReason.WORKER_FAILED);
        }
    }

    /**
     * The running turn's worker has been silent for {@code limits.turn_stall_timeout} (contract
     * 7.5): the client is told, then the turn is interrupted, then the worker is replaced (the turn
     * is lost; queued messages go on with the new worker).
     */
    private void onStall(StallWatch.Stage stage) {
        assert executor.inEventLoop();
        if (turn == null || state == SessionState.ENDED) {
            return;
        }
        Duration timeout = limits.turnStallTimeout();
        context.metrics().turnStalled(stage.name().toLowerCase(Locale.ROOT));
        switch (stage) {
            case STALLED -> notice(Notices.turnStalled(turn.id(), timeout));
            case INTERRUPT -> {
                warn().log("turn {} silent for {}: interrupted", turn.id(), timeout.multipliedBy(2));
                Worker current = workers.current();
                if (current != null) {
                    current.interrupt();
                }
            }
            case RESTART -> {
                warn().log(
                                "turn {} silent for {}, even after its interrupt: worker replaced",
                                turn.id(),
                                timeout.multipliedBy(3));
                notice(Notices.stalledWorkerReplaced(timeout.multipliedBy(3), turnId()));
                workers.killCurrent();
                context.metrics().workerRestarted(GatewayMetrics.RestartCause.STALLED);
                restartLost("stalled");
            }
        }
    }

    /** Between turns, after the RSS soft limit: the worker is replaced if the budget allows. */
    private void softRestart() {
        cancelRequests(requests.ids(), false); // asked outside a turn, of the worker that goes now
        if (!workers.tryRestart()) {
            onEnd(EndReason.RESTART_LIMIT);
            return;
        }
        restartReason = "rss_soft_limit";
        emitStatus(SessionState.RESTARTING, restartReason);
        workers.retire();
    }

    /** idle, on the sweep: hibernated when due and nothing but the idle worker holds the session. */
    private void onSleepCheck() {
        assert executor.inEventLoop();
        boolean idleWorkerOnly = state == SessionState.IDLE
                && turn == null
                && inbox.isEmpty()
                && requests.listed().isEmpty()
                && workers.current() != null
                && !workers.softRestartDue()
                && !draining
                && !handingOff;
        if (!hibernation.sleepNow(context.clock().millis(), idleWorkerOnly)) {
            return;
        }
        hibernation.reset();
        workers.sleep();
        emitStatus(SessionState.HIBERNATED, "idle");
        context.metrics().sessionHibernated();
        info().log("hibernated: no turn for {}; the worker is stopped", limits.hibernateAfter());
    }

    /** hibernated, on a message: preparing, a worker resumed from the checkpoint asked for; false when none can be had. */
    private boolean wake() {
        if (!workers.wake()) {
            warn().log("no worker to wake the session: it sleeps on");
            return false;
        }
        wakeNanos = context.ticker().read();
        emitStatus(SessionState.PREPARING, "wake");
        info().log("waking");
        return true;
    }

    /** One of the session's time limits ran out. */
    private void onTick(SessionClock.Tick tick) {
        assert executor.inEventLoop();
        switch (tick) {
            case FIRST_MESSAGE_TIMEOUT -> onEnd(EndReason.FIRST_MESSAGE_TIMEOUT);
            case IDLE_TIMEOUT -> {
                if (state == SessionState.IDLE || state == SessionState.HIBERNATED) {
                    onEnd(EndReason.IDLE_TIMEOUT);
                }
            }
            case DURATION_WARNING -> notice(Notices.durationWarning(endsAt()));
            case DURATION_REACHED -> {
                durationReached = true;
                if (turn == null) {
                    onEnd(EndReason.DURATION_LIMIT);
                    return;
                }
                notice(Notices.durationLimit(limits.durationGrace()));
                clock.graceStarted();
            }
            case DURATION_GRACE_OVER -> onEnd(EndReason.DURATION_LIMIT);
        }
    }

    private void onEnd(EndReason reason) {
        onEnd(reason, CloseCode.SESSION_ENDED);
    }

    /** Any state but ended, on an end: ended. */
    private void onEnd(EndReason reason, CloseCode close) {
        assert executor.inEventLoop();
        if (state == SessionState.ENDED) {
            return;
        }
        cancelRequests(requests.ids(), false); // the worker is stopped as the session ends
        endReason = reason;
        reconnectTimer.cancel();
        interruptTimer.cancel();
        stall.stop();
        clock.cancel();
        tokenWatch.stop();
        inbox.clear();
        turn = null;
        emitStatus(SessionState.ENDED, reason.wire());
        if (attached != null && !history.allShown()) {
            closeWhenShown = close; // the last frames are on their way to the store: closed after them
        } else if (attached != null) {
            attached.close(close);
            attached = null;
        }
        endViewers(close);
        CompletionStage<Void> written = journal.end(reason).exceptionally(failure -> null);
        written.whenComplete((ignored, error) -> executor.execute(() -> {
            if (attached != null && closeWhenShown != null) {
                attached.close(closeWhenShown); // the store gave up on the last frames
                attached = null;
            }
            closeViewersIfShown(true);
        }));
        CompletableFuture<Void> stopped = workers.stopAll().thenCombine(written, (a, b) -> null);
        Unwatched.whenComplete(stopped, (ignored, error) -> terminated.complete(null));
        settled.complete(null);
        context.registry().ended(this, reason);
        context.metrics().sessionEnded(reason.wire());
        info().log("ended: {}", reason.wire());
    }

    /** A log event at INFO naming this session and its owner. */
    private LoggingEventBuilder info() {
        return log.atInfo().addKeyValue("session", id).addKeyValue("subject", subject);
    }

    /** A log event at WARN naming this session and its owner. */
    private LoggingEventBuilder warn() {
        return log.atWarn().addKeyValue("session", id).addKeyValue("subject", subject);
    }

    private void logStarted(GatewayMetrics.StartKind how) {
        context.metrics().sessionStarted(how, Duration.ofNanos(context.ticker().read() - createdNanos));
        info().addKeyValue("worker", workers.current().describe()).log("session started ({} worker)", how.tag());
    }

    /** The running turn's id, or null when none runs. */
    private String turnId() {
        return turn == null ? null : turn.id();
    }

    // ---- requests to the user (contract 7.3) ----

    /** The worker asks the user something: shown in history, or refused when too many wait. */
    private void onRequest(String requestId, JsonNode request) {
        switch (requests.check(requestId)) {
            case DUPLICATE -> notice(Notices.requestRepeated(requestId));
            case FULL -> {
                Worker current = workers.current();
                if (current != null) {
                    current.respond(requestId, RequestOutcome.CANCELLED, null);
                }
                notice(Notices.requestRefused(requestId, limits.maxPendingRequests()));
                context.metrics().requestResolved("refused");
            }
            case OPENED -> {
                long[] shownAs = new long[1];
                emit(seq -> {
                    shownAs[0] = seq;
                    return new ServerMessage.Request(seq, requestId, request);
                });
                requests.open(requestId, request, shownAs[0], turnId(), this::onRequestTimeout);
                context.metrics().requestOpened();
            }
        }
    }

    /**
     * A session continued from the shared store: requests its history shows resolved are remembered
     * (a late answer gets {@code request_resolved} here too), and those still waiting resolve
     * {@code cancelled} now, since the worker that asked went with the previous node.
     */
    private void cancelRequestsOf(Restored from) {
        Restored.Requests asked = from.requests(context.codec());
        asked.resolved().forEach(requests::remember);
        for (String requestId : asked.open()) {
            requests.remember(requestId);
            emit(seq -> new ServerMessage.RequestResolved(seq, requestId, RequestOutcome.CANCELLED));
            context.metrics().requestResolved(RequestOutcome.CANCELLED.wire());
        }
    }

    /** A client answers: the first answer of a pending request reaches the worker, once. */
    private void onRespond(Connection connection, ClientMessage.Respond respond) {
        String requestId = respond.requestId();
        switch (requests.lookup(requestId)) {
            case NOT_FOUND ->
                connection.send(ServerMessage.ErrorFrame.ofRespond(
                        ErrorCode.REQUEST_NOT_FOUND, "this session has no request " + requestId, requestId));
            case RESOLVED ->
                connection.send(ServerMessage.ErrorFrame.ofRespond(
                        ErrorCode.REQUEST_RESOLVED, "request " + requestId + " was already resolved", requestId));
            case PENDING -> {
                Worker current = workers.current();
                String problem = current == null ? null : current.checkAnswer(requestId, respond.data());
                if (problem != null) {
                    connection.send(
                            ServerMessage.ErrorFrame.ofRespond(ErrorCode.INVALID_FIELD, "data: " + problem, requestId));
                    return;
                }
                resolveRequest(requestId, RequestOutcome.ANSWERED, respond.data(), true);
            }
        }
    }

    private void onRequestTimeout(String requestId) {
        if (state != SessionState.ENDED) {
            resolveRequest(requestId, RequestOutcome.TIMEOUT, null, true);
        }
    }

    /** Cancels {@code ids}; {@code tellWorker} when the worker that asked is still there to hear it. */
    private void cancelRequests(List<String> ids, boolean tellWorker) {
        for (String requestId : ids) {
            resolveRequest(requestId, RequestOutcome.CANCELLED, null, tellWorker);
        }
    }

    private void resolveRequest(String requestId, RequestOutcome outcome, JsonNode data, boolean tellWorker) {
        if (!requests.resolve(requestId)) {
            return;
        }
        Worker current = workers.current();
        if (tellWorker && current != null) {
            current.respond(requestId, outcome, data);
        }
        emit(seq -> new ServerMessage.RequestResolved(seq, requestId, outcome));
        context.metrics().requestResolved(outcome.wire());
        if (attached == null && turn != null && requests.idsOfTurn(turn.id()).isEmpty()) {
            armInterruptAfterDisconnect(); // no longer waiting for the user: the usual rule again
        }
    }

    // ---- connections ----

    private void onAttach(Connection connection, long lastSeq, boolean resumed) {
        assert executor.inEventLoop();
        if (!connection.open()) {
            // Gone before its attach ran (a reset right after the upgrade): it must not take the
            // session from a connection that is there, maybe its own client's retry.
            return;
        }
        if (refuseAttach(connection, lastSeq, "resume again")) {
            return;
        }
        Connection previous = attached;
        if (previous != null && previous != connection) {
            previous.send(new ServerMessage.SessionReplaced());
            previous.close(CloseCode.SESSION_REPLACED);
            info().log("connection {} replaced by {}", previous, connection);
        }
        attached = connection;
        reconnectTimer.cancel();
        interruptTimer.cancel();
        boolean forkAnswer = !resumed && forkedFrom != null; // only the fork's own first connection
        connection.send(new ServerMessage.SessionReady(
                id,
                resumed,
                history.visibleSeq(),
                connection.token().expiresAt().getEpochSecond(),
                state,
                context.node(),
                Role.OWNER,
                requests.listed(),
                endsAt().getEpochSecond(),
                forkAnswer ? forkedFrom : null,
                forkAnswer ? ServerMessage.SessionReady.forkSeqOf(forkSeq) : null));
        tokenWatch.watch(connection);
        if (claims == null) {
            // A session that moved here from another node: its claims come with its owner's resume.
            claims = forwardedClaims(context, connection.token(), id);
            workers.claims(claims);
        }
        journal.attached(connection.token().expiresAt().getEpochSecond());
        // A new session may already have history (status preparing while its cold worker starts):
        // its first connection gets that too, so no seq is ever skipped.
        replay(connection, lastSeq, resumed);
        if (draining) {
            connection.send(new ServerMessage.ShuttingDown(drainRetryAfter));
        }
    }

    /**
     * Answers and closes {@code connection} (an owner's or a viewer's) when it may not attach now,
     * without disturbing anyone attached: the session is leaving this node (handed over or
     * released: connected {@code again}, it is found where it went), has ended, or is behind
     * {@code lastSeq}. Returns whether it was refused.
     */
    private boolean refuseAttach(Connection connection, long lastSeq, String again) {
        if (handingOff || (state == SessionState.ENDED && endReason == null)) {
            connection.send(ServerMessage.ErrorFrame.of(
                    ErrorCode.SESSION_BUSY, "the session is moving to another node: " + again));
            connection.close(CloseCode.GOING_AWAY);
            return true;
        }
        if (state == SessionState.ENDED) {
            connection.send(new ServerMessage.ErrorFrame(
                    ErrorCode.SESSION_EXPIRED, "session has ended", null, endReason.wire()));
            connection.close(CloseCode.SESSION_NOT_FOUND);
            return true;
        }
        if (lastSeq > history.visibleSeq()) {
            connection.send(ServerMessage.ErrorFrame.of(
                    ErrorCode.INVALID_SEQUENCE,
                    "last_seq " + lastSeq + " is beyond the newest seq " + history.visibleSeq()));
            connection.close(CloseCode.INVALID_SEQUENCE);
            return true;
        }
        return false;
    }

    private void replay(Connection connection, long lastSeq, boolean resumed) {
        ReplayBuffer.Replay replay = history.replayTo(connection, lastSeq);
        if (!resumed) {
            return;
        }
        context.metrics().resumed(replay.entries().size(), replay.hasGap());
        info().log(
                        "resumed after seq {}: replayed {}, gap {}",
                        lastSeq,
                        replay.entries().size(),
                        replay.hasGap() ? replay.gapFrom() + ".." + replay.gapTo() : "none");
    }

    private void onDetach(Connection connection) {
        assert executor.inEventLoop();
        if (viewers.detach(connection) || attached != connection) {
            return;
        }
        attached = null;
        tokenWatch.stop();
        if (state == SessionState.ENDED) {
            return;
        }
        Worker current = workers.current();
        if (current != null) {
            current.pauseOutput(false); // detached, its output goes to the replay buffer, bounded
        }
        reconnectTimer.arm(context.config().reconnectWindow(), () -> onEnd(EndReason.RECONNECT_WINDOW_EXPIRED));
        journal.detached(
                context.clock().millis() + context.config().reconnectWindow().toMillis());
        armInterruptAfterDisconnect();
        info().log("detached");
    }

    private void armInterruptAfterDisconnect() {
        if (attached == null && turn != null) {
            ClientMessage.Message running = turn;
            interruptTimer.arm(limits.interruptAfterDisconnect(), () -> {
                Worker current = workers.current();
                if (attached == null
                        && running.equals(turn)
                        && current != null
                        && requests.idsOfTurn(running.id()).isEmpty()) {
                    info().log(
                                    "interrupting turn {}: client gone for {}",
                                    running.id(),
                                    limits.interruptAfterDisconnect());
                    current.interrupt();
                }
            });
        }
    }

    private SessionSnapshot takeSnapshot() {
        assert executor.inEventLoop();
        Worker current = workers.current();
        Long pid = current == null || current.pid().isEmpty()
                ? null
                : current.pid().getAsLong();
        Long rss = workers.rssOf(current);
        DiskUse disk = lastDisk;
        Instant now = context.clock().instant();
        return new SessionSnapshot(
                id,
                subject,
                state,
                attached != null,
                history.newestSeq(),
                pid,
                rss,
                startedAt,
                Duration.between(startedAt, now),
                attached == null ? null : attached.token().expiresAt(),
                viewers.size(),
                disk != null && current != null && disk.of() == current ? disk.bytes() : null);
    }

    // ---- drain ----

    private void onDrain(long retryAfterSeconds) {
        assert executor.inEventLoop();
        if (draining || state == SessionState.ENDED) {
            settled.complete(null);
            return;
        }
        draining = true;
        drainRetryAfter = retryAfterSeconds;
        if (attached != null) {
            attached.send(new ServerMessage.ShuttingDown(retryAfterSeconds));
        }
        viewers.send(new ServerMessage.ShuttingDown(retryAfterSeconds));
        // With the shared store the session moves on and its queue with it; otherwise it ends with
        // the gateway, so what is queued is answered now.
        List<ClientMessage.Message> droppedAll = context.registry().store().shared() ? List.of() : inbox.takeQueued();
        if (!droppedAll.isEmpty()) {
            journal.queueCleared();
        }
        for (ClientMessage.Message dropped : droppedAll) {
            if (attached != null) {
                attached.send(new ServerMessage.ErrorFrame(
                        ErrorCode.SHUTTING_DOWN,
                        "the gateway is shutting down: this queued message was not started",
                        dropped.id(),
                        null));
            }
        }
        info().log("draining{}", turn == null ? "" : ": turn " + turn.id() + " may finish");
        settleIfNoTurn();
    }

    /** During a drain, completes {@link #settled} once no turn runs (called wherever the state changes). */
    private void settleIfNoTurn() {
        if (draining && state != SessionState.PROCESSING) {
            settled.complete(null);
        }
    }

    // ---- client frames ----

    private void onClientMessage(Connection connection, ClientMessage message) {
        assert executor.inEventLoop();
        if (viewers.receive(connection, message) || connection != attached || state == SessionState.ENDED) {
            return;
        }
        if (!frameRate.admit(connection, message instanceof ClientMessage.Message m ? m.id() : null)) {
            return;
        }
        if (message instanceof ClientMessage.Message m) {
            onMessage(connection, m);
        } else if (message instanceof ClientMessage.Ack ack) {
            onAck(connection, ack.seq());
        } else if (message instanceof ClientMessage.Interrupt) {
            Worker current = workers.current();
            if (turn != null && current != null) {
                cancelRequests(requests.idsOfTurn(turn.id()), true);
                current.interrupt();
            }
        } else if (message instanceof ClientMessage.Respond respond) {
            onRespond(connection, respond);
        } else if (message instanceof ClientMessage.AuthRefresh refresh) {
            onAuthRefresh(connection, refresh.token());
        } else if (message instanceof ClientMessage.Ping) {
            connection.send(new ServerMessage.Pong());
        } else if (message instanceof ClientMessage.End) {
            onClientEnd();
        } else if (message instanceof ClientMessage.Extend) {
            onExtend(connection);
        }
    }

    /** The session's end now: its creation plus {@code limits.max_duration} and every extension granted. */
    private Instant endsAt() {
        return startedAt.plus(clock.length());
    }

    /**
     * The owner asks for more time (contract 1.2, 8.3): granted while {@code limits.max_extensions}
     * lasts and the maximum has not been reached yet (once it has, the session is already ending);
     * the grant is journalled before its notice, so a node that takes the session over keeps it.
     */
    private void onExtend(Connection connection) {
        String refused = null;
        if (limits.maxExtensions() == 0) {
            refused = "this gateway grants no extensions";
        } else if (durationReached) {
            refused = "the session reached its maximum duration and is ending";
        } else if (extensions >= limits.maxExtensions()) {
            refused = "this session has used all " + limits.maxExtensions() + " of its extensions";
        }
        if (refused != null) {
            connection.send(ServerMessage.ErrorFrame.of(ErrorCode.EXTENSION_REFUSED, refused));
            return;
        }
        extensions++;
        clock.extend();
        journal.extended(extensions);
        notice(Notices.durationExtended(endsAt(), limits.maxExtensions() - extensions));
        info().log("extended ({} of {}): ends at {}", extensions, limits.maxExtensions(), endsAt());
    }

    /**
     * The owner ended the session on purpose: the running turn is interrupted, then the worker is
     * stopped through the usual path (shutdown line, stop and kill graces) as the session ends with
     * {@code client_end}, and the connection closes with 1000.
     */
    private void onClientEnd() {
        Worker current = workers.current();
        if (turn != null && current != null) {
            current.interrupt();
        }
        info().log("ended by its client");
        onEnd(EndReason.CLIENT_END, CloseCode.NORMAL);
    }

    private void onControlFrame(Connection connection, ControlFrame frame) {
        assert executor.inEventLoop();
        if (viewers.control(connection, frame) || connection != attached || !frameRate.admit(connection, null)) {
            return;
        }
        if (frame.kind() == ControlFrame.Kind.PING) {
            connection.pong(frame.payload());
        }
    }

    private void onBadFrame(Connection connection, ServerMessage.ErrorFrame error) {
        assert executor.inEventLoop();
        if (!viewers.reject(connection, error) && connection == attached && frameRate.admit(connection, error.id())) {
            connection.send(error);
        }
    }

    /** idle: processing; preparing, processing, restarting: queued. */
    private void onMessage(Connection connection, ClientMessage.Message message) {
        if (tokenWatch.expired(connection)) {
            connection.send(new ServerMessage.ErrorFrame(
                    ErrorCode.TOKEN_EXPIRED,
                    "the connection's token has expired: send auth_refresh, then this message again",
                    message.id(),
                    null));
            return;
        }
        if (draining && context.registry().store().shared() && inbox.isDuplicate(message)) {
            // Taken before the drain and kept (queued, or done): it is not refused, since with the
            // shared store a queued message goes on on the next node; it is what it was, a duplicate.
            connection.send(new ServerMessage.Accepted(message.id(), true, 0));
            return;
        }
        if (draining) {
            // Before the duplicate check: after shutting_down every message gets the same answer.
            connection.send(new ServerMessage.ErrorFrame(
                    ErrorCode.SHUTTING_DOWN,
                    "the gateway is shutting down: reconnect after retry_after seconds",
                    message.id(),
                    null));
            return;
        }
        if (inbox.isDuplicate(message)) {
            connection.send(new ServerMessage.Accepted(message.id(), true, 0));
            return;
        }
        if (durationReached) {
            connection.send(new ServerMessage.ErrorFrame(
                    ErrorCode.SESSION_BUSY,
                    "the session reached its maximum duration and is ending",
                    message.id(),
                    null));
            return;
        }
        if (state == SessionState.HIBERNATED && !wake()) {
            connection.send(new ServerMessage.ErrorFrame(
                    ErrorCode.SESSION_BUSY,
                    "the session is asleep and no worker is free to wake it: send the message again later",
                    message.id(),
                    null));
            return;
        }
        clock.messageTaken();
        if (state == SessionState.IDLE && inbox.isEmpty() && workers.current() != null) {
            inbox.takeDirectly(message);
            if (journal != Journal.NONE) {
                journal.taken(inbox.digestOf(message));
            }
            connection.send(new ServerMessage.Accepted(message.id(), false, 0));
            startTurn(message);
            return;
        }
        switch (inbox.offer(message)) {
            case QUEUED -> {
                if (journal != Journal.NONE) {
                    journal.taken(inbox.digestOf(message));
                    journal.queued(message);
                }
                connection.send(new ServerMessage.Accepted(message.id(), false, inbox.size()));
            }
            case FULL ->
                connection.send(new ServerMessage.ErrorFrame(
                        ErrorCode.QUEUE_FULL,
                        "inbound queue is full (" + inbox.bound() + " messages)",
                        message.id(),
                        null));
            case NO_QUEUEING ->
                connection.send(new ServerMessage.ErrorFrame(
                        ErrorCode.SESSION_BUSY,
                        "a turn is running and this gateway does not queue messages",
                        message.id(),
                        null));
            case DUPLICATE -> connection.send(new ServerMessage.Accepted(message.id(), true, 0));
        }
    }

    private void onAck(Connection connection, long seq) {
        if (seq > history.visibleSeq()) {
            connection.send(ServerMessage.ErrorFrame.of(
                    ErrorCode.INVALID_SEQUENCE, "ack " + seq + " is beyond the newest seq " + history.visibleSeq()));
            return;
        }
        history.ack(seq);
    }

    private void onAuthRefresh(Connection connection, String token) {
        if (tokenWatch.refresh(connection, token)) {
            info().log("credentials refreshed");
            ObjectNode now = forwardedClaims(context, connection.token(), id);
            if (now != null && !now.equals(claims)) {
                List<String> changed = Notices.changedClaims(claims, now);
                claims = now;
                workers.claims(now);
                notice(Notices.claimsChanged(changed));
                info().log("forwarded claims changed: {}", changed); // names only, never values
            }
        }
    }

    /**
     * The claims of {@code token} that {@code auth.forward_claims} names, credential-looking values
     * left out; null when it names none. Any thread.
     */
    static ObjectNode forwardedClaims(SessionContext context, VerifiedToken token, String sessionId) {
        ForwardedClaims forwarded = new ForwardedClaims(context.auth().forwardClaims());
        return forwarded.any() ? forwarded.of(token, sessionId) : null;
    }

    // ---- history ----

    private void emitStatus(SessionState next, String reason) {
        if (state == next && next != SessionState.PREPARING) {
            return;
        }
        state = next;
        emit(seq -> new ServerMessage.Status(seq, next, reason));
        journal.state(next, next == SessionState.PROCESSING && turn != null ? turn.id() : null);
        settleIfNoTurn();
    }

    private void notice(Notices.Notice notice) {
        if (state != SessionState.ENDED) {
            emit(seq -> new ServerMessage.Notice(seq, notice.code(), notice.message(), notice.details()));
        }
    }

    /** Numbers a history message, keeps it for replay and sends it to the attached connection (see {@link SessionHistory}). */
    private void emit(LongFunction<ServerMessage.Sequenced> message) {
        history.emit(message, attached);
    }

    /** Everything the {@link Journal} reports: what may be shown, and whether the store answers. */
    private void onJournal(Journal.Event event) {
        assert executor.inEventLoop();
        // A pattern switch once the build is on Java 21 or later; the same cases, one per event type.
        if (event instanceof Journal.Event.Stored stored) {
            onStored(stored.firstSeq(), stored.frames());
        } else if (event instanceof Journal.Event.Reserved reserved) {
            showHeld(reserved.upTo());
        } else if (event instanceof Journal.Event.Unavailable) {
            onStoreUnavailable();
        } else if (event instanceof Journal.Event.Available) {
            onStoreAvailable();
        } else if (event instanceof Journal.Event.Lost lost) {
            onLost(lost.why(), lost.replaced());
        }
    }

    /** History frames the journal stored: shown to the attached connection now, in order. */
    private void onStored(long firstSeq, List<byte[]> frames) {
        history.stored(firstSeq, frames, attached);
        closeIfAllShown();
    }

    /** Held history frames up to {@code upTo} may be shown: their seqs are reserved in the store. */
    private void showHeld(long upTo) {
        history.showUpTo(upTo, attached);
        closeIfAllShown();
    }

    /** The session ended while its last frames were held: the connection closes once they are shown. */
    private void closeIfAllShown() {
        if (closeWhenShown != null && attached != null && history.allShown()) {
            attached.close(closeWhenShown);
            attached = null;
        }
        closeViewersIfShown(false);
    }

    /**
     * The store has not answered for {@code sessions.redis.unavailable_after}: the session goes on
     * here, showing its output at once (held frames too) while the journal keeps what it must
     * write, within the replay bounds; the client is told with notice {@code store_unavailable}.
     */
    private void onStoreUnavailable() {
        if (!history.storeWentAway(attached)) {
            return;
        }
        closeIfAllShown(); // an ended session's last frames are shown now, then it closes
        if (state == SessionState.ENDED) {
            return;
        }
        warn().log("the session store does not answer: output is shown before it is stored");
        notice(Notices.storeUnavailable());
    }

    /** The store took the journal's writes again: frames wait for it again (notice {@code store_available}). */
    private void onStoreAvailable() {
        if (state == SessionState.ENDED || !history.storeCameBack()) {
            return;
        }
        info().log("the session store answers again");
        notice(Notices.storeAvailable());
    }

    /**
     * The session must leave this node: the worker is stopped and it leaves without a tombstone here
     * (the store has the truth); nothing more is written. If another node took it over
     * ({@code replaced}) the attached connection is told {@code session_replaced} (4001); otherwise
     * (the store lost it, or could not take this node's writes for too long) it is closed with 1001,
     * so its client resumes and learns from the store what became of the session.
     */
    private void onLost(String why, boolean replaced) {
        if (state == SessionState.ENDED) {
            return;
        }
        warn().log("session leaves this node ({}): {}", replaced ? "another node has it" : "the store lost it", why);
        context.metrics().sessionLeft(MeterNames.LEFT_LOST);
        leave(replaced ? CloseCode.SESSION_REPLACED : CloseCode.GOING_AWAY, replaced);
    }

    /** Stops everything here as the session leaves this node alive; {@code replaced}: its connection gets session_replaced. */
    private void leave(CloseCode close, boolean replaced) {
        // Resolved here, in the history that goes with the session: its worker is stopped now.
        cancelRequests(requests.ids(), false);
        requests.stopTimers();
        state = SessionState.ENDED;
        reconnectTimer.cancel();
        interruptTimer.cancel();
        handoffTimer.cancel();
        stall.stop();
        clock.cancel();
        tokenWatch.stop();
        turn = null;
        if (attached != null) {
            if (replaced) {
                attached.send(new ServerMessage.SessionReplaced());
            }
            attached.close(close);
            attached = null;
        }
        viewers.closeAll(CloseCode.GOING_AWAY, MeterNames.VIEWER_CUT_MOVED); // to reconnect where it went
        CompletableFuture<Void> stopped = workers.stopAll();
        Unwatched.whenComplete(stopped, (ignored, error) -> terminated.complete(null));
        settled.complete(null);
        context.registry().left(this);
    }

    // ---- viewers (contract 7.4) ----

    /**
     * A place for one more viewer, reserved at the upgrade, or null when {@code
     * sessions.max_viewers_per_session} viewers are there (or on their way). Any thread.
     */
    public Viewers.Slot reserveViewer() {
        return viewers.reserve();
    }

    /** Viewers attached now (or reserved at an upgrade); a snapshot. Any thread. */
    public int viewerCount() {
        return viewers.size();
    }

    /**
     * Adds {@code connection} as a read-only viewer in {@code slot} (reserved with {@link
     * #reserveViewer}): {@code session_ready} with role {@code viewer}, then everything after
     * {@code lastSeq}, then live history. Refused like a resume (ended, moving, {@code last_seq}
     * ahead: 4009) without disturbing anyone, the slot then given back. The attached connection is
     * never touched.
     */
    public void attachViewer(Connection connection, long lastSeq, Viewers.Slot slot) {
        requireNonNull(slot, "slot");
        executor.execute(() -> onAttachViewer(connection, lastSeq, slot));
    }

    private void onAttachViewer(Connection connection, long lastSeq, Viewers.Slot slot) {
        assert executor.inEventLoop();
        if (!connection.open()) {
            slot.release();
            return;
        }
        if (refuseAttach(connection, lastSeq, "connect again")) {
            slot.release();
            return;
        }
        connection.send(new ServerMessage.SessionReady(
                id,
                true,
                history.visibleSeq(),
                connection.token().expiresAt().getEpochSecond(),
                state,
                context.node(),
                Role.VIEWER,
                requests.listed(),
                endsAt().getEpochSecond(),
                null,
                null));
        history.replayTo(connection, lastSeq);
        viewers.add(connection, slot);
        if (draining) {
            connection.send(new ServerMessage.ShuttingDown(drainRetryAfter));
        }
        info().log(
                        "viewer {} ({}) attached after seq {}",
                        connection,
                        connection.token().subject(),
                        lastSeq);
    }

    /**
     * The session ended with {@code close} for its owner: its viewers get the same close once the
     * last frames (the {@code status ended}) are shown to them; an owner's own {@code end} (1000 for
     * the owner) is 4011 for them, since they did not end it.
     */
    private void endViewers(CloseCode close) {
        viewersCloseWhenShown = close == CloseCode.NORMAL ? CloseCode.SESSION_ENDED : close;
        closeViewersIfShown(false);
    }

    /** Closes the viewers of an ended session once every frame is shown ({@code anyway}: the store gave up). */
    private void closeViewersIfShown(boolean anyway) {
        if (viewersCloseWhenShown != null && (anyway || history.allShown())) {
            viewers.closeAll(viewersCloseWhenShown, MeterNames.VIEWER_CUT_ENDED);
            viewersCloseWhenShown = null;
        }
    }
}
