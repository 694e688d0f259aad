package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Connects;
import dev.tether.loadtest.client.EndOutcome;
import dev.tether.loadtest.client.Ending;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.SessionFleet;
import dev.tether.loadtest.token.TokenSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The engine's virtual users of a run: creates them (each on one of the client's event loops, round
 * robin), opens their sessions at a paced rate, warms the client up, and at the end waits for the
 * answers in flight, ends the sessions (or leaves them) and closes them. Driven from the scenario's
 * thread; the sessions themselves run on the event loops.
 */
public final class EngineFleet implements SessionFleet, AutoCloseable {

    private final EngineClient client;
    private final ClientSettings settings;
    private final Dialect dialect;
    private final String subjectPrefix;
    private final List<EngineSession> sessions = new ArrayList<>();
    private final List<EngineSession> connected = new ArrayList<>();

    public EngineFleet(EngineClient client, ClientSettings settings, Dialect dialect, String subjectPrefix) {
        this.client = requireNonNull(client, "client");
        this.settings = requireNonNull(settings, "settings");
        this.dialect = requireNonNull(dialect, "dialect");
        this.subjectPrefix = requireNonNull(subjectPrefix, "subjectPrefix");
    }

    public RunStats stats() {
        return settings.stats();
    }

    public Dialect dialect() {
        return dialect;
    }

    private EngineSession session(int index, String subject, ClientSettings with) {
        return new EngineSession(index, subject, with, dialect, client.nextLoop(), client::connect);
    }

    /**
     * Opens {@code n} sessions, {@code perSecond} connects a second (paced on this thread), and
     * waits for all of them (each at most {@code timeout} after it started).
     *
     * @return the refusals of the sessions that did not open (null for a timeout)
     */
    @Override
    public List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException {
        return connect(n, perSecond, timeout, Opening.NONE);
    }

    /**
     * What a scenario does while its sessions open: {@link #stop} is asked before each connect (true:
     * open no more), {@link #settled} is told when the session's connect completed (failure null) or
     * failed, on the thread that completed it (the session's event loop, or the timer of a timeout).
     */
    public interface Opening {
        Opening NONE = new Opening() {};

        /** Whether to open no more sessions, {@code started} having been started. */
        default boolean stop(int started) {
            return false;
        }

        /** Session {@code s} is ready (failure null) or did not open. */
        default void settled(EngineSession s, Throwable failure) {}
    }

    /**
     * As {@link #connect(int, double, Duration)}, telling {@code opening} of each session as it
     * settles and stopping early when it says so.
     */
    public List<Refusal> connect(int n, double perSecond, Duration timeout, Opening opening)
            throws InterruptedException {
        long start = System.nanoTime();
        double nanosPer = 1e9 / perSecond;
        List<CompletableFuture<Void>> connects = new ArrayList<>();
        List<EngineSession> opened = new ArrayList<>();
        for (int i = 0; i < n && !opening.stop(i); i++) {
            long due = start + Math.round(i * nanosPer);
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            int index = sessions.size();
            EngineSession s = session(index, subjectPrefix + index, settings);
            sessions.add(s);
            opened.add(s);
            CompletableFuture<Void> ready = s.connect().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Unwatched.whenComplete(ready, (ok, failure) -> opening.settled(s, failure));
            connects.add(ready);
        }
        return Connects.settle(
                opened, connects, connected, s -> s.close().exceptionally(Unwatched::logFailure), settings.stats());
    }

    /**
     * Warms this client up before anything is measured: opens {@code n} real sessions at once with
     * stats of their own (subjects {@code <prefix>warmup-<i>}), waits for them and ends them, so that
     * class loading, the JIT and the first token are not timed. Waits at most {@code timeout} in all.
     *
     * @return how many warm-up sessions became ready
     */
    @Override
    public int warmUpClient(int n, Duration timeout) throws InterruptedException {
        ClientSettings own = settings.forWarmUp();
        long deadline = System.nanoTime() + timeout.toNanos();
        List<EngineSession> warmups = new ArrayList<>();
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            EngineSession s = session(i, subjectPrefix + "warmup-" + i, own);
            warmups.add(s);
            ready.add(s.connect());
        }
        int up = 0;
        List<CompletableFuture<EndOutcome>> ends = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (await(ready.get(i), deadline)) {
                up++;
                ends.add(warmups.get(i).end());
            }
        }
        for (CompletableFuture<EndOutcome> end : ends) {
            await(end, deadline);
        }
        for (EngineSession s : warmups) {
            await(s.close(), deadline);
        }
        return up;
    }

    /**
     * Makes {@code times} upgrades with a token the gateway refuses (401), one after the other, so
     * that the connect path is warm while no session is created; returns how many were answered 401.
     */
    public int refusedUpgrades(int times) throws InterruptedException {
        TokenSource bad = new TokenSource() {
            @Override
            public String token(int index, String subject) {
                return "not-a-token";
            }

            @Override
            public boolean canMint() {
                return false;
            }
        };
        ClientSettings own = ClientSettings.plain(
                settings.uri(), bad, new RunStats(), 0, settings.connectTimeout(), settings.model());
        int refused = 0;
        for (int i = 0; i < times; i++) {
            EngineSession s = session(i, subjectPrefix + "refused", own);
            try {
                s.connect().get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
                s.close().exceptionally(Unwatched::logFailure);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Refusal r && r.status() == 401) {
                    refused++;
                }
            } catch (TimeoutException e) {
                s.close().exceptionally(Unwatched::logFailure);
            }
        }
        return refused;
    }

    /** The sessions that opened. */
    @Override
    public List<EngineSession> connected() {
        return List.copyOf(connected);
    }

    /** The audits of every connected session, how the sessions were left, and the frames of the run each way. */
    public record Finish(List<StreamAudit> audits, Ending ending, long framesIn, long framesOut) {}

    /**
     * Waits (together at most {@code drain}) for every answer in flight; then, unless the policy
     * leaves them, ends every session and waits (together at most the policy's timeout) for the
     * server to close each, counting what failed in the stats' errors ({@code end_<kind>}); then
     * closes every session.
     */
    public Finish finish(Duration drain, Ending.Policy policy) throws InterruptedException {
        long deadline = System.nanoTime() + drain.toNanos();
        for (EngineSession s : connected) {
            await(s.whenAnswered(), deadline);
        }
        Ending ending = policy.leave()
                ? Ending.left(connected.size())
                : Ending.of(connected.stream().map(EngineSession::end).toList(), policy.timeout(), settings.stats());
        List<StreamAudit> audits = new ArrayList<>();
        long in = 0;
        long out = 0;
        long closeDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (EngineSession s : connected) {
            await(s.close(), closeDeadline);
            audits.add(s.audit());
            in += s.framesIn();
            out += s.framesOut();
        }
        return new Finish(audits, ending, in, out);
    }

    private static boolean await(CompletableFuture<?> f, long deadlineNanos) throws InterruptedException {
        try {
            f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /** Closes every session (detaching those not ended). */
    @Override
    public void close() {
        for (EngineSession s : sessions) {
            s.close().exceptionally(Unwatched::logFailure);
        }
    }
}
