package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.engine.EngineClient;
import dev.tether.loadtest.engine.EngineFleet;
import dev.tether.loadtest.engine.EngineSession;
import dev.tether.loadtest.engine.SessionSchedule;
import dev.tether.loadtest.gateway.JvmHeap;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.gateway.PrometheusText;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hibernate} (benchmark figure 14, contract 8.9): opens N sessions with subprocess workers
 * (the demo worker), of which a share is active (a message every {@code --active-interval}) and the
 * rest idle after one first message (the demo worker checkpoints after each turn, which a session
 * needs before it may sleep). With a gateway whose {@code limits.hibernate_after} is set, it waits
 * until every idle session has been put to sleep ({@code status hibernated}), reads the gateway's
 * process tree (the gateway JVM's RSS and live heap, its worker processes' number and summed RSS),
 * then wakes {@code --wakes} sleeping sessions with one message each and measures from the send to
 * the first event ({@code wake_first_event}) beside the active sessions' {@code first_event} of the
 * same run. Without hibernation it reads the tree with every session's worker alive, and can open
 * sessions until the gateway refuses or the machine's available memory falls under a floor: the
 * ceiling. Engine client only. Runs on the main thread; sessions on the client's event loop.
 */
@Command(
        name = "hibernate",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "N sessions with subprocess workers, 1%% active: gateway and worker memory and processes with idle sessions"
                    + " asleep (limits.hibernate_after) or awake, and the wake-up time against a warm first event.",
            "Defaults: --sessions 200 --connect-rate 5; --launch-gateway uses config/bench/demo-hibernate.yaml"
                    + " (config/bench/demo-awake.yaml: the same without hibernation)."
        })
public final class HibernateCommand extends ScenarioCommand {

    static final String CONFIG = "config/bench/demo-hibernate.yaml";
    /** The gateway's wake-up timer on its {@code /metrics}. */
    static final String SESSION_WAKE = "tether_session_wake_seconds";

    private static final String DEFAULT_DATA = "{\"text\":\"hello tether\",\"delay_ms\":0}";
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(120);
    private static final long MIB = 1024 * 1024;

    @Option(
            names = "--active-ratio",
            defaultValue = "0.01",
            description =
                    "share of the sessions that stay active: every 1/ratio-th session (default: ${DEFAULT-VALUE})")
    double activeRatio;

    @Option(
            names = "--active-interval",
            converter = Durations.class,
            defaultValue = "2s",
            description =
                    "an active session sends a message this often; keep it under limits.hibernate_after (default: ${DEFAULT-VALUE})")
    Duration activeInterval;

    @Option(
            names = "--wakes",
            defaultValue = "50",
            description =
                    "sleeping sessions woken, one message each, after the memory reading (default: ${DEFAULT-VALUE})")
    int wakes;

    @Option(names = "--wake-rate", defaultValue = "2", description = "wake-ups per second (default: ${DEFAULT-VALUE})")
    double wakeRate;

    @Option(
            names = "--sleep-timeout",
            converter = Durations.class,
            defaultValue = "2m",
            description =
                    "after the last session opened, how long the idle ones may take to fall asleep; one still awake then"
                            + " is an error (not_hibernated) (default: ${DEFAULT-VALUE})")
    Duration sleepTimeout;

    @Option(
            names = "--hold",
            converter = Durations.class,
            defaultValue = "10s",
            description =
                    "after the memory reading, the active sessions go on at least this long (with the wake-ups), whose"
                            + " first events are the warm figure (default: ${DEFAULT-VALUE})")
    Duration hold;

    @Option(
            names = "--open-for",
            converter = Durations.class,
            description = "stop opening sessions after this long, however many are open (default: no limit)")
    Duration openFor;

    @Option(
            names = "--max-starting",
            defaultValue = "4",
            description =
                    "at most this many sessions waiting for their worker to start at once; the next connect waits for one"
                            + " (a demo worker's JVM start costs about 0.5 s of CPU: more at once only queue for the cores)"
                            + " (default: ${DEFAULT-VALUE})")
    int maxStarting;

