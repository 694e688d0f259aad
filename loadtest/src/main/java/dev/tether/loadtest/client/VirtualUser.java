package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.loadtest.audit.ConnectionAudit;
import dev.tether.loadtest.audit.SessionAudit;
import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.audit.ViolationKind;
import dev.tether.loadtest.client.RunStats.Metric;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.TcpRelay;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One simulated user: one gateway session at a time, over as many connections as it takes. It
 * sends messages when the scenario says so (at their scheduled time), measures round trips from
 * that scheduled time, audits every frame ({@link SessionAudit}), answers {@code refresh_required},
 * acks, and, when a connection is cut ({@link #cut(Disruption)}) or drops, resumes with
 * {@code last_seq} and re-sends what is unanswered and unaccepted under the same ids. A resume may
 * race several connections, be cut during its handshake or its replay, and go back below what was
 * processed; a session that comes back {@code session_expired} is replaced by a new one (its open
 * messages counted as lost with it).
 *
 * <p>Every connection sends a {@code ping} right after its {@code session_ready}: the gateway writes
 * the whole replay before it answers, so the {@code pong} tells the audit where the replay must
 * have ended.
 *
 * <p>At the end of a run it ends its session with {@code end} ({@link #end()}): the gateway stops
 * the worker, sends {@code status ended} with reason {@code client_end} and closes with 1000, so no
 * session is left waiting out its reconnect window; {@link #close()} instead only detaches.
 *
 * <p>Thread-safety: every method and every frame handler holds this object's lock; Tyrus calls
 * the handlers on its own threads, the scenario's sender and chaos timers call the methods, the
 * connector runs the (blocking) connects.
 */
public final class VirtualUser implements ScenarioUser {

    private static final WireCodec CODEC = new WireCodec();
    /** How long an aimed cut waits for a delta before it cuts anyway. */
    private static final Duration AIM_WAIT = Duration.ofSeconds(1);
    /** Resume attempts that may fail in a row (not counting planned handshake cuts) before the user gives up. */
    private static final int MAX_RESUME_FAILURES = 5;
    /** A session_expired this much before the reconnect window could have passed is premature. */
    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(1);
    /** The handshake timeout of a connection whose handshake is cut on purpose: it will not complete. */
    private static final Duration CUT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(3);
    /**
     * How long after a handshake cut a {@code session_replaced} on the connection in use is taken for
     * the cut connection's attach, arriving late at the gateway, rather than for a stranger's.
     */
    private static final Duration GHOST_WINDOW = Duration.ofSeconds(10);

    private final int index;
    private final String subject;
    private final ClientSettings settings;
    private final RunStats stats;
    private final TcpRelay relay;
    private final Executor connector;
    private final Random random;
    private final StreamAudit audit;
    private final UserTraffic traffic;
    /** The audit of the session this user holds now. */
    private SessionAudit session;

    private String sessionId;
    /** The gateway node serving the session ({@code session_ready.node}), resumed with {@code &node=} for the proxy's routing. */
    private String node;
    /** When {@link #node} said {@code session_ready} last: a fault on it after that took the session from it. */
    private long nodeSinceNanos;
    /** The connection in use was lost with a fault on its node (not away already): time the hand-off from the fault. */
    private boolean lostToFault;
    /** With several nodes: the node the next connection goes to ({@link #endpoint}). */
    private String targetNode;
    /** The connection in use, or being opened for a new session; null while away. */
    private Wire wire;

    private boolean up;
    /** From a cut or drop until a resume settles. */
    private Outage outage;
    /** An aimed cut waiting for the next delta. */
    private Disruption armed;
    /** How many plans were armed: tells a late timer of an earlier plan from the current one. */
    private long armings;
    /** The last cut's replay is being watched: whether it crossed the cut with new events. */
    private boolean episodeOpen;

    private long episodeReplayedNew;
    private boolean closing;
    private boolean ended;
    private boolean waitingColdReady;
    private boolean firstSession = true;
    /** {@link #end()} was called: send {@code end} as soon as a connection is up, then never resume. */
    private boolean ending;
    /** The connection on which {@code end} went out; its close completes {@link #endDone}. */
    private Wire endSentOn;

    private boolean endStatusSeen;
    private final CompletableFuture<EndOutcome> endDone = new CompletableFuture<>();
    private long connectStartNanos;
    private boolean awaitingCatchUp;
    private long lastAcked;
    private long nextId;
    private int unexpectedCloses;
    /** Until when a connection whose handshake was cut may still attach at the gateway (System.nanoTime). */
    private long ghostUntilNanos = System.nanoTime();

    /**
     * @param relay     when not null, connections go through it so that cuts can be abrupt or half-open
     * @param connector runs (blocking) connects and resumes
     */
    public VirtualUser(int index, String subject, ClientSettings settings, TcpRelay relay, Executor connector) {
        this.index = index;
        this.subject = requireNonNull(subject, "subject");
        this.settings = requireNonNull(settings, "settings");
        this.stats = settings.stats();
        this.relay = relay;
        this.connector = requireNonNull(connector, "connector");
        this.random = new Random(settings.chaos().seed() * 7919 + index);
        this.audit = new StreamAudit(settings.model(), settings.allowGaps());
        this.traffic = new UserTraffic(stats, settings.chaos(), random, this::newId, this::write);
    }

    /** The stats this user writes to. */
    public RunStats stats() {
        return stats;
    }

    public int index() {
        return index;
    }

    /** Opens a new session; completes when its {@code session_ready} arrived, or with a {@link Refusal}. */
    public CompletableFuture<Void> connect() {
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Wire opening;
        URI uri;
        synchronized (this) {
            connectStartNanos = System.nanoTime();
            session = audit.newSession();
            opening = new Wire(this, session.connect(false, 0), null, ready);
            wire = opening;
            uri = endpoint(null, 0);
            opening.node = targetNode;
        }
        open(opening, uri);
        return ready;
    }

    /** A new message id, unique within this user's sessions. */
    @Override
    public synchronized String newId() {
        nextId++;
        return "m" + nextId;
    }

    /**
     * Sends message {@code id} now; its latency counts from {@code scheduledNanos}. While the user
     * is reconnecting it waits and goes out right after the resume.
     */
    @Override
    public synchronized void send(String id, JsonNode data, long scheduledNanos) {
        if (closing || ended || ending) {
            return;
        }
        traffic.add(session, id, data, scheduledNanos, up);
    }

    /** Cuts the connection: a clean close (1000), or, with {@code abrupt} and a relay, a TCP reset; resumes at once. */
    public void cut(boolean abrupt) {
        cut(Disruption.of(abrupt, Duration.ZERO));
    }

    /** As {@link #cut(boolean)}, resuming {@code offline} later. */
    @Override
    public void cut(boolean abrupt, Duration offline) {
        cut(Disruption.of(abrupt, offline));
    }

    /**
     * Acts out {@code plan}: cuts the connection (at once, or at the next delta when aimed) and
     * resumes as planned. Does nothing while the user is not up (reconnecting, ending).
     *
     * @return whether the cut is under way
     */
    public synchronized boolean cut(Disruption plan) {
        if (!up || closing || ended || ending || outage != null || armed != null) {
            stats.count("cuts_skipped");
            return false;
        }
        if (plan.aimed()) {
            armed = plan;
            long arming = ++armings;
            CompletableFuture.delayedExecutor(AIM_WAIT.toNanos(), TimeUnit.NANOSECONDS, connector)
                    .execute(() -> fireArmed(plan, arming));
            return true;
        }
        cutNow(plan);
        return true;
    }

    /** Cuts now if the plan armed as {@code arming} is still armed (no delta came in time). */
    private synchronized void fireArmed(Disruption plan, long arming) {
        if (armed == null || armings != arming) {
            return;
        }
        armed = null;
        if (up && !closing && !ended && !ending && outage == null) {
            stats.count("cuts_aim_missed");
            cutNow(plan);
        }
    }

    private void cutNow(Disruption plan) {
        Disruption.Cut how = relay == null && plan.cut() != Disruption.Cut.CLEAN ? Disruption.Cut.CLEAN : plan.cut();
        long now = System.nanoTime();
        closeEpisode(false);
        episodeOpen = true;
        episodeReplayedNew = 0;
        Wire current = wire;
        goDown();
        abandon(current);
        Outage o = new Outage(plan, now);
        outage = o;
        stats.count("cuts");
        stats.count("cuts_" + how.key());
        switch (how) {
            case CLEAN -> current.close(1000, "chaos");
            case ABRUPT -> relay.reset();
            case BLACKHOLE -> relay.blackhole(nanos -> halfOpenClosed(o, nanos));
            case STALL ->
                relay.stall(
                        plan.offline().minusMillis(1500).isNegative()
                                ? Duration.ZERO
                                : plan.offline().minusMillis(1500),
                        nanos -> halfOpenClosed(o, nanos));
        }
        later(plan.offline(), () -> resume(o));
    }

    private synchronized void halfOpenClosed(Outage o, long nanos) {
        stats.latency(Metric.HALF_OPEN_CLOSED, 0, nanos);
        if (o.attempt == 0) {
            o.halfOpenFound = true;
            stats.count("half_open_found");
        } else {
            stats.count("half_open_found_after_resume");
        }
    }

    /** Whether the session's first worker is ready (at once from a warm pool, or after {@code preparing}). */
    @Override
    public synchronized boolean workerReady() {
        return sessionId != null && !waitingColdReady;
    }

    /** Whether the session has ended or could not be resumed. */
    @Override
    public synchronized boolean ended() {
        return ended;
    }

    /** Whether a connection is up and ready. */
    public synchronized boolean isUp() {
        return up;
    }

    public synchronized int pendingCount() {
        return traffic.size();
    }

    /** Waits until every sent message is answered, at most until {@code deadlineNanos}. */
    public synchronized boolean awaitAnswered(long deadlineNanos) throws InterruptedException {
        while (!traffic.isEmpty() && !ended) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return traffic.isEmpty();
    }

    /**
     * As {@link #awaitAnswered}, and also until a resume has delivered everything the server had
     * when it said {@code session_ready} (the last status after a result may come after it), so
     * that the next cut does not fall inside this resume's measurement.
     */
    @Override
    public synchronized boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException {
        while ((!traffic.isEmpty() || outage != null || awaitingCatchUp) && !ended) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return traffic.isEmpty() && outage == null && !awaitingCatchUp;
    }

    /**
     * Ends the session on purpose: sends {@code end} now, or, while a resume is under way, right
     * after it; no resume follows. The future completes when the gateway closes the connection (see
     * {@link EndOutcome}); it never completes for a gateway that does not answer, so callers bound
     * the wait. Idempotent.
     */
    public synchronized CompletableFuture<EndOutcome> end() {
        if (ending) {
            return endDone;
        }
        ending = true;
        armed = null;
        EndOutcome unsent = EndOutcome.unsent(sessionId != null || outage != null || wire != null, ended);
        if (unsent != null) {
            endDone.complete(unsent);
        } else if (up) {
            sendEnd();
        }
        return endDone;
    }

    private void sendEnd() {
        endSentOn = wire;
        wire.expectedEnd = true;
        write(new ClientMessage.End());
    }

    /** Ends the run for this user: closes with 1000 (a session not ended stays detached) and finishes the audit. */
    public synchronized void close() {
        if (closing) {
            return;
        }
        closing = true;
        armed = null;
        if (wire != null) {
            wire.expectedEnd = true;
            wire.close(1000, "done");
        }
        if (outage != null) {
            for (Wire racer : outage.open()) {
                racer.expectedEnd = true;
                racer.close(1000, "done");
            }
        }
        if (up) {
            up = false;
            stats.sessionDown();
        }
        audit.finish();
        if (relay != null) {
            relay.close();
        }
    }

    /** This user's audit, one per session it held; read it after {@link #close()}. */
    public synchronized StreamAudit audit() {
        return audit;
    }

    public synchronized String sessionId() {
        return sessionId;
    }

    // ---- connections ---------------------------------------------------------------------

    private URI endpoint(String session, long lastSeq) {
        return endpoint(session, lastSeq, false);
    }

    /**
     * The URI of the next connection. With several nodes ({@link ClientSettings#nodes()}) it goes to
     * the session's node while that one is up, else (or, with {@code elsewhere}, anyway) to another
     * node that is up; the relay, if any, is pointed there.
     */
    private URI endpoint(String session, long lastSeq, boolean elsewhere) {
        URI base = settings.uri();
        NodeRoute nodes = settings.nodes();
        if (nodes != null) {
            NodeRoute.Node to = nodes.pick(session == null ? null : node, elsewhere, index);
            targetNode = to.id();
            base = to.uri();
            if (relay != null) {
                relay.retarget(new InetSocketAddress(base.getHost(), base.getPort()));
            }
        }
        String authority = relay == null ? base.getRawAuthority() : "127.0.0.1:" + relay.port();
        return settings.upgradeUri(base, authority, session, lastSeq, node);
    }

    private void open(Wire opening, URI uri) {
        open(opening, uri, settings.connectTimeout());
    }

    private void open(Wire opening, URI uri, Duration timeout) {
        connector.execute(() -> {
            String token = settings.tokens().token(index, subject);
            try {
                opening.open(uri, token, timeout);
            } catch (Refusal refusal) {
                openFailed(opening, refusal);
            }
        });
    }

    private void later(Duration delay, Runnable task) {
        Executor executor = delay.isZero()
                ? connector
                : CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS, connector);
        executor.execute(task);
    }

    private void goDown() {
        if (up) {
            up = false;
            stats.sessionDown();
        }
        wire = null;
    }

    /** The user stops listening to {@code w}: whatever it still delivers is ignored (and replayed later). */
    private void abandon(Wire w) {
        if (w != null && !w.abandoned) {
            w.abandoned = true;
            w.expectedEnd = true;
            session.ended(w.connection);
        }
    }

    /** Starts (or restarts) the resume of outage {@code o}: one connection, or several racing. */
    private void resume(Outage o) {
        URI uri;
        Duration timeout;
        List<Wire> racers = new ArrayList<>();
        synchronized (this) {
            if (closing || ended || outage != o) {
                return;
            }
            long now = System.nanoTime();
            boolean first = o.attempt == 0;
            if (first && o.plan.cut().halfOpen() && relay != null && !o.halfOpenFound) {
                // Counted, not an error: a loaded machine can delay the gateway's heartbeat past the
                // user's return; the chaos scenario fails a run in which the heartbeat found none.
                stats.count("half_open_not_found_before_resume");
            }
            o.newAttempt(now);
            connectStartNanos = now;
            long processed = session.lastProcessed();
            long lastSeq = Math.max(lastAcked, processed - o.plan.rewind());
            if (first && lastSeq < processed) {
                stats.count("rewinds");
            }
            int n = first ? o.plan.racers() : 1;
            if (first && o.plan.handshakeCut() != null && relay != null) {
                o.handshakeCut = true;
                int attempt = o.attempt;
                relay.armHandshakeCut(o.plan.handshakeCut(), () -> handshakeCut(o, attempt));
                stats.count("cuts_handshake");
            }
            if (n > 1) {
                stats.count("races");
                stats.add("racers", n);
            }
            for (int i = 0; i < n; i++) {
                Wire racer = new Wire(this, session.connect(true, lastSeq), sessionId, new CompletableFuture<>());
                o.add(racer);
                racers.add(racer);
            }
            // A live hand-off: the resume goes to another node while the session's is up (chaos --hop-ratio).
            boolean hop = first
                    && settings.nodes() != null
                    && random.nextDouble() < settings.nodes().hopRatio();
            if (hop) {
                stats.count("hops");
            }
            uri = endpoint(sessionId, lastSeq, hop);
            for (Wire racer : racers) {
                racer.node = targetNode;
            }
            o.lastNode = targetNode;
            timeout = o.handshakeCut ? CUT_HANDSHAKE_TIMEOUT : settings.connectTimeout();
        }
        for (Wire racer : racers) {
            open(racer, uri, timeout);
        }
    }

    /** The relay cut attempt {@code attempt}'s handshake as planned: its connection is out, whatever Tyrus makes of it. */
    private synchronized void handshakeCut(Outage o, int attempt) {
        ghostUntilNanos = System.nanoTime() + GHOST_WINDOW.toNanos();
        if (outage == o && o.attempt == attempt) {
            for (Wire racer : o.open()) {
                racer.expectedEnd = true;
                racerOut(racer, "handshake_cut");
            }
        }
    }

    private synchronized void openFailed(Wire w, Refusal refusal) {
        if (outage != null && outage.races(w)) {
            racerOut(w, refusal.status() == 0 ? "connect_failed" : "http_" + refusal.status());
            return;
        }
        if (w == wire && !up) {
            // A new session's connect: its caller (the fleet, or a restart after an expiry) decides.
            wire = null;
            session.ended(w.connection);
            w.ready.completeExceptionally(refusal);
        }
    }

    synchronized void onOpen(Wire opened) {
        if (closing) {
            opened.expectedEnd = true;
            opened.close(1000, "done");
        }
    }

    synchronized void onClose(Wire closed, int code) {
        stats.closeCode(code);
        if (closed == endSentOn && endSentOn != null) {
            ended = true;
            endDone.complete(
                    code != 1000
                            ? new EndOutcome(false, "close_" + code)
                            : endStatusSeen ? EndOutcome.ENDED : new EndOutcome(false, "no_status"));
            notifyAll();
            return;
        }
        if (outage != null && outage.races(closed)) {
            racerOut(closed, "close_" + code);
            return;
        }
        if (closed.abandoned || closing || ended || closed != wire) {
            return;
        }
        // The connection in use (or a new session's, before its session_ready) went away unplanned.
        boolean wasUp = up;
        armed = null;
        goDown();
        session.ended(closed.connection);
        if (!wasUp) {
            closed.ready.completeExceptionally(new Refusal(0, new IllegalStateException("closed " + code)));
            return;
        }
        if (code == 4011) {
            stats.error("session_ended");
            endWithoutSession();
            return;
        }
        if (lostWithNode(closed)) {
            lostToFault = true;
        }
        if (!closed.expectedEnd && lostWithNode(closed)) {
            stats.count("node_lost_connections");
        } else if (!closed.expectedEnd) {
            stats.error("close_" + code);
            if (unexpectedCloses++ < 3) {
                System.err.printf(
                        "user %s, session %s: the connection in use closed with %d, %d ms after its last frame%n",
                        subject, sessionId, code, ms(System.nanoTime() - closed.lastFrameNanos));
            }
        }
        if (settings.resumeOnDrop() && sessionId != null && !ending) {
            stats.count("drops");
            Outage o = new Outage(Disruption.of(false, Duration.ZERO), System.nanoTime());
            outage = o;
            later(Duration.ZERO, () -> resume(o));
        } else {
            endWithoutSession();
        }
    }

    private void endWithoutSession() {
        ended = true;
        endDone.complete(EndOutcome.ALREADY_ENDED);
        notifyAll();
    }

    /** One connection of the current resume attempt is over; decides what the attempt came to. */
    private void racerOut(Wire racer, String why) {
        Outage o = outage;
        if (!o.out(racer)) {
            return;
        }
        session.ended(racer.connection);
        if (o.size() > 1 && why.equals("close_4001")) {
            stats.count("race_lost");
        }
        settleIfDecided(o, why);
    }

    private void settleIfDecided(Outage o, String why) {
        switch (o.decide(MAX_RESUME_FAILURES)) {
            case WAIT -> {}
            case SETTLE -> settle(o, o.winner());
            case SESSION_GONE -> sessionGone(o);
            case RETRY_NOW -> later(Duration.ZERO, () -> resume(o));
            case RETRY_LATER -> {
                if (o.busy) {
                    o.busy = false;
                    later(Duration.ofMillis(200L * o.failures), () -> resume(o));
                    return;
                }
                if (o.lastNode != null && nodeFaultedSince(o.lastNode, o.attemptStartNanos)) {
                    // The attempt went to a node that was drained or killed meanwhile: the next one goes elsewhere.
                    stats.count("resume_node_lost");
                    later(Duration.ZERO, () -> resume(o));
                    return;
                }
                stats.error("resume_" + why);
                later(Duration.ofMillis(200L * o.failures), () -> resume(o));
            }
            case GIVE_UP -> {
                stats.error("resume_" + why);
                outage = null;
                endWithoutSession();
            }
        }
    }

    /** The resume is decided: {@code winner} owns the session; traffic goes on. */
    private void settle(Outage o, Wire winner) {
        outage = null;
        wire = winner;
        up = true;
        stats.sessionUp();
        stats.count("resumes");
        if (o.plan.expectExpiry() && settings.chaos().reconnectWindow() != null) {
            session.violation(
                    ViolationKind.OUTLIVED_WINDOW,
                    "resumed " + ms(o.offlineNanos) + " ms after its connection was cut,"
                            + " with a reconnect window of "
                            + settings.chaos().reconnectWindow().toMillis() + " ms");
        }
        ConnectionAudit c = winner.connection;
        stats.add("missed_events", Math.max(0, c.readyLastSeq() - session.lastProcessed()));
        if (o.plan.replayCut() && relay != null && c.readyLastSeq() > c.requestedLastSeq() + 1) {
            winner.replayCutArmed = true;
        }
        awaitingCatchUp = true;
        checkCaughtUp(winner, System.nanoTime());
        traffic.resendUnaccepted();
        traffic.flushUnsent(session);
        if (ending && endSentOn == null) {
            sendEnd();
        }
        winner.ready.complete(null);
        notifyAll();
    }

    /** The session is gone (expired, not found, or refused): its open messages went with it; a new one starts. */
    private void sessionGone(Outage o) {
        outage = null;
        closeEpisode(false);
        Duration window = settings.chaos().reconnectWindow();
        if (o.expiredReason != null) {
            stats.count("sessions_expired");
            stats.count("expired_" + o.expiredReason);
            long away = o.attemptStartNanos - o.cutAtNanos;
            if (!o.plan.expectExpiry()
                    && window != null
                    && away < window.minus(EXPIRY_MARGIN).toNanos()) {
                session.violation(
                        ViolationKind.PREMATURE_EXPIRY,
                        "session_expired (" + o.expiredReason + ") on a resume " + ms(away)
                                + " ms after its connection was cut, with a reconnect window of " + window.toMillis()
                                + " ms");
            }
        } else if (o.notFound) {
            session.violation(
                    ViolationKind.SESSION_NOT_FOUND,
                    "resume " + ms(o.offlineNanos) + " ms after a cut answered session_not_found");
        } else {
            session.violation(
                    ViolationKind.SEQ_REUSED,
                    "resume with last_seq " + session.lastProcessed()
                            + " refused with invalid_sequence: the gateway's newest seq is below one it delivered");
        }
        session.finish(true);
        stats.add("messages_expired", traffic.dropSent());
        notifyAll();
        sessionId = null;
        lastAcked = 0;
        if (ending || closing) {
            endWithoutSession();
            return;
        }
        stats.count("sessions_restarted");
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Unwatched.whenComplete(ready, (ok, failure) -> {
            if (failure != null) {
                synchronized (this) {
                    stats.error("new_session_" + (failure instanceof Refusal r ? r.kind() : "failed"));
                    endWithoutSession();
                }
            }
        });
        session = audit.newSession();
        Wire opening = new Wire(this, session.connect(false, 0), null, ready);
        wire = opening;
        connectStartNanos = System.nanoTime();
        URI uri = endpoint(null, 0);
        opening.node = targetNode;
        open(opening, uri);
    }

    // ---- frames --------------------------------------------------------------------------

    synchronized void onFrame(Wire from, String text) {
        if (from.abandoned || !(from == wire || (outage != null && outage.races(from) && !outage.isOut(from)))) {
            return;
        }
        long now = System.nanoTime();
        from.lastFrameNanos = now;
        for (ServerMessage message : ServerFrames.decode(text, stats)) {
            onMessage(from, message, now);
        }
    }

    /** One message of a frame from {@code from}: a frame holds one, or several in a batch (contract 8.4). */
    private void onMessage(Wire from, ServerMessage message, long now) {
        if (message instanceof ServerMessage.SessionReady ready) {
            onReady(from, ready, now);
        } else if (message instanceof ServerMessage.Sequenced sequenced) {
            onSequenced(from, sequenced, now);
        } else if (message instanceof ServerMessage.Accepted accepted) {
            traffic.accepted(session, accepted, from == wire && up);
        } else if (message instanceof ServerMessage.ErrorFrame error) {
            onError(from, error);
        } else if (message instanceof ServerMessage.ReplayGap gap) {
            session.replayGap(from.connection, gap.from(), gap.to());
        } else if (message instanceof ServerMessage.Pong) {
            session.pong(from.connection);
        } else if (message instanceof ServerMessage.RefreshRequired) {
            if (settings.tokens().canMint()) {
                stats.count("refresh_sent");
                from.send(CODEC.encode(
                        new ClientMessage.AuthRefresh(settings.tokens().token(index, subject))));
            }
        } else if (message instanceof ServerMessage.AuthOk) {
            stats.count("refreshes");
        } else if (message instanceof ServerMessage.Queued) {
            stats.count("queued"); // waiting for capacity (wait=1, contract 8.1)
        } else if (message instanceof ServerMessage.SessionReplaced) {
            if (outage != null && outage.races(from)) {
                from.expectedEnd = true;
            } else if (now < ghostUntilNanos) {
                // The connection whose handshake this user cut had reached the gateway after all, and
                // its attach came after this one's: the user resumes again, as any client would.
                from.expectedEnd = true;
                stats.count("replaced_by_cut_connection");
            } else {
                stats.error("session_replaced");
            }
        } else if (message instanceof ServerMessage.ShuttingDown) {
            if (settings.nodes() != null
                    && from.node != null
                    && settings.nodes().lastFault(from.node) != null) {
                // A node drained on purpose: its close 1001 follows, and the user resumes on another node.
                from.expectedEnd = true;
                stats.count("node_shutting_down");
            } else {
                stats.error("shutting_down");
            }
        }
    }

    /** Whether connection {@code w}, which was up on its node, went away with a fault put on that node. */
    private boolean lostWithNode(Wire w) {
        return settings.nodes() != null && w.node != null && nodeFaultedSince(w.node, nodeSinceNanos);
    }

    /** Whether a fault was put on {@code nodeId} at or after {@code sinceNanos}. */
    private boolean nodeFaultedSince(String nodeId, long sinceNanos) {
        NodeRoute.Fault fault = settings.nodes().lastFault(nodeId);
        return fault != null && fault.atNanos() - sinceNanos >= 0;
    }

    /**
     * A resume's {@code session_ready} from node {@code now}, after the session was on {@code before}:
     * how long the hand-off took, from the resume's connect and, after a fault on the old node, from
     * the fault's signal.
     */
    private void handedOff(String before, String after, long readyNanos) {
        if (settings.nodes() == null || before == null || after == null || before.equals(after)) {
            return;
        }
        stats.count("handoffs");
        NodeRoute.Fault fault = settings.nodes().lastFault(before);
        // From the fault only when the user was on the node then: one already away would count its time away.
        boolean fromFault = lostToFault;
        lostToFault = false;
        if (fault == null || fault.atNanos() - nodeSinceNanos < 0) {
            stats.latency(Metric.HANDOFF_LIVE, connectStartNanos, readyNanos);
        } else if (fault.kind().equals("kill")) {
            stats.latency(Metric.HANDOFF_KILLED, connectStartNanos, readyNanos);
            if (fromFault) {
                stats.latency(Metric.KILL_TO_READY, fault.atNanos(), readyNanos);
            }
        } else {
            stats.latency(Metric.HANDOFF_DRAINED, connectStartNanos, readyNanos);
            if (fromFault) {
                stats.latency(Metric.DRAIN_TO_READY, fault.atNanos(), readyNanos);
            }
        }
    }

    private void onReady(Wire from, ServerMessage.SessionReady ready, long now) {
        session.ready(from.connection, ready, from.askedFor);
        if (from.askedFor != null) {
            handedOff(node, ready.node(), now);
        }
        node = ready.node();
        nodeSinceNanos = now;
        from.sawReady = true;
        from.send(CODEC.encode(new ClientMessage.Ping()));
        if (from.askedFor != null) {
            if (outage != null) {
                settleIfDecided(outage, "ready");
            }
            return;
        }
        sessionId = ready.sessionId();
        up = true;
        stats.sessionUp();
        if (firstSession) {
            firstSession = false;
            if (ready.state() == SessionState.PREPARING) {
                waitingColdReady = true;
            } else {
                stats.latency(Metric.READY_WARM, connectStartNanos, now);
            }
        }
        traffic.flushUnsent(session);
        if (ending && endSentOn == null) {
            sendEnd();
        }
        from.ready.complete(null);
    }

    private void onError(Wire from, ServerMessage.ErrorFrame error) {
        ErrorCode code = error.code();
        if (code == ErrorCode.SESSION_BUSY && settings.nodes() != null && outage != null && outage.races(from)) {
            // Retryable by contract (the store or the session's move not settled): the user resumes again a little
            // later.
            outage.busy = true;
            from.expectedEnd = true;
            stats.count("resume_session_busy");
            return;
        }
        if (outage != null
                && outage.races(from)
                && (code == ErrorCode.SESSION_EXPIRED
                        || code == ErrorCode.SESSION_NOT_FOUND
                        || code == ErrorCode.INVALID_SEQUENCE)) {
            if (code == ErrorCode.SESSION_EXPIRED) {
                outage.expiredReason = error.reason() == null ? "unknown" : error.reason();
            } else if (code == ErrorCode.SESSION_NOT_FOUND) {
                outage.notFound = true;
            } else {
                outage.invalidSequence = true;
            }
            from.expectedEnd = true;
            return;
        }
        if (code == ErrorCode.SHUTTING_DOWN
                && settings.nodes() != null
                && from.node != null
                && settings.nodes().lastFault(from.node) != null) {
            // A node drained on purpose refuses the messages still queued on it: refused, so accounted for, and
            // expected.
            stats.count("node_drain_refused");
        } else {
            stats.error("error_" + code.wire());
        }
        if (error.id() != null && traffic.refused(session, error.id())) {
            // Refused (queue_full, rate_limited, ...): never forwarded, so no result will come.
            notifyAll();
        }
    }

    private void onSequenced(Wire from, ServerMessage.Sequenced sequenced, long now) {
        SessionAudit.Arrival arrival = session.sequenced(from.connection, sequenced);
        if (arrival == SessionAudit.Arrival.NEW_REPLAYED && episodeOpen) {
            episodeReplayedNew++;
        }
        if (arrival != SessionAudit.Arrival.SEEN) {
            if (sequenced instanceof ServerMessage.Event event) {
                if (traffic.event(event.event(), now)) {
                    notifyAll();
                }
            } else if (sequenced instanceof ServerMessage.Status status) {
                onStatus(status, now);
            } else if (sequenced instanceof ServerMessage.Notice notice) {
                onNotice(notice);
            }
        }
        if (from != wire || !up) {
            return;
        }
        checkCaughtUp(from, now);
        if (from.replayCutArmed
                && from.connection.replays(sequenced.seq())
                && sequenced.seq() < from.connection.readyLastSeq()) {
            from.replayCutArmed = false;
            stats.count("cuts_during_replay");
            cutNow(new Disruption(Disruption.Cut.ABRUPT, Duration.ZERO, false, false, 1, null, false, 0));
            return;
        }
        if (armed != null
                && arrival == SessionAudit.Arrival.NEW_LIVE
                && sequenced instanceof ServerMessage.Event event
                && "delta".equals(event.event().path("type").asText())) {
            Disruption plan = armed;
            armed = null;
            stats.count("cuts_aimed");
            cutNow(plan);
            return;
        }
        long ackable = session.lastProcessed() - settings.chaos().ackLag();
        if (settings.ackEvery() > 0 && ackable - lastAcked >= settings.ackEvery()) {
            lastAcked = ackable;
            write(new ClientMessage.Ack(lastAcked));
        }
    }

    /** Once the connection in use has delivered everything its session_ready promised: the resume is complete. */
    private void checkCaughtUp(Wire w, long now) {
        if (awaitingCatchUp && w.connection.caughtUp()) {
            awaitingCatchUp = false;
            stats.latency(Metric.RESUME, connectStartNanos, now);
            closeEpisode(true);
            notifyAll();
        }
    }

    /** The last cut's story is told: whether its resume caught up, and whether events crossed it. */
    private void closeEpisode(boolean caughtUp) {
        if (!episodeOpen) {
            return;
        }
        episodeOpen = false;
        if (caughtUp) {
            stats.count("cuts_caught_up");
        }
        if (episodeReplayedNew > 0) {
            stats.count("cuts_replaying_new");
        }
    }

    private void onStatus(ServerMessage.Status status, long now) {
        if (status.state() == SessionState.IDLE && waitingColdReady) {
            waitingColdReady = false;
            stats.latency(Metric.READY_COLD, connectStartNanos, now);
        } else if (status.state() == SessionState.ENDED) {
            if (endSentOn != null && "client_end".equals(status.reason())) {
                endStatusSeen = true;
            } else {
                stats.error("session_ended_" + status.reason());
            }
        }
    }

    private void onNotice(ServerMessage.Notice notice) {
        stats.count("notice_" + notice.code());
        if (("worker_crashed".equals(notice.code())
                        || "worker_killed".equals(notice.code())
                        || "session_moved".equals(notice.code()))
                && notice.details() != null
                && notice.details().hasNonNull("turn_id")) {
            if (traffic.crashed(notice.details().get("turn_id").asText())) {
                notifyAll();
            }
        }
    }

    private void write(ClientMessage message) {
        if (wire != null && up) {
            wire.send(CODEC.encode(message));
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
