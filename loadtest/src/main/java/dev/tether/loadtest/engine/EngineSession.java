package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.loadtest.audit.ConnectionAudit;
import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.EndOutcome;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.RunStats.Metric;
import dev.tether.loadtest.client.ScenarioUser;
import dev.tether.loadtest.client.ServerFrames;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.EventLoop;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One virtual user of the engine: one session (for {@link Dialect#LINES}, one connection), over as
 * many connections as it takes. It sends when its {@link Pacer} or the scenario says so, measures
 * latencies from each message's scheduled time into the run's {@link RunStats}, audits its stream
 * ({@link StreamAudit}), acks, answers {@code refresh_required}, resumes with {@code last_seq}
 * after a cut, and at the end sends {@code end} (or only detaches, or, for {@link Dialect#LINES},
 * closes).
 *
 * <p>Confined to one event loop: every connection of the session is opened on it, and its state is
 * touched only there. The public methods may be called from any thread and hop over; what they
 * answer comes back as futures or through the few volatile flags.
 */
public final class EngineSession implements ScenarioUser {

    private static final WireCodec CODEC = new WireCodec();

    /** How an open connection was set up: {@link EngineClient#connect} or a test's fake. */
    interface Connector {
        void open(EventLoop loop, URI uri, String bearer, Duration timeout, Link.Listener listener);
    }

    private final int index;
    private final String subject;
    private final ClientSettings settings;
    private final RunStats stats;
    private final Dialect dialect;
    private final EventLoop loop;
    private final Connector connector;
    private final AtomicLong ids = new AtomicLong();
    private final Received received;
    private final List<CompletableFuture<Boolean>> answeredWaiters = new ArrayList<>();
    private final List<CompletableFuture<Boolean>> caughtUpWaiters = new ArrayList<>();
    private final CompletableFuture<EndOutcome> endDone = new CompletableFuture<>();
    private final CompletableFuture<Void> closedDone = new CompletableFuture<>();
    private Connection current;
    private Connection endSentOn;
    private Pacer pacer;
    private String sessionId;
    /** The gateway node serving the session ({@code session_ready.node}), resumed with {@code &node=} for the proxy's routing. */
    private String node;

    private boolean up;
    private boolean closing;
    private boolean ended;
    private boolean ending;
    private long connectStartNanos;
    private long resumeDelayNanos;
    private long framesIn;
    private long framesOut;
    private volatile boolean workerReady;
    private volatile boolean endedFlag;
    private volatile boolean asleep;
    private volatile int sleeps;

    EngineSession(
            int index, String subject, ClientSettings settings, Dialect dialect, EventLoop loop, Connector connector) {
        this.index = index;
        this.subject = requireNonNull(subject, "subject");
        this.settings = requireNonNull(settings, "settings");
        this.stats = settings.stats();
        this.dialect = requireNonNull(dialect, "dialect");
        this.loop = requireNonNull(loop, "loop");
        this.connector = requireNonNull(connector, "connector");
        this.received = new Received(stats, settings.ackEvery(), settings.model(), settings.allowGaps());
    }

    public int index() {
        return index;
    }

    /** A new message id, unique within this session. */
    @Override
    public String newId() {
        return "m" + ids.incrementAndGet();
    }

    /** Opens the session; completes on {@code session_ready} (for LINES, on the upgrade), or with a {@link Refusal}. */
    public CompletableFuture<Void> connect() {
        String token = dialect.sessions() ? settings.tokens().token(index, subject) : null;
        CompletableFuture<Void> ready = new CompletableFuture<>();
        loop.execute(() -> {
            connectStartNanos = System.nanoTime();
            open(endpoint(null, 0), token, ready, false, 0);
        });
        return ready;
    }

    /** Sends message {@code id} with {@code data}; its latency counts from {@code scheduledNanos}. */
    @Override
    public void send(String id, JsonNode data, long scheduledNanos) {
        onLoop(() -> sendOnLoop(id, data, scheduledNanos));
    }

    /** Sends on the open-loop {@code schedule} until {@code endNanos}; the future completes after the last send. */
    public CompletableFuture<Void> runOpenLoop(SessionSchedule schedule, long endNanos, JsonNode data) {
        return pace(
                () -> Pacer.open(loop, System::nanoTime, due -> sendOnLoop(newId(), data, due), schedule, endNanos));
    }

    /** Keeps {@code inFlight} messages outstanding from {@code startNanos} until {@code endNanos}. */
    public CompletableFuture<Void> runClosedLoop(int inFlight, long startNanos, long endNanos, JsonNode data) {
        return pace(() -> Pacer.closed(
                loop, System::nanoTime, now -> sendOnLoop(newId(), data, now), inFlight, startNanos, endNanos));
    }

    /** Stops the pacer of {@link #runOpenLoop} or {@link #runClosedLoop}: no more messages are sent by it. */
    public void stopSending() {
        onLoop(() -> {
            if (pacer != null) {
                pacer.stop();
            }
        });
    }

    private CompletableFuture<Void> pace(Supplier<Pacer> make) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        onLoop(() -> {
            pacer = make.get();
            Unwatched.whenComplete(pacer.done(), (v, e) -> done.complete(null));
            pacer.start();
        });
        return done;
    }

    /** Cuts the connection: a clean close (1000) or, with {@code abrupt}, a TCP close; resumes {@code resumeAfter} after the close. */
    @Override
    public void cut(boolean abrupt, Duration resumeAfter) {
        onLoop(() -> {
            if (!up || closing || ended || ending) {
                return;
            }
            resumeDelayNanos = resumeAfter.toNanos();
            setUp(false);
            current.expectedEnd = true;
            stats.count(abrupt ? "cuts_abrupt" : "cuts_clean");
            if (abrupt) {
                current.link.abort();
            } else {
                current.link.close(1000);
            }
        });
    }

    /** Whether the session's worker is ready (for LINES: the connection is open). */
    @Override
    public boolean workerReady() {
        return workerReady;
    }

    /** Whether the gateway has put the session to sleep ({@code status hibernated}, contract 8.9) and no message has gone out since. */
    public boolean asleep() {
        return asleep;
    }

    /** How many times the gateway has put the session to sleep. */
    public int sleeps() {
        return sleeps;
    }

    /** Whether the session has ended or could not be resumed. */
    @Override
    public boolean ended() {
        return endedFlag;
    }

    /** Completes with true once nothing sent is unanswered (false if the session ended first). */
    public CompletableFuture<Boolean> whenAnswered() {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        onLoop(() -> {
            answeredWaiters.add(f);
            signal();
        });
        return f;
    }

    @Override
    public boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException {
        try {
            return whenCaughtUp().get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /** As {@link #whenAnswered()}, and also until a resume has delivered everything {@code session_ready} named. */
    public CompletableFuture<Boolean> whenCaughtUp() {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        onLoop(() -> {
            caughtUpWaiters.add(f);
            signal();
        });
        return f;
    }

    /** Ends the session on purpose ({@code end}; for LINES a close); completes when the server has closed. Idempotent. */
    public CompletableFuture<EndOutcome> end() {
        onLoop(() -> {
            if (ending) {
                return;
            }
            ending = true;
            EndOutcome unsent = EndOutcome.unsent(sessionId != null, ended);
            if (unsent != null) {
                endDone.complete(unsent);
            } else if (up) {
                sendEnd();
            }
        });
        return endDone;
    }

    /** Ends the run for this user: closes with 1000 (a session not ended stays detached) and finishes the audit. */
    public CompletableFuture<Void> close() {
        onLoop(() -> {
            if (closing) {
                return;
            }
            closing = true;
            if (pacer != null) {
                pacer.stop();
            }
            if (current != null && current.link != null) {
                current.expectedEnd = true;
                current.link.close(1000);
            }
            setUp(false);
            received.finish();
            signal();
            closedDone.complete(null);
        });
        return closedDone;
    }

    /** This user's audit; read it after {@link #close()} completed. */
    public StreamAudit audit() {
        return received.audit();
    }

    /** Text frames received and sent; read after {@link #close()} completed. */
    public long framesIn() {
        return framesIn;
    }

    public long framesOut() {
        return framesOut;
    }

    // ---- on the loop ----------------------------------------------------------------------

    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private void setUp(boolean value) {
        if (up != value) {
            up = value;
            if (value) {
                stats.sessionUp();
            } else {
                stats.sessionDown();
            }
        }
    }

    private void markEnded() {
        ended = true;
        endedFlag = true;
        if (pacer != null) {
            pacer.stop();
        }
        signal();
    }

    private URI endpoint(String session, long lastSeq) {
        URI base = settings.uri();
        return settings.upgradeUri(base, base.getRawAuthority(), session, lastSeq, node);
    }

    private void open(URI uri, String token, CompletableFuture<Void> ready, boolean resume, long lastSeq) {
        ConnectionAudit audit = dialect.sessions() ? received.connect(resume, lastSeq) : null;
        connector.open(loop, uri, token, settings.connectTimeout(), new Connection(ready, audit));
    }

    private void sendOnLoop(String id, JsonNode data, long scheduledNanos) {
        assert loop.inEventLoop();
        if (closing || ended || ending) {
            return;
        }
        stats.offered(1);
        received.turns().add(id, scheduledNanos, data, up);
        if (up) {
            if (received.sending(id)) {
                asleep = false;
            }
            writeMessage(id, data);
            stats.sent();
        }
    }

    /** Writes message {@code id} (first time or again) and tells the audit. */
    private void writeMessage(String id, JsonNode data) {
        if (dialect.sessions()) {
            received.sent(id, data);
        }
        write(new ClientMessage.Message(id, data));
    }

    private void write(ClientMessage message) {
        if (current != null && current.link != null) {
            framesOut++;
            current.link.send(CODEC.encode(message));
        }
    }

    private void sendEnd() {
        endSentOn = current;
        current.expectedEnd = true;
        received.expectEnd();
        if (dialect.sessions()) {
            write(new ClientMessage.End());
        } else {
            current.link.close(1000);
        }
    }

    private void resume() {
        if (closing || ended) {
            return;
        }
        connectStartNanos = System.nanoTime();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Unwatched.whenComplete(ready, (ok, failure) -> {
            if (failure != null) {
                onLoop(() -> {
                    stats.error("resume_" + (failure instanceof Refusal r ? r.kind() : "failed"));
                    markEnded();
                    endDone.complete(EndOutcome.ALREADY_ENDED);
                });
            }
        });
        long lastSeq = received.lastProcessed();
        open(endpoint(sessionId, lastSeq), settings.tokens().token(index, subject), ready, true, lastSeq);
    }

    private void signal() {
        boolean answered = received.turns().isEmpty();
        if (answered || ended || closing) {
            answeredWaiters.forEach(f -> f.complete(answered));
            answeredWaiters.clear();
        }
        boolean caughtUp = answered && received.caughtUp();
        if (caughtUp || ended || closing) {
            caughtUpWaiters.forEach(f -> f.complete(caughtUp));
            caughtUpWaiters.clear();
        }
    }

    private void opened(Connection c) {
        if (closing) {
            c.expectedEnd = true;
            c.link.close(1000);
            c.ready.completeExceptionally(new IllegalStateException("closing"));
            return;
        }
        current = c;
        if (!dialect.sessions()) {
            // websocketd: the upgrade forks the worker; the connection is the session.
            sessionId = "lines-" + index;
            setUp(true);
            workerReady = true;
            stats.latency(Metric.READY_WARM, connectStartNanos, System.nanoTime());
            c.ready.complete(null);
        }
    }

    private void closed(Connection c, int code) {
        stats.closeCode(code);
        if (c.audit != null) {
            received.ended(c.audit);
        }
        boolean isCurrent = c == current;
        if (isCurrent) {
            setUp(false);
        }
        if (c == endSentOn) {
            markEnded();
            endDone.complete(
                    code != 1000
                            ? new EndOutcome(false, "close_" + code)
                            : received.endStatusSeen() || !dialect.sessions()
                                    ? EndOutcome.ENDED
                                    : new EndOutcome(false, "no_status"));
            c.ready.completeExceptionally(new IllegalStateException("ended " + code));
            return;
        }
        if (closing || ended) {
            return;
        }
        if (!c.expectedEnd && code != 4001) {
            stats.error("close_" + code);
        }
        if (isCurrent
                && dialect.sessions()
                && (c.expectedEnd || settings.resumeOnDrop())
                && code != 4004
                && code != 4011
                && sessionId != null) {
            loop.schedule(this::resume, resumeDelayNanos, TimeUnit.NANOSECONDS).addListener(Unwatched.LOG_FAILURE);
        } else if (isCurrent) {
            markEnded();
            endDone.complete(EndOutcome.ALREADY_ENDED);
        }
        c.ready.completeExceptionally(new IllegalStateException("closed " + code));
    }

    private void frame(Connection from, String text, long now) {
        if (from != current) {
            return;
        }
        framesIn++;
        if (!dialect.sessions()) {
            apply(received.line(text, now), now);
            return;
        }
        for (ServerMessage message : ServerFrames.decode(text, stats)) {
            if (from != current) {
                return; // a message of the batch replaced the connection
            }
            message(from, message, now);
        }
    }

    private void message(Connection from, ServerMessage message, long now) {
        if (message instanceof ServerMessage.SessionReady ready) {
            onReady(from, ready, now);
        } else if (message instanceof ServerMessage.RefreshRequired) {
            if (settings.tokens().canMint()) {
                stats.count("refresh_sent");
                write(new ClientMessage.AuthRefresh(settings.tokens().token(index, subject)));
            }
        } else if (message instanceof ServerMessage.SessionReplaced) {
            from.expectedEnd = true;
        } else {
            apply(received.message(from.audit, message, now), now);
        }
    }

    private void apply(Received.Effects effects, long now) {
        asleep = received.asleep();
        sleeps = received.sleeps();
        if (effects.coldReady()) {
            workerReady = true;
        }
        if (effects.ack() >= 0) {
            write(new ClientMessage.Ack(effects.ack()));
        }
        if (effects.answered()) {
            answered(now);
        } else if (effects.caughtUp()) {
            signal();
        }
    }

    private void onReady(Connection from, ServerMessage.SessionReady ready, long now) {
        boolean first = sessionId == null;
        received.ready(from.audit, ready, first ? null : sessionId);
        sessionId = ready.sessionId();
        node = ready.node();
        setUp(true);
        // Answered only after the whole replay was written: the audit checks that none of it is missing.
        write(new ClientMessage.Ping());
        Turns turns = received.turns();
        if (first) {
            if (ready.state() == SessionState.PREPARING) {
                received.awaitColdWorker(connectStartNanos);
            } else {
                workerReady = true;
                stats.latency(Metric.READY_WARM, connectStartNanos, now);
            }
        } else {
            apply(received.resumed(ready.lastSeq(), connectStartNanos, now), now);
            for (Turns.Pending p : turns.toResend()) {
                writeMessage(p.id, p.data);
                stats.count("resent");
            }
        }
        for (Turns.Pending p : turns.takeUnsent()) {
            writeMessage(p.id, p.data);
            stats.sent();
        }
        if (ending && endSentOn == null) {
            sendEnd();
        }
        from.ready.complete(null);
    }

    /** A turn was answered: wake waiters, and let a closed loop send the next message. */
    private void answered(long now) {
        signal();
        if (pacer != null) {
            pacer.answered(now);
        }
    }

    /** One connection attempt of this session: its frames count only while it is the current one. */
    private final class Connection implements Link.Listener {
        final CompletableFuture<Void> ready;
        /** This connection's view of the stream, for the audit; null for {@link Dialect#LINES}. */
        final ConnectionAudit audit;

        Link link;
        boolean expectedEnd;

        Connection(CompletableFuture<Void> ready, ConnectionAudit audit) {
            this.ready = ready;
            this.audit = audit;
        }

        @Override
        public void opened(Link opened) {
            this.link = opened;
            EngineSession.this.opened(this);
        }

        @Override
        public void refused(int status, Throwable cause) {
            if (audit != null) {
                received.ended(audit);
            }
            ready.completeExceptionally(Refusal.ofStatus(status, cause));
        }

        @Override
        public void frame(String text, long nanos) {
            EngineSession.this.frame(this, text, nanos);
        }

        @Override
        public void closed(int code) {
            EngineSession.this.closed(this, code);
        }
    }
}
