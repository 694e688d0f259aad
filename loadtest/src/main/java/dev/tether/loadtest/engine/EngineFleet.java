package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.token.TokenSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
public final class EngineFleet implements AutoCloseable {

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
    public List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException {
        long start = System.nanoTime();
        double nanosPer = 1e9 / perSecond;
        List<CompletableFuture<Void>> opening = new ArrayList<>();
        List<EngineSession> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
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
            opening.add(s.connect().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        List<Refusal> refusals = new ArrayList<>();
        for (int i = 0; i < opening.size(); i++) {
            try {
                opening.get(i).join();
                connected.add(opened.get(i));
            } catch (RuntimeException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                Refusal refusal = cause instanceof Refusal r ? r : null;
                refusals.add(refusal);
                settings.stats().count("refused_" + (refusal == null ? "timeout" : refusal.kind()));
                opened.get(i).close();
            }
        }
        return refusals;
    }

    /**
     * Warms this client up before anything is measured: opens {@code n} real sessions at once with
     * stats of their own (subjects {@code <prefix>warmup-<i>}), waits for them and ends them, so that
     * class loading, the JIT and the first token are not timed. Waits at most {@code timeout} in all.
     *
     * @return how many warm-up sessions became ready
     */
    public int warmUpClient(int n, Duration timeout) throws InterruptedException {
        if (n <= 0) {
            return 0;
        }
        ClientSettings own = new ClientSettings(settings.uri(), settings.tokens(), new RunStats(), settings.ackEvery(),
                false, settings.connectTimeout(), settings.model());
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
        ClientSettings own = new ClientSettings(settings.uri(), bad, new RunStats(), 0, false, settings.connectTimeout(),
                settings.model());
        int refused = 0;
        for (int i = 0; i < times; i++) {
            EngineSession s = session(i, subjectPrefix + "refused", own);
            try {
                s.connect().get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
                s.close();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Refusal r && r.status() == 401) {
                    refused++;
                }
            } catch (TimeoutException e) {
                s.close();
            }
        }
        return refused;
    }

    /** The sessions that opened. */
    public List<EngineSession> connected() {
        return List.copyOf(connected);
    }

    /**
     * How the run's sessions were left.
     *
     * @param failed ends that failed, by kind ({@code timeout}, {@code close_4011}, ...)
     */
    public record Finish(List<StreamAudit> audits, boolean left, int sessions, int ended, int alreadyEnded,
                         Map<String, Long> failed, long framesIn, long framesOut) {}

    /**
     * Waits (together at most {@code drain}) for every answer in flight; then, unless
     * {@code leave}, ends every session and waits (together at most {@code endTimeout}) for the
     * server to close each, counting what failed in the stats' errors ({@code end_<kind>}); then
     * closes every session.
     */
    public Finish finish(Duration drain, boolean leave, Duration endTimeout) throws InterruptedException {
        long deadline = System.nanoTime() + drain.toNanos();
        for (EngineSession s : connected) {
            await(s.whenAnswered(), deadline);
        }
        int ended = 0;
        int alreadyEnded = 0;
        Map<String, Long> failed = new TreeMap<>();
        if (!leave) {
            List<CompletableFuture<EndOutcome>> ends = new ArrayList<>();
            for (EngineSession s : connected) {
                ends.add(s.end());
            }
            long endDeadline = System.nanoTime() + endTimeout.toNanos();
            for (CompletableFuture<EndOutcome> end : ends) {
                EndOutcome outcome;
                try {
                    outcome = end.get(Math.max(0, endDeadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException e) {
                    outcome = new EndOutcome(false, "timeout");
                } catch (ExecutionException e) {
                    outcome = new EndOutcome(false, "failed");
                }
                if (outcome.ended()) {
                    ended++;
                } else if (EndOutcome.ALREADY_ENDED.equals(outcome)) {
                    alreadyEnded++;
                } else {
                    failed.merge(outcome.detail(), 1L, Long::sum);
                    settings.stats().error("end_" + outcome.detail());
                }
            }
        }
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
        return new Finish(audits, leave, connected.size(), ended, alreadyEnded, failed, in, out);
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
            s.close();
        }
    }
}
