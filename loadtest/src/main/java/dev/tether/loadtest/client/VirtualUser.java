package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.client.RunStats.Metric;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One simulated user: one gateway session, over as many connections as it takes. It sends
 * messages when the scenario says so (at their scheduled time), measures round trips from that
 * scheduled time, audits its stream ({@link StreamAudit}), answers {@code refresh_required}, acks,
 * and, when a connection is cut, resumes with {@code last_seq} and re-sends what is unanswered
 * under the same ids.
 *
 * <p>At the end of a run it ends its session with {@code end} ({@link #end()}): the gateway stops
 * the worker, sends {@code status ended} with reason {@code client_end} and closes with 1000, so no
 * session is left waiting out its reconnect window; {@link #close()} instead only detaches.
 *
 * <p>Thread-safety: every method and every frame handler holds this object's lock; Tyrus calls
 * the handlers on its own threads, the scenario's sender and chaos timers call the methods.
 */
public final class VirtualUser {

    private static final WireCodec CODEC = new WireCodec();

    private final int index;
    private final String subject;
    private final ClientSettings settings;
    private final RunStats stats;
    private final TcpRelay relay;
    private final Executor connector;
    private final StreamAudit audit = new StreamAudit();
    private final InFlight pending = new InFlight();
    private String sessionId;
    private Wire wire;
    private boolean up;
    private boolean closing;
    private boolean ended;
    private boolean waitingColdReady;
    /** {@link #end()} was called: send {@code end} as soon as a connection is up, then never resume. */
    private boolean ending;
    /** The connection on which {@code end} went out; its close completes {@link #endDone}. */
    private Wire endSentOn;
    private boolean endStatusSeen;
    private final CompletableFuture<EndOutcome> endDone = new CompletableFuture<>();
    private long connectStartNanos;
    private long resumeTargetSeq = -1;
    private long lastAcked;
    private long nextId;
    private Duration resumeDelay = Duration.ZERO;

    /**
     * @param relay     when not null, connections go through it so that {@link #cut} can be abrupt
     * @param connector runs (blocking) connects and resumes
     */
    public VirtualUser(int index, String subject, ClientSettings settings, TcpRelay relay, Executor connector) {
        this.index = index;
        this.subject = requireNonNull(subject, "subject");
        this.settings = requireNonNull(settings, "settings");
        this.stats = settings.stats();
        this.relay = relay;
        this.connector = requireNonNull(connector, "connector");
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
        synchronized (this) {
            connectStartNanos = System.nanoTime();
        }
        openWire(endpoint(null, 0), ready);
        return ready;
    }

    /** A new message id, unique within this session. */
    public synchronized String newId() {
        return "m" + (++nextId);
    }

    /**
     * Sends message {@code id} now; its latency counts from {@code scheduledNanos}. While the user
     * is reconnecting it waits and goes out right after the resume.
     */
    public synchronized void send(String id, JsonNode data, long scheduledNanos) {
        if (closing || ended || ending) {
            return;
        }
        pending.add(id, scheduledNanos, data, up);
        audit.sent(id);
        if (up) {
            write(new ClientMessage.Message(id, data));
            stats.sent();
        }
    }

    /**
     * Cuts the connection: a clean close (1000), or, with {@code abrupt} and a relay, a TCP reset.
     * The user resumes on its own once the close is seen.
     */
    public void cut(boolean abrupt) {
        cut(abrupt, Duration.ZERO);
    }

    /** As {@link #cut(boolean)}, resuming only {@code resumeAfter} after the close was seen. */
    public synchronized void cut(boolean abrupt, Duration resumeAfter) {
        if (!up || closing || ended || ending) {
            return;
        }
        this.resumeDelay = requireNonNull(resumeAfter, "resumeAfter");
        up = false;
        stats.sessionDown();
        Wire current = wire;
        current.expectedEnd = true;
        if (abrupt && relay != null) {
            stats.count("cuts_abrupt");
            relay.reset();
        } else {
            stats.count("cuts_clean");
            current.close(1000, "chaos");
        }
    }

    /** Whether the session's first worker is ready (at once from a warm pool, or after {@code preparing}). */
    public synchronized boolean workerReady() {
        return sessionId != null && !waitingColdReady;
    }

    /** Whether the session has ended or could not be resumed. */
    public synchronized boolean ended() {
        return ended;
    }

    /** Whether a connection is up and ready. */
    public synchronized boolean isUp() {
        return up;
    }

    public synchronized int pendingCount() {
        return pending.size();
    }

    /** Waits until every sent message is answered, at most until {@code deadlineNanos}. */
    public synchronized boolean awaitAnswered(long deadlineNanos) throws InterruptedException {
        while (!pending.isEmpty() && !ended) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return pending.isEmpty();
    }

    /**
     * As {@link #awaitAnswered}, and also until a resume has delivered everything the server had
     * when it said {@code session_ready} (the last status after a result may come after it), so
     * that the next cut does not fall inside this resume's measurement.
     */
    public synchronized boolean awaitCaughtUp(long deadlineNanos) throws InterruptedException {
        while ((!pending.isEmpty() || resumeTargetSeq >= 0) && !ended) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return pending.isEmpty() && resumeTargetSeq < 0;
    }

    /**
     * How {@link #end()} turned out.
     *
     * @param ended the gateway closed with 1000 after {@code end}
     * @param detail for a failure, what happened: {@code close_<code>}, {@code no_status} (closed with 1000
     *     without {@code status ended} {@code client_end} first), {@code already_ended} (the session had
     *     ended before, e.g. a resume refused), {@code no_session} (it never opened); callers that stop
     *     waiting add their own ({@code timeout}); null when ended
     */
    public record EndOutcome(boolean ended, String detail) {
        public static final EndOutcome ENDED = new EndOutcome(true, null);
        public static final EndOutcome ALREADY_ENDED = new EndOutcome(false, "already_ended");
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
        if (sessionId == null) {
            endDone.complete(new EndOutcome(false, "no_session"));
        } else if (ended) {
            endDone.complete(EndOutcome.ALREADY_ENDED);
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
        if (wire != null) {
            wire.expectedEnd = true;
            wire.close(1000, "done");
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

    /** This user's audit; read it after {@link #close()}. */
    public synchronized StreamAudit audit() {
        return audit;
    }

    public synchronized String sessionId() {
        return sessionId;
    }

    // ---- connection handling -------------------------------------------------------------

    private URI endpoint(String session, long lastSeq) {
        URI base = settings.uri();
        String authority = relay == null ? base.getRawAuthority() : "127.0.0.1:" + relay.port();
        String query = session == null ? "" : "?session=" + session + "&last_seq=" + lastSeq;
        return URI.create(base.getScheme() + "://" + authority + base.getRawPath() + query);
    }

    private void openWire(URI uri, CompletableFuture<Void> ready) {
        connector.execute(() -> {
            Wire next = new Wire(this, ready);
            String token = settings.tokens().token(index, subject);
            try {
                next.open(uri, token, settings.connectTimeout());
            } catch (Refusal refusal) {
                ready.completeExceptionally(refusal);
            }
        });
    }

    private void resume() {
        long lastSeq;
        synchronized (this) {
            if (closing || ended) {
                return;
            }
            lastSeq = audit.lastProcessed();
            connectStartNanos = System.nanoTime();
        }
        CompletableFuture<Void> ready = new CompletableFuture<>();
        ready.whenComplete((ok, failure) -> {
            if (failure != null) {
                stats.error("resume_" + (failure instanceof Refusal r ? r.kind() : "failed"));
                synchronized (this) {
                    ended = true;
                    endDone.complete(EndOutcome.ALREADY_ENDED);
                    notifyAll();
                }
            }
        });
        openWire(endpoint(sessionId, lastSeq), ready);
    }

    synchronized void onOpen(Wire opened) {
        if (closing) {
            opened.expectedEnd = true;
            opened.close(1000, "done");
            return;
        }
        wire = opened;
        audit.connected();
    }

    synchronized void onClose(Wire closed, int code) {
        stats.closeCode(code);
        boolean current = closed == wire;
        if (current && up) {
            up = false;
            stats.sessionDown();
        }
        if (closed == endSentOn && endSentOn != null) {
            ended = true;
            endDone.complete(code != 1000 ? new EndOutcome(false, "close_" + code)
                    : endStatusSeen ? EndOutcome.ENDED : new EndOutcome(false, "no_status"));
            notifyAll();
            closed.ready.completeExceptionally(new Refusal(0, new IllegalStateException("ended " + code)));
            return;
        }
        if (closing || ended) {
            return;
        }
        if (!closed.expectedEnd && code != 4001) {
            stats.error("close_" + code);
        }
        if (current && (closed.expectedEnd || settings.resumeOnDrop()) && code != 4004 && code != 4011 && sessionId != null) {
            Executor later = resumeDelay.isZero() ? connector
                    : CompletableFuture.delayedExecutor(resumeDelay.toNanos(), TimeUnit.NANOSECONDS, connector);
            later.execute(this::resume);
        } else if (current) {
            ended = true;
            endDone.complete(EndOutcome.ALREADY_ENDED);
            notifyAll();
        }
        closed.ready.completeExceptionally(new Refusal(0, new IllegalStateException("closed " + code)));
    }

    synchronized void onFrame(Wire from, String text) {
        if (from != wire) {
            return;
        }
        long now = System.nanoTime();
        ServerMessage message;
        try {
            message = CODEC.decodeServer(text);
        } catch (RuntimeException e) {
            stats.error("undecodable_frame");
            return;
        }
        if (message instanceof ServerMessage.SessionReady ready) {
            onReady(from, ready, now);
        } else if (message instanceof ServerMessage.Sequenced sequenced) {
            onSequenced(sequenced, now);
        } else if (message instanceof ServerMessage.Accepted accepted) {
            if (accepted.duplicate()) {
                stats.count("accepted_duplicate");
            }
            InFlight.Message m = pending.get(accepted.id());
            if (m != null) {
                m.accepted = true;
            }
        } else if (message instanceof ServerMessage.Error error) {
            stats.error("error_" + error.code().wire());
            if (error.id() != null && pending.answered(error.id()) != null) {
                // Refused (queue_full, rate_limited, ...): never forwarded, so no result will come.
                audit.refused(error.id());
                notifyAll();
            }
        } else if (message instanceof ServerMessage.ReplayGap gap) {
            audit.replayGap(gap.from(), gap.to());
        } else if (message instanceof ServerMessage.RefreshRequired) {
            if (settings.tokens().canMint()) {
                stats.count("refresh_sent");
                write(new ClientMessage.AuthRefresh(settings.tokens().token(index, subject)));
            }
        } else if (message instanceof ServerMessage.AuthOk) {
            stats.count("refreshes");
        } else if (message instanceof ServerMessage.SessionReplaced) {
            from.expectedEnd = true;
        } else if (message instanceof ServerMessage.ShuttingDown) {
            stats.error("shutting_down");
        }
    }

    private void onReady(Wire from, ServerMessage.SessionReady ready, long now) {
        boolean first = sessionId == null;
        sessionId = ready.sessionId();
        audit.session(sessionId);
        up = true;
        stats.sessionUp();
        if (first) {
            if (ready.state() == SessionState.PREPARING) {
                waitingColdReady = true;
            } else {
                stats.latency(Metric.READY_WARM, connectStartNanos, now);
            }
        } else {
            stats.count("resumes");
            stats.add("missed_events", Math.max(0, ready.lastSeq() - audit.lastProcessed()));
            resumeTargetSeq = ready.lastSeq();
            checkResumed(now);
            resend();
        }
        for (InFlight.Message m : pending.takeUnsent()) {
            write(new ClientMessage.Message(m.id, m.data));
            stats.sent();
        }
        if (ending && endSentOn == null) {
            sendEnd();
        }
        from.ready.complete(null);
    }

    private void resend() {
        for (InFlight.Message m : pending.toResend()) {
            write(new ClientMessage.Message(m.id, m.data));
            stats.count("resent");
        }
    }

    private void checkResumed(long now) {
        if (resumeTargetSeq >= 0 && audit.lastProcessed() >= resumeTargetSeq) {
            stats.latency(Metric.RESUME, connectStartNanos, now);
            resumeTargetSeq = -1;
            notifyAll();
        }
    }

    private void onSequenced(ServerMessage.Sequenced sequenced, long now) {
        if (!audit.sequenced(sequenced.seq())) {
            return;
        }
        if (sequenced instanceof ServerMessage.Event event) {
            onEvent(event.event(), now);
        } else if (sequenced instanceof ServerMessage.Status status) {
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
        } else if (sequenced instanceof ServerMessage.Notice notice) {
            stats.count("notice_" + notice.code());
            if ("worker_crashed".equals(notice.code()) && notice.details() != null
                    && notice.details().hasNonNull("turn_id")) {
                String turn = notice.details().get("turn_id").asText();
                audit.workerCrashed(turn);
                if (pending.answered(turn) != null) {
                    notifyAll();
                }
            }
        }
        checkResumed(now);
        if (settings.ackEvery() > 0 && audit.lastProcessed() - lastAcked >= settings.ackEvery()) {
            lastAcked = audit.lastProcessed();
            write(new ClientMessage.Ack(lastAcked));
        }
    }

    private void onEvent(JsonNode event, long now) {
        stats.event();
        JsonNode idNode = event.get("id");
        if (idNode == null || !idNode.isTextual()) {
            return;
        }
        String id = idNode.textValue();
        InFlight.Message p = pending.get(id);
        if (p != null && !p.firstEventSeen) {
            p.firstEventSeen = true;
            stats.latency(Metric.FIRST_EVENT, p.scheduledNanos, now);
        }
        if ("result".equals(event.path("type").asText())) {
            audit.result(id);
            if (p != null) {
                pending.answered(id);
                stats.result();
                stats.latency(Metric.ROUND_TRIP, p.scheduledNanos, now);
                notifyAll();
            }
        }
    }

    private void write(ClientMessage message) {
        if (wire != null) {
            wire.send(CODEC.encode(message));
        }
    }
}