    @Option(
            names = "--until-refused",
            description = "stop opening sessions at the first the gateway refuses (503 at_capacity): the ceiling")
    boolean untilRefused;

    @Option(
            names = "--memory-floor-mib",
            defaultValue = "3072",
            description =
                    "stop opening sessions when the machine's available memory (/proc/meminfo MemAvailable) falls under this"
                            + " (default: ${DEFAULT-VALUE})")
    long memoryFloorMib;

    @Override
    void validate() {
        HibernationFigures.stride(activeRatio);
        if (activeInterval.isZero() || activeInterval.isNegative()) {
            throw new IllegalArgumentException("--active-interval: " + activeInterval + " (expected: > 0)");
        }
        if (wakes < 0) {
            throw new IllegalArgumentException("--wakes: " + wakes + " (expected: >= 0)");
        }
        if (!(wakeRate > 0)) {
            throw new IllegalArgumentException("--wake-rate: " + wakeRate + " (expected: > 0)");
        }
        if (maxStarting < 1) {
            throw new IllegalArgumentException("--max-starting: " + maxStarting + " (expected: >= 1)");
        }
        if (memoryFloorMib < 0) {
            throw new IllegalArgumentException("--memory-floor-mib: " + memoryFloorMib + " (expected: >= 0)");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        RunStats stats = new RunStats();
        Instant startedAt = Instant.now();
        int n = common.sessions(200);
        double connectRate = common.connectRate(5);
        JsonNode data =
                common.messageData != null ? SteadyCommand.data(common) : new ObjectMapper().readTree(DEFAULT_DATA);
        try (Target target = Target.gateway(common, CONFIG, Duration.ofSeconds(1))) {
            ProcessSampler sampler = target.sampler();
            if (sampler == null) {
                throw new SetupException("hibernate needs the gateway's pid: --launch-gateway or --gateway-pid");
            }
            Duration hibernateAfter = target.config().hibernateAfter();
            boolean hibernation = !hibernateAfter.isZero();
            ClientSettings settings = clientSettings(target, stats, common.ackEvery, CONNECT_TIMEOUT);
            EngineClient client = new EngineClient(1);
            EngineFleet fleet = new EngineFleet(client, settings, Dialect.TETHER, common.subjectPrefix);
            try (Clients.Users users = Clients.engine(client, fleet)) {
                WarmStart warm = WarmStart.prepare(users, target, common.clientWarmup, System.err);
                HibernationFigures.TreeReading before = reading(sampler);
                long start = System.nanoTime();
                // Everything before the memory reading (cold starts, first turns) is warm-up: see measureFrom below.
                stats.begin(start, Long.MAX_VALUE);
                Run run = new Run(stats, data, HibernationFigures.stride(activeRatio));
                System.err.printf(
                        "hibernate: opening %d sessions at %.1f/s (hibernate_after %s); measuring from the memory reading on%n",
                        n, connectRate, hibernation ? hibernateAfter : "0: no hibernation");
                List<Refusal> refusals = run.open(fleet, n, connectRate);
                List<EngineSession> opened = fleet.connected();
                List<EngineSession> idle = opened.stream()
                        .filter(s -> !HibernationFigures.active(s.index(), run.stride))
                        .toList();
                int asleep = hibernation ? awaitAsleep(idle) : 0;
                if (!hibernation) {
                    awaitAnswered(idle, sleepTimeout);
                }
                HibernationFigures.TreeReading with = reading(sampler);
                Long available = GatewayReading.procField("/proc/meminfo", "MemAvailable:", 1024);
                long measured = System.nanoTime();
                stats.measureFrom(measured);
                Optional<PrometheusText> metricsBefore = target.gatewayMetrics();
                int woken = hibernation ? wake(idle, stats, data) : 0;
                Optional<PrometheusText> metricsAfter = target.gatewayMetrics();
                LockSupport.parkNanos(measured + hold.toNanos() - System.nanoTime());
                opened.forEach(EngineSession::stopSending);
                double elapsedS = (System.nanoTime() - start) / 1e9;
                Fleet.Finish finish = users.finish(common.drainTimeout, common.ending());
                ObjectNode section = ReportBuilder.object()
                        .put("hibernation", hibernation)
                        .put("hibernate_after_s", hibernateAfter.toMillis() / 1000.0)
                        .put("sessions_attempted", n)
                        .put("sessions_started", opened.size() + refusals.size())
                        .put("sessions_opened", opened.size())
                        .put("stopped_by", run.stoppedBy.get())
                        .put("connect_rate_per_s", connectRate)
                        .put("active", opened.size() - idle.size())
                        .put("idle", idle.size())
                        .put("asleep_at_reading", asleep)
                        .put("wakes_asked", hibernation ? Math.min(wakes, asleep) : 0)
                        .put("woken", woken);
                section.set("refused", refusedByKind(refusals));
                HibernationFigures.memory(section, before, with, opened.size(), available);
                section.set(
                        "wake_vs_warm",
                        HibernationFigures.wakeVersusWarm(
                                stats.histogram(RunStats.Metric.WAKE_FIRST_EVENT),
                                stats.histogram(RunStats.Metric.FIRST_EVENT)));
                if (metricsBefore.isPresent() && metricsAfter.isPresent()) {
                    // The gateway's own timer of the same wake-ups: from the waking message to the new worker ready.
                    WarmStart.growth(metricsBefore.get(), metricsAfter.get(), SESSION_WAKE, l -> true)
                            .ifPresent(figures -> section.set("gateway_wake_to_worker_ready_ms", figures));
                }
                return report("hibernate", target, startedAt, elapsedS, stats, finish, section, warm);
            }
        }
    }

    /** The sessions of one run as they open: the active ones start sending, the idle ones send one first message. */
    private final class Run implements EngineFleet.Opening {
        final RunStats stats;
        final JsonNode data;
        final int stride;
        final long openStart = System.nanoTime();
        /** Sessions that opened while their worker was still starting ({@code session_ready} said preparing). */
        final List<EngineSession> preparing = new ArrayList<>();

        final AtomicInteger settled = new AtomicInteger();
        final AtomicInteger up = new AtomicInteger();
        final AtomicInteger refused = new AtomicInteger();
        final AtomicReference<String> stoppedBy = new AtomicReference<>("all_opened");
        final Random random;
        Progress bar;

        Run(RunStats stats, JsonNode data, int stride) {
            this.stats = stats;
            this.data = data;
            this.stride = stride;
            this.random = new Random(common.seed);
        }

        List<Refusal> open(EngineFleet fleet, int n, double rate) throws InterruptedException {
            try (Progress p = Progress.count(!common.noProgress, "opening", n, "sessions")) {
                bar = p;
                return fleet.connect(n, rate, CONNECT_TIMEOUT, this);
            }
        }

        @Override
        public boolean stop(int count) {
            while (starting(count) >= maxStarting) {
                LockSupport.parkNanos(20_000_000);
            }
            if (openFor != null && System.nanoTime() - openStart > openFor.toNanos()) {
                stoppedBy.set("open_for");
                return true;
            }
            if (untilRefused && refused.get() > 0) {
                stoppedBy.set("refused");
                return true;
            }
            if (memoryFloorMib > 0 && count % 10 == 0) {
                Long available = GatewayReading.procField("/proc/meminfo", "MemAvailable:", 1024);
                if (available != null && available < memoryFloorMib * MIB) {
                    stoppedBy.set("memory_floor");
                    return true;
                }
            }
            return false;
        }

        /** Sessions of the {@code started} so far whose connect or worker start is not over. */
        private int starting(int started) {
            synchronized (preparing) {
                preparing.removeIf(s -> s.workerReady() || s.ended());
                return started - settled.get() + preparing.size();
            }
        }

        @Override
        public void settled(EngineSession s, Throwable failure) {
            if (failure == null && !s.workerReady()) {
                synchronized (preparing) {
                    preparing.add(s);
                }
            }
            settled.incrementAndGet();
            if (failure != null) {
                refused.incrementAndGet();
            } else if (HibernationFigures.active(s.index(), stride)) {
                long first = System.nanoTime() + (long) random(activeInterval.toNanos());
                double perSecond = 1e9 / activeInterval.toNanos();
                s.runOpenLoop(new SessionSchedule(first, perSecond, 0, 1), Long.MAX_VALUE, data)
                        .exceptionally(Unwatched::logFailure);
            } else {
                s.send(s.newId(), data, System.nanoTime());
            }
            int u = failure == null ? up.incrementAndGet() : up.get();
            bar.update(u + refused.get(), u + " up, " + refused.get() + " refused, " + stats.sessionsUp() + " live");
        }

        private synchronized double random(long bound) {
            return random.nextDouble() * bound;
        }
    }

    /** Waits until every idle session sleeps, at most {@code --sleep-timeout}; each one still awake is an error. */
    private int awaitAsleep(List<EngineSession> idle) {
        long deadline = System.nanoTime() + sleepTimeout.toNanos();
        int asleep = 0;
        try (Progress bar = Progress.count(!common.noProgress, "falling asleep", idle.size(), "sessions")) {
            while (true) {
                asleep = (int) idle.stream().filter(EngineSession::asleep).count();
                bar.update(asleep, asleep + " of " + idle.size() + " asleep");
                if (asleep == idle.size() || System.nanoTime() > deadline) {
                    break;
                }
                LockSupport.parkNanos(100_000_000);
            }
        }
        return asleep;
    }

    /** Waits until every session in {@code sessions} has its answers, together at most {@code timeout}. */
    private static void awaitAnswered(List<EngineSession> sessions, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (EngineSession s : sessions) {
            await(s.whenAnswered(), deadline);
        }
    }

    /**
     * Wakes up to {@code --wakes} sleeping sessions, spread over the idle ones, at {@code --wake-rate},
     * one message each, and waits for their answers (at most {@code --sleep-timeout} after the last);
     * idle sessions that never slept are counted as errors here.
     *
     * @return how many were answered
     */
    private int wake(List<EngineSession> idle, RunStats stats, JsonNode data) throws InterruptedException {
        for (EngineSession s : idle) {
            if (s.sleeps() == 0) {
                stats.error("not_hibernated");
            }
        }
        List<EngineSession> asleep = idle.stream().filter(EngineSession::asleep).toList();
        int count = Math.min(wakes, asleep.size());
        List<CompletableFuture<Boolean>> answers = new ArrayList<>();
        long start = System.nanoTime();
        try (Progress bar = Progress.count(!common.noProgress, "waking", count, "sessions")) {
            for (int i = 0; i < count; i++) {
                EngineSession s = asleep.get((int) ((long) i * asleep.size() / count));
                long due = start + Math.round(i * 1e9 / wakeRate);
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                s.send(s.newId(), data, due);
                answers.add(s.whenAnswered());
                bar.update(i + 1, (i + 1) + " woken");
            }
        }
        long deadline = System.nanoTime() + sleepTimeout.toNanos();
        int woken = 0;
        for (CompletableFuture<Boolean> answer : answers) {
            if (await(answer, deadline)) {
                woken++;
            }
        }
        return woken;
    }

    private static boolean await(CompletableFuture<Boolean> f, long deadlineNanos) throws InterruptedException {
        try {
            return f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }

    /** The gateway's tree now: a fresh sample, and the live heap after a full GC. */
    private static HibernationFigures.TreeReading reading(ProcessSampler sampler) {
        JvmHeap.Reading heap = sampler.forceGcAndHeap();
        ProcessSampler.Sample sample = GatewayReading.freshSample(sampler);
        if (sample == null) {
            throw new IllegalStateException("the gateway could not be sampled");
        }
        return HibernationFigures.TreeReading.of(
                sample, heap.usedBytes(), HibernationFigures.descendantsPssBytes(sampler.pid()));
    }

    private static ObjectNode refusedByKind(List<Refusal> refusals) {
        Map<String, Integer> counts = new TreeMap<>();
        for (Refusal r : refusals) {
            counts.merge(r == null ? "timeout" : r.kind(), 1, Integer::sum);
        }
        ObjectNode out = ReportBuilder.object();
        counts.forEach(out::put);
        return out;
    }
}
