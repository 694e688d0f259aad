package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.config.SessionConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.metrics.MeterNames;
import dev.tether.gateway.metrics.SessionCensus;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.util.concurrent.EventExecutor;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * All live sessions of this gateway, the admission limits on creating them, and the tombstones of
 * the ones that ended recently.
 *
 * <p>Thread-safe: looked up from every channel's event loop. Admission reserves a slot
 * ({@link #admit}) at upgrade time, before the WebSocket exists, so that refusals can still be HTTP
 * responses; the slot is either turned into a session ({@link #create}) or given back
 * ({@link #release}).
 */
public final class SessionRegistry {

    /** The outcome of asking for a new session slot. */
    public enum Admission {
        ADMITTED,
        /** {@code sessions.max_sessions} reached: 503 {@code at_capacity}. */
        AT_CAPACITY,
        /** {@code sessions.max_sessions_per_user} reached: 429 {@code too_many_connections}. */
        USER_LIMIT
    }

    /** What a resume finds. Foreign sessions are reported exactly like unknown ones. */
    public sealed interface Lookup {
        record Found(Session session) implements Lookup {}

        record Expired(EndReason reason) implements Lookup {}

        record NotFound() implements Lookup {}

        /** Recorded in a format this node cannot read (contract 1.2, 8.8); left as it is. */
        record Incompatible(String format) implements Lookup {}
    }

    /** What a {@link #takeOver} comes to. */
    public sealed interface TakeOver {
        /** The session is here now: attach to it. */
        record Here(Session session) implements TakeOver {}

        /** The store says it cannot be taken over: ended, unknown, or stored in a format this node cannot read. */
        record Refused(SessionStore.Adoption adoption) implements TakeOver {}

        /** The store could not be reached, or the session kept moving: the client may resume again later. */
        record Failed(Throwable error) implements TakeOver {}
    }

    private record Tombstone(String subject, EndReason reason) {}

    private final WorkerSource workers;
    /**
     * What new sessions get and what admission checks; replaced whole by {@link #apply}. A session
     * keeps the context it was created with.
     */
    private volatile SessionContext context;

    private final SessionIds ids;
    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Integer> perUser = new ConcurrentHashMap<>();
    private final AtomicInteger total = new AtomicInteger();
    private final Cache<String, Tombstone> tombstones;
    private final GatewayMetrics metrics;
    /** Guards {@link #takeOver}'s check-then-create. */
    private final Object adoptions = new Object();
    /** Take-overs from the shared store under way on this node, by session id; guarded by {@link #adoptions}. */
    private final HashMap<String, CompletableFuture<TakeOver>> takingOver = new HashMap<>();
    /** Where sessions live beyond this node; {@link SessionStore#MEMORY} unless set at construction. */
    private SessionStore store = SessionStore.MEMORY;
    /** The line of {@code wait=1} connections waiting for a slot (contract 8.1). */
    private final AdmissionQueue admission =
            new AdmissionQueue(this, () -> context.config().admission());
    /** Once set, never cleared: the gateway is draining ({@link #drain}). */
    private volatile boolean draining;
    /** The {@code retry_after} of the drain, in seconds; written before {@link #draining}. */
    private volatile long drainRetryAfter;

    /**
     * A registry with the default auth and abuse settings and the system clock, for tests of other
     * concerns.
     */
    public SessionRegistry(
            SessionConfig config,
            LimitsConfig limits,
            WireCodec codec,
            TokenVerification verifier,
            WorkerSource workers,
            Ticker ticker) {
        this(
                config,
                limits,
                AuthConfig.defaults(),
                AbuseConfig.defaults(),
                null,
                codec,
                verifier,
                workers,
                ticker,
                Clock.systemUTC(),
                GatewayMetrics.NONE);
    }

    /**
     * @param ticker nanosecond time for tombstone expiry and the sessions' message rate limits
     * @param clock wall-clock time for token expiry
     * @param store where sessions are kept besides this node's memory ({@link SessionStore#MEMORY}: nowhere)
     */
    public SessionRegistry(
            GatewayConfig config,
            WireCodec codec,
            TokenVerification verifier,
            WorkerSource workers,
            Ticker ticker,
            Clock clock,
            GatewayMetrics metrics,
            SessionStore store) {
        this(
                config.sessions(),
                config.limits(),
                config.auth(),
                config.abuse(),
                config.server().nodeId(),
                codec,
                verifier,
                workers,
                ticker,
                clock,
                metrics);
        this.store = requireNonNull(store, "store");
    }

    private SessionRegistry(
            SessionConfig config,
            LimitsConfig limits,
            AuthConfig auth,
            AbuseConfig abuse,
            String nodeId,
            WireCodec codec,
            TokenVerification verifier,
            WorkerSource workers,
            Ticker ticker,
            Clock clock,
            GatewayMetrics metrics) {
        requireNonNull(config, "config");
        this.metrics = requireNonNull(metrics, "metrics");
        this.workers = requireNonNull(workers, "workers");
        this.context = new SessionContext(
                config, limits, auth, abuse, codec, verifier, workers, this, clock, ticker, metrics, nodeId);
        this.ids = new SessionIds(new SecureRandom(), nodeId);
        this.tombstones = Caffeine.newBuilder()
                .expireAfterWrite(config.tombstoneTtl())
                .maximumSize(config.tombstoneMaxEntries())
                .ticker(requireNonNull(ticker, "ticker"))
                .build();
    }

    /**
     * Switches to a reloaded configuration: admission checks its {@code sessions.max_sessions} and
     * {@code max_sessions_per_user} from now on (sessions already over a lowered limit stay), and
     * sessions created from now on get its {@code sessions}, {@code limits}, {@code auth} refresh
     * timings and {@code abuse} message limits. Existing sessions keep the settings they started
     * with; the tombstone cache keeps its size and expiry (restart-only keys). Any thread.
     */
    public void apply(GatewayConfig next) {
        SessionContext now = context;
        context = new SessionContext(
                next.sessions(),
                next.limits(),
                next.auth(),
                next.abuse(),
                now.codec(),
                now.verifier(),
                now.workers(),
                this,
                now.clock(),
                now.ticker(),
                now.metrics(),
                now.node());
    }

    /** Reserves a slot for a new session of {@code subject}, or says which limit refuses it. */
    public Admission admit(String subject) {
        return reserve(subject, context.config().maxSessionsPerUser());
    }

    /**
     * Reserves a slot for a session of {@code subject} that moves here from another node: only
     * {@code sessions.max_sessions} can refuse it. It was admitted against
     * {@code max_sessions_per_user} when it was created, in the store all nodes share; a user's
     * existing session is never refused for being one too many. Given back with {@link #release}.
     */
    public Admission admitMove(String subject) {
        return reserve(subject, Integer.MAX_VALUE);
    }

    private Admission reserve(String subject, int perUserLimit) {
        if (total.incrementAndGet() > context.config().maxSessions()) {
            total.decrementAndGet();
            return Admission.AT_CAPACITY;
        }
        if (perUser.merge(subject, 1, Integer::sum) > perUserLimit) {
            releaseQuietly(subject);
            return Admission.USER_LIMIT;
        }
        return Admission.ADMITTED;
    }

    /** Gives back a slot reserved with {@link #admit} that did not become a session; the line of waiters may move. */
    public void release(String subject) {
        releaseQuietly(subject);
        admission.slotFreed();
    }

    /** Like {@link #admit}, for the admission line itself. */
    Admission admitQuietly(String subject) {
        return admit(subject);
    }

    /** Gives back a slot without waking the admission line (the line gives back what it could not use). */
    void releaseQuietly(String subject) {
        perUser.computeIfPresent(subject, (s, n) -> n <= 1 ? null : n - 1);
        total.decrementAndGet();
    }

    /** The line of {@code wait=1} connections waiting for capacity (contract 8.1). */
    public AdmissionQueue admission() {
        return admission;
    }

    /**
     * Creates a session in a slot reserved with {@link #admit}, confined to {@code executor}, and
     * starts it there with the worker acquired for it at upgrade time.
     */
    public Session create(String subject, EventExecutor executor, CompletionStage<Worker> worker) {
        return create(ids.next(), subject, executor, worker, Journal.NONE);
    }

    /**
     * Like {@link #create(String, EventExecutor, CompletionStage)}, for session {@code id} (drawn with
     * {@link #nextId()}) already registered in the shared store, writing through {@code journal}.
     */
    public Session create(
            String id, String subject, EventExecutor executor, CompletionStage<Worker> worker, Journal journal) {
        Session session = new Session(id, subject, executor, context, journal, null, null);
        return started(session, worker);
    }

    /**
     * Like {@link #create(String, String, EventExecutor, CompletionStage, Journal)} for the owner of
     * {@code token}, whose forwarded claims ({@code auth.forward_claims}) its workers get; {@code id}
     * null draws one and writes no journal.
     */
    public Session create(
            String id, VerifiedToken token, EventExecutor executor, CompletionStage<Worker> worker, Journal journal) {
        String sessionId = id == null ? ids.next() : id;
        ObjectNode claims = Session.forwardedClaims(context, token, sessionId);
        Session session = new Session(sessionId, token.subject(), executor, context, journal, null, claims);
        return started(session, worker);
    }

    /**
     * Creates a fork of session {@code parent} (contract 1.2, 8.2) for the owner of {@code token},
     * like {@link #create(String, VerifiedToken, EventExecutor, CompletionStage, Journal)} (in a slot
     * reserved with {@link #admit}, with a worker acquired for it): a new session whose first worker
     * continues from {@code from}. {@code parent} itself is not touched.
     */
    public Session createFork(
            String id,
            VerifiedToken token,
            EventExecutor executor,
            CompletionStage<Worker> worker,
            Journal journal,
            String parent,
            ForkSource.Found from) {
        String sessionId = id == null ? ids.next() : id;
        ObjectNode claims = Session.forwardedClaims(context, token, sessionId);
        Session session = new Session(sessionId, token.subject(), executor, context, journal, null, claims);
        session.forkFrom(parent, from);
        metrics.sessionForked(from.checkpoint() != null);
        return started(session, worker);
    }

    /**
     * What a fork of session {@code id} by {@code subject} starts from (contract 1.2, 8.2): read on
     * the session's own loop when it is here, else from the shared store without claiming it.
     * Another user's session is {@link ForkSource.NotFound}, exactly like an unknown or malformed id.
     * The stage fails only when the store cannot be reached. Any thread; never blocks.
     */
    public CompletionStage<ForkSource> forkSource(String id, String subject) {
        Lookup here = lookup(id, subject);
        if (here instanceof Lookup.Expired expired) {
            return CompletableFuture.completedFuture(
                    new ForkSource.Ended(expired.reason().wire()));
        }
        if (!SessionIds.wellFormed(id)) {
            return CompletableFuture.completedFuture(new ForkSource.NotFound());
        }
        CompletionStage<ForkSource> local = here instanceof Lookup.Found found
                ? found.session().forkSource()
                : CompletableFuture.completedFuture(new ForkSource.NotFound());
        // Not here, or it left this node meanwhile: the shared store knows where it went.
        return local.thenCompose(source -> source instanceof ForkSource.NotFound && store.shared()
                ? store.forkSource(id, subject)
                : CompletableFuture.completedFuture(source));
    }

    /**
     * Takes session {@code id} of {@code subject} over from the shared store (contract 7.1) for a
     * resume that did not find it here, in a slot reserved with {@link #admitMove} and with a worker
     * acquired for it. Resumes of one session on this node share one take-over, and a take-over is
     * never started while the session is here: from the first check to the session being findable
     * nothing can slip in between, so this node never claims a session it already has (a claim
     * nobody here would use, which would leave the store naming this node while no copy runs).
     * The slot and worker are used by the resume that starts the take-over, if it succeeds, and
     * given back in every other case.
     */
    public CompletionStage<TakeOver> takeOver(
            String id, String subject, long lastSeq, EventExecutor executor, CompletionStage<Worker> worker) {
        CompletableFuture<TakeOver> mine = new CompletableFuture<>();
        Session here;
        CompletableFuture<TakeOver> running;
        synchronized (adoptions) {
            here = sessions.get(id);
            running = here == null ? takingOver.putIfAbsent(id, mine) : null;
        }
        if (here != null || running != null) {
            giveBack(subject, worker);
            CompletionStage<TakeOver> shared =
                    here != null ? CompletableFuture.completedFuture(new TakeOver.Here(here)) : running;
            // Another user's resume of the same id learns nothing about the session.
            return shared.thenApply(outcome ->
                    outcome instanceof TakeOver.Here h && !h.session().subject().equals(subject)
                            ? new TakeOver.Refused(new SessionStore.Adoption.NotFound())
                            : outcome);
        }
        long asked = System.nanoTime();
        CompletionStage<SessionStore.Adoption> adopting;
        try {
            adopting = store.adopt(id, subject, lastSeq, executor);
        } catch (RuntimeException e) {
            adopting = CompletableFuture.failedFuture(e); // never leave the take-over findable and unfinished
        }
        adopting.whenComplete((adoption, error) -> {
            metrics.sessionTakenOver(outcomeTag(adoption), Duration.ofNanos(System.nanoTime() - asked));
            TakeOver outcome;
            synchronized (adoptions) {
                try {
                    if (adoption instanceof SessionStore.Adoption.Adopted adopted) {
                        outcome = new TakeOver.Here(started(
                                new Session(
                                        id,
                                        subject,
                                        adopted.executor(),
                                        context,
                                        adopted.journal(),
                                        adopted.restored(),
                                        null),
                                worker));
                    } else {
                        outcome = error != null ? new TakeOver.Failed(error) : new TakeOver.Refused(adoption);
                    }
                } catch (RuntimeException e) {
                    outcome = new TakeOver.Failed(e); // the resumes waiting on it are answered all the same
                } finally {
                    takingOver.remove(id, mine);
                }
            }
            if (!(outcome instanceof TakeOver.Here)) {
                giveBack(subject, worker);
            }
            mine.complete(outcome);
        });
        return mine;
    }

    private static String outcomeTag(SessionStore.Adoption adoption) {
        if (adoption instanceof SessionStore.Adoption.Adopted) {
            return MeterNames.TAKEOVER_ADOPTED;
        } else if (adoption instanceof SessionStore.Adoption.NotFound) {
            return MeterNames.TAKEOVER_NOT_FOUND;
        } else if (adoption instanceof SessionStore.Adoption.Ended) {
            return MeterNames.TAKEOVER_ENDED;
        } else if (adoption instanceof SessionStore.Adoption.Incompatible) {
            return MeterNames.TAKEOVER_INCOMPATIBLE;
        }
        return MeterNames.TAKEOVER_FAILED;
    }

    private void giveBack(String subject, CompletionStage<Worker> worker) {
        release(subject);
        worker.thenAccept(Worker::stop);
    }

    /** A fresh session id. */
    public String nextId() {
        return ids.next();
    }

    private Session started(Session session, CompletionStage<Worker> worker) {
        // Started before it can be found: whatever another thread hands the session once it is in
        // the map (an attach, a hand-off request, an end) runs on its loop after its start.
        session.start(worker);
        Session previous = sessions.putIfAbsent(session.id(), session);
        if (previous != null) {
            throw new IllegalStateException("session " + session.id() + " is already on this node");
        }
        store.held(session.id(), session.subject());
        if (draining) {
            // Admitted just before the drain began: it drains too (after start(), on its loop).
            session.drain(drainRetryAfter);
        }
        return session;
    }

    /** Where sessions live beyond this node (the in-memory store keeps nothing beyond it). */
    public SessionStore store() {
        return store;
    }

    /**
     * Lets every session leave this node alive (a stop with the shared store), each on its own
     * loop; completes when all of them are released and their workers are gone.
     */
    public CompletableFuture<Void> releaseAll(CloseCode close) {
        List<Session> all = new ArrayList<>(sessions.values());
        CompletableFuture<?>[] released = new CompletableFuture<?>[all.size()];
        for (int i = 0; i < all.size(); i++) {
            released[i] = all.get(i).release(close).toCompletableFuture();
        }
        return CompletableFuture.allOf(released);
    }

    /** The source of workers, for admission at upgrade time and for restarts. */
    public WorkerSource workers() {
        return workers;
    }

    /** Finds {@code id} for {@code subject}; another user's session is reported as {@link Lookup.NotFound}. */
    public Lookup lookup(String id, String subject) {
        return lookup(id, subject::equals);
    }

    /**
     * Finds {@code id} for a viewer with {@code token} (contract 7.4): its owner's, or one its
     * {@code view} claim lists; any other is reported as {@link Lookup.NotFound}, like an unknown id.
     */
    public Lookup lookupViewer(String id, VerifiedToken token) {
        return lookup(id, owner -> token.mayView(id, owner));
    }

    private Lookup lookup(String id, Predicate<String> mayAccess) {
        if (!SessionIds.wellFormed(id)) {
            return new Lookup.NotFound();
        }
        Session session = sessions.get(id);
        if (session != null) {
            if (!mayAccess.test(session.subject())) {
                return new Lookup.NotFound();
            }
            Optional<String> unreadable = store.unreadableFormat(id);
            return unreadable.isPresent() ? new Lookup.Incompatible(unreadable.get()) : new Lookup.Found(session);
        }
        Tombstone tombstone = tombstones.getIfPresent(id);
        if (tombstone != null && mayAccess.test(tombstone.subject())) {
            return new Lookup.Expired(tombstone.reason());
        }
        return new Lookup.NotFound();
    }

    /** This node's {@code server.node_id}, or null when it has none. */
    public String node() {
        return context.node();
    }

    /** Called by a session that leaves this node alive (released or taken over): frees its slot, no tombstone. */
    void left(Session session) {
        if (sessions.remove(session.id(), session)) {
            store.forget(session.id());
            release(session.subject());
        }
    }

    /** Remembers that {@code id} of {@code subject} ended elsewhere, for {@code session_expired} here too. */
    public void endedElsewhere(String id, String subject, EndReason reason) {
        tombstones.put(id, new Tombstone(subject, reason));
    }

    /** Called by a session as it ends: frees its slot and leaves a tombstone. */
    void ended(Session session, EndReason reason) {
        tombstones.put(session.id(), new Tombstone(session.subject(), reason));
        if (sessions.remove(session.id(), session)) {
            store.forget(session.id());
            release(session.subject());
        }
    }

    /** A live session by id, whoever owns it (for operators and tests). */
    public Optional<Session> get(String id) {
        return Optional.ofNullable(sessions.get(id));
    }

    /** A snapshot of the live sessions. */
    public List<Session> all() {
        return List.copyOf(sessions.values());
    }

    /** Where sessions and the pipeline report their metrics. */
    public GatewayMetrics metrics() {
        return metrics;
    }

    /**
     * A snapshot of the live sessions for the metrics gauges. Any thread: reads only what each session
     * publishes through volatile fields.
     */
    public SessionCensus census() {
        EnumMap<SessionState, Integer> byState = new EnumMap<>(SessionState.class);
        int attached = 0;
        int storeAway = 0;
        long replayMessages = 0;
        long replayBytes = 0;
        for (Session session : sessions.values()) {
            byState.merge(session.state(), 1, Integer::sum);
            attached += session.attached() ? 1 : 0;
            storeAway += session.storeAway() ? 1 : 0;
            replayMessages += session.replayMessages();
            replayBytes += session.replayBytes();
        }
        int total = byState.values().stream().mapToInt(Integer::intValue).sum();
        return new SessionCensus(byState, attached, total - attached, replayMessages, replayBytes, storeAway);
    }

    /** Number of live sessions. */
    public int size() {
        return sessions.size();
    }

    /**
     * Whether {@code sessions.max_sessions} slots are taken (live sessions plus upgrades being
     * admitted): a new session would be refused with 503 {@code at_capacity}. Any thread; never blocks.
     */
    public boolean atCapacity() {
        return total.get() >= context.config().maxSessions();
    }

    /** Whether {@link #drain} was called. Any thread. */
    public boolean draining() {
        return draining;
    }

    /**
     * Starts draining every session (idempotent in effect: sessions drain once), including those
     * created from now on; see {@link Session#drain}. Upgrades consult {@link #draining()}.
     *
     * @return completes once no session that was live at this call runs a turn any more
     */
    public CompletableFuture<Void> drain(long retryAfterSeconds) {
        drainRetryAfter = retryAfterSeconds;
        draining = true;
        admission.drain(retryAfterSeconds);
        List<Session> all = new ArrayList<>(sessions.values());
        CompletableFuture<?>[] settled = new CompletableFuture<?>[all.size()];
        for (int i = 0; i < all.size(); i++) {
            settled[i] = all.get(i).drain(retryAfterSeconds).toCompletableFuture();
        }
        return CompletableFuture.allOf(settled);
    }

    /**
     * Ends every session (gateway shutdown), each on its own event loop; completes when all of them
     * have ended and their workers are gone.
     */
    public CompletableFuture<Void> endAll(EndReason reason) {
        return endAll(reason, CloseCode.SESSION_ENDED);
    }

    /** Like {@link #endAll(EndReason)}, closing attached connections with {@code close}. */
    public CompletableFuture<Void> endAll(EndReason reason, CloseCode close) {
        List<Session> all = new ArrayList<>(sessions.values());
        CompletableFuture<?>[] terminated = new CompletableFuture<?>[all.size()];
        for (int i = 0; i < all.size(); i++) {
            all.get(i).end(reason, close);
            terminated[i] = all.get(i).terminated().toCompletableFuture();
        }
        return CompletableFuture.allOf(terminated);
    }
}
