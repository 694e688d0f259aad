package dev.tether.loadtest.scenario;

import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Connects;
import dev.tether.loadtest.client.EndOutcome;
import dev.tether.loadtest.client.Ending;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.SessionFleet;
import dev.tether.loadtest.client.VirtualUser;
import dev.tether.testkit.TcpRelay;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The virtual users of a run: creates them, opens their sessions at a paced rate, and at the end
 * waits for answers in flight, ends their sessions (or leaves them, when asked) and closes them.
 * Its connector pool runs the (blocking) Tyrus connects and resumes. Driven from the scenario's
 * thread.
 */
final class Fleet implements SessionFleet, AutoCloseable {

    private final ClientSettings settings;
    private final String subjectPrefix;
    private final boolean relays;
    private final List<VirtualUser> users = new ArrayList<>();
    private final List<VirtualUser> connected = new ArrayList<>();
    private final ExecutorService connector;
    private final boolean progress;

    /**
     * @param relays   route each user through its own {@link TcpRelay}, so that cuts can be abrupt
     * @param progress show a progress bar of the sessions opening
     */
    Fleet(ClientSettings settings, String subjectPrefix, boolean relays, boolean progress) {
        this.settings = settings;
        this.progress = progress;
        this.subjectPrefix = subjectPrefix;
        this.relays = relays;
        AtomicInteger n = new AtomicInteger();
        this.connector = Executors.newFixedThreadPool(64, r -> {
            Thread t = new Thread(r, "connector-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Creates one more user (index = how many there are). */
    VirtualUser add() {
        int index = users.size();
        TcpRelay relay = null;
        if (relays) {
            URI uri = settings.uri();
            try {
                relay = new TcpRelay(new InetSocketAddress(uri.getHost(), uri.getPort()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        VirtualUser user = new VirtualUser(index, subjectPrefix + index, settings, relay, connector);
        users.add(user);
        return user;
    }

    /**
     * Opens {@code n} sessions, {@code perSecond} connects a second, and waits for all of them
     * (each at most {@code timeout} after it started).
     *
     * @return the refusals, by kind, of the sessions that did not open
     */
    @Override
    public List<Refusal> connect(int n, double perSecond, Duration timeout) throws InterruptedException {
        OpenLoopSchedule pace = new OpenLoopSchedule(System.nanoTime(), perSecond);
        List<CompletableFuture<Void>> opening = new ArrayList<>();
        List<VirtualUser> opened = new ArrayList<>();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        try (Progress bar = Progress.count(progress, "opening", n, "sessions")) {
            while (opening.size() < n) {
                long now = System.nanoTime();
                if (pace.take(now) < 0) {
                    LockSupport.parkNanos(Math.max(10_000, pace.nextDue() - now));
                    continue;
                }
                VirtualUser user = add();
                opened.add(user);
                started.incrementAndGet();
                opening.add(user.connect()
                        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .whenComplete((ok, e) -> {
                            int f = e == null ? failed.get() : failed.incrementAndGet();
                            int d = done.incrementAndGet();
                            bar.update(d, (d - f) + " up, " + f + " refused, " + started.get() + " started");
                        }));
            }
            List<Refusal> refusals = Connects.settle(opened, opening, connected, VirtualUser::close, settings.stats());
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            return refusals;
        }
    }

    /**
     * Warms this client up before anything is measured: opens {@code n} real sessions at once on
     * the fleet's own connector threads, with users and stats of their own (subjects
     * {@code <prefix>warmup-<i>}), waits for their {@code session_ready}, and ends them. The first
     * sessions of a fresh JVM pay for class loading and initialisation - Tyrus's client and its
     * Grizzly transport, jjwt's first token, Jackson's first (de)serializers of the protocol
     * types - which would otherwise be counted in the run's first ready times. Waits at most
     * {@code timeout} in all.
     *
     * @return how many warm-up sessions became ready
     */
    @Override
    public int warmUpClient(int n, Duration timeout) throws InterruptedException {
        ClientSettings own = settings.forWarmUp();
        long deadline = System.nanoTime() + timeout.toNanos();
        List<VirtualUser> warmups = new ArrayList<>();
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            VirtualUser user = new VirtualUser(i, subjectPrefix + "warmup-" + i, own, null, connector);
            warmups.add(user);
            ready.add(user.connect());
        }
        int up = 0;
        List<CompletableFuture<EndOutcome>> ends = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try {
                ready.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                up++;
                ends.add(warmups.get(i).end());
            } catch (ExecutionException | TimeoutException e) {
                // Refused or slow: the run's own connects will say so.
            }
        }
        for (CompletableFuture<EndOutcome> end : ends) {
            try {
                end.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // Closed below: at worst the session waits out its reconnect window.
            }
        }
        warmups.forEach(VirtualUser::close);
        return up;
    }

    /** The users whose session opened. */
    @Override
    public List<VirtualUser> connected() {
        return List.copyOf(connected);
    }

    RunStats stats() {
        return settings.stats();
    }

    /** The audits of every connected user, and how their sessions were left. */
    record Finish(List<StreamAudit> audits, Ending ending) {}

    /**
     * Waits (together at most {@code drain}) for every answer in flight; then, unless the policy
     * leaves them, ends every session and waits (together at most the policy's timeout) for the
     * gateway to close each, counting what failed in the stats' errors ({@code end_<kind>}); then
     * closes every user.
     */
    Finish finish(Duration drain, Ending.Policy policy) throws InterruptedException {
        long deadline = System.nanoTime() + drain.toNanos();
        for (VirtualUser user : connected) {
            user.awaitAnswered(deadline);
        }
        Ending ending = policy.leave()
                ? Ending.left(connected.size())
                : Ending.of(connected.stream().map(VirtualUser::end).toList(), policy.timeout(), settings.stats());
        List<StreamAudit> audits = new ArrayList<>();
        for (VirtualUser user : connected) {
            user.close();
            audits.add(user.audit());
        }
        return new Finish(audits, ending);
    }

    @Override
    public void close() {
        for (VirtualUser user : users) {
            user.close();
        }
        connector.shutdownNow();
    }
}
