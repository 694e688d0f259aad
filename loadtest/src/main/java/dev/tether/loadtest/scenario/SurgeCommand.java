package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AdmissionOrder;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.engine.EngineClient;
import dev.tether.loadtest.engine.SurgeUser;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.report.ReportBuilder;
import dev.tether.loadtest.token.TokenSource;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code surge} (benchmark figure on the admission line, contract 8.1): several times the gateway's
 * capacity ({@code sessions.max_sessions}) arrives with {@code wait=1}, one distinct user each. The
 * first {@code capacity} clients get their sessions at once and are held; the rest are opened one
 * after another, each once the one before has its first answer, so that they join the line in a
 * known order (see {@link AdmissionOrder}). With the line full the gateway's memory is read again:
 * the difference, divided by the clients waiting, is the memory per waiting connection. Then every
 * admitted session waits {@code --hold}, sends one message and ends with {@code end} when its result
 * arrives, so the line moves; every client is served, times out or is refused. The run fails if the
 * line broke its order, timed out early or late, or anything unexpected happened.
 */
@Command(
        name = "surge",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "wait=1 clients at several times capacity: wait times, positions, served / timed out / refused,"
                    + " arrival order, gateway memory per waiting connection.",
            "Defaults: --sessions 4 x sessions.max_sessions of the config; --launch-gateway uses config/bench/surge.yaml."
        })
public final class SurgeCommand extends ScenarioCommand {

    @Option(
            names = "--hold",
            converter = Durations.class,
            defaultValue = "2s",
            description =
                    "how long an admitted session waits, on average, before its one message; then it ends."
                            + " Each session's own time is drawn (--seed) between half and 1.5 times this, so that sessions"
                            + " do not all end together (default: ${DEFAULT-VALUE}); turnover is about capacity / hold sessions a second")
    Duration hold;

    @Option(
            names = "--order-slack",
            converter = Durations.class,
            defaultValue = "1s",
            description =
                    "delivery jitter allowed between two connections before one counts as served ahead of"
                            + " an earlier one, and around max_wait for time-outs: the line admits in order on one thread,"
                            + " but each admitted session starts on its own connection's event loop (default: ${DEFAULT-VALUE})")
    Duration slack;

    @Option(
            names = "--connect-timeout",
            converter = Durations.class,
            defaultValue = "30s",
            description = "longest wait for one upgrade's first answer (default: ${DEFAULT-VALUE})")
    Duration connectTimeout;

    @Option(
            names = "--capacity",
            description =
                    "sessions the gateway admits at once (default: sessions.max_sessions of the gateway's config)")
    Integer capacity;

    /** Draws each session's hold time; used on the scenario's thread only. */
    private Random random;

    @Override
    void validate() {
        if (hold.isNegative()) {
            throw new IllegalArgumentException("--hold: " + hold + " (expected: >= 0)");
        }
        if (slack.isNegative()) {
            throw new IllegalArgumentException("--order-slack: " + slack + " (expected: >= 0)");
        }
        if (capacity != null && capacity < 1) {
            throw new IllegalArgumentException("--capacity: " + capacity + " (expected: >= 1)");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        RunStats stats = new RunStats();
        random = new Random(common.seed);
        Instant startedAt = Instant.now();
        try (Target target = Target.gateway(common, "config/bench/surge.yaml", Duration.ofSeconds(1));
                EngineClient client = new EngineClient(1)) {
            int cap = capacity != null ? capacity : target.config().maxSessions();
            int n = common.sessions(4 * cap);
            Duration maxWait = target.config().admissionMaxWait();
            URI uri = withWait(target.uri());
            TokenSource tokens = common.tokens(Duration.ofHours(1));
            ProcessSampler sampler = target.sampler();
            CompletableFuture<Void> work = new CompletableFuture<>();
            List<SurgeUser> users = new ArrayList<>(n);
            long start = System.nanoTime();
            System.err.printf(
                    "surge: %d wait=1 clients, capacity %d, max_wait %s, at %s%n", n, cap, maxWait, target.uri());
            arrive(client, tokens, uri, work, users, Math.min(cap, n));
            GatewayReading before = sampler == null ? null : GatewayReading.take(sampler, target);
            long lineStart = System.nanoTime();
            double lineStartS = sampler == null ? 0 : sampler.secondsNow();
            arrive(client, tokens, uri, work, users, n);
            double arrivalS = (System.nanoTime() - lineStart) / 1e9;
            long waitingNow = users.stream()
                    .filter(u -> u.answered().isDone() && !u.done().isDone())
                    .count();
            ObjectNode memory = ReportBuilder.object();
            Long gaugeWaiting = admissionWaiting(target);
            if (gaugeWaiting != null) {
                memory.put("tether_admission_waiting", gaugeWaiting);
            }
            if (before != null) {
                GatewayReading after = GatewayReading.take(sampler, target);
                int waiting = gaugeWaiting != null ? gaugeWaiting.intValue() : (int) (waitingNow - cap);
                memory.put("waiting", waiting);
                after.minus(before, waiting, "waiting", memory);
            }
            System.err.printf("surge: line formed in %.1f s; admitted sessions start working%n", arrivalS);
            work.complete(null);
            Duration patience = maxWait.plusSeconds(1)
                    .plus(slack)
                    .plus(hold.multipliedBy(2))
                    .plusSeconds(30);
            List<SurgeUser.Result> results = collect(users, patience);
            double elapsedS = (System.nanoTime() - start) / 1e9;
            if (sampler != null) {
                sampler.samples().stream()
                        .filter(s -> s.tSeconds() >= lineStartS)
                        .mapToLong(ProcessSampler.Sample::rootRssBytes)
                        .max()
                        .ifPresent(max -> memory.put("rss_max_while_holding_bytes", max));
            }
            ObjectNode section = summary(results, cap, n, maxWait, slack, arrivalS, stats);
            section.set("memory", memory);
            ReportBuilder report = new ReportBuilder("surge", target.kind(), startedAt, elapsedS, 0)
                    .options(optionValues())
                    .stats(stats, elapsedS)
                    .section("surge", section);
            if (sampler != null) {
                report.process(sampler.pid(), sampler.samples());
            }
            ObjectNode built = report.build();
            built.putObject("audit")
                    .put("passed", section.path("order").path("violations").asLong() == 0)
                    .put("violations", section.path("order").path("violations").asLong());
            return built;
        }
    }

    /** Opens clients {@code users.size()} up to {@code upTo}, one after another: each once the previous one has its first answer. */
    private void arrive(
            EngineClient client,
            TokenSource tokens,
            URI uri,
            CompletableFuture<Void> work,
            List<SurgeUser> users,
            int upTo)
            throws InterruptedException, ExecutionException {
        for (int i = users.size(); i < upTo; i++) {
            Duration own = Duration.ofNanos((long) (hold.toNanos() * (0.5 + random.nextDouble())));
            SurgeUser user = new SurgeUser(i, client.nextLoop(), own, work);
            users.add(user);
            user.open(client, uri, tokens.token(i, common.subjectPrefix + i), connectTimeout);
            try {
                user.answered().get(connectTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                user.abandon();
            }
        }
    }

    /** Waits for every outcome, at most {@code patience}; the rest are abandoned (unanswered). */
    private static List<SurgeUser.Result> collect(List<SurgeUser> users, Duration patience)
            throws InterruptedException, ExecutionException {
        CompletableFuture<?>[] all = users.stream().map(SurgeUser::done).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(all).get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            users.forEach(SurgeUser::abandon);
        }
        List<SurgeUser.Result> results = new ArrayList<>(users.size());
        for (SurgeUser user : users) {
            try {
                results.add(user.done().get(10, TimeUnit.SECONDS));
            } catch (TimeoutException e) {
                throw new IllegalStateException("client " + results.size() + " has no outcome", e);
            }
        }
        return results;
    }

    /**
     * The {@code surge} section: outcomes, wait times (upgrade sent to {@code session_ready}),
     * positions, and the audit of the line's order; failures are counted as errors in {@code stats}.
     */
    static ObjectNode summary(
            List<SurgeUser.Result> results,
            int cap,
            int n,
            Duration maxWait,
            Duration slack,
            double arrivalS,
            RunStats stats) {
        Map<SurgeUser.Outcome, Long> outcomes = new EnumMap<>(SurgeUser.Outcome.class);
        for (SurgeUser.Outcome o : SurgeUser.Outcome.values()) {
            outcomes.put(o, 0L);
        }
        List<AdmissionOrder.Waiter> waiters = new ArrayList<>();
        List<Long> waitNanos = new ArrayList<>();
        Map<String, Long> problems = new TreeMap<>();
        long servedAtOnce = 0;
        int maxPosition = 0;
        long queuedFrames = 0;
        for (SurgeUser.Result r : results) {
            outcomes.merge(r.outcome(), 1L, Long::sum);
            if (r.outcome() == SurgeUser.Outcome.FAILED || r.outcome() == SurgeUser.Outcome.UNANSWERED) {
                String kind = r.outcome() == SurgeUser.Outcome.FAILED ? r.problem() : "unanswered";
                problems.merge(kind, 1L, Long::sum);
                stats.error("surge_" + r.outcome().name().toLowerCase(Locale.ROOT));
            }
            queuedFrames += r.positions().size();
            for (int p : r.positions()) {
                maxPosition = Math.max(maxPosition, p);
            }
            if (!r.waited()) {
                servedAtOnce += r.readyNanos() >= 0 ? 1 : 0;
                continue;
            }
            if (r.readyNanos() >= 0) {
                waitNanos.add(r.readyNanos() - r.connectNanos());
            }
            AdmissionOrder.End end = r.readyNanos() >= 0
                    ? AdmissionOrder.End.SERVED
                    : r.outcome() == SurgeUser.Outcome.TIMED_OUT
                            ? AdmissionOrder.End.TIMED_OUT
                            : AdmissionOrder.End.OTHER;
            long endNanos = end == AdmissionOrder.End.SERVED ? r.readyNanos() : r.timeoutNanos();
            waiters.add(new AdmissionOrder.Waiter(r.index(), r.firstQueuedNanos(), r.positions(), end, endNanos));
        }
        ObjectNode out = ReportBuilder.object()
                .put("capacity", cap)
                .put("clients", n)
                .put("arrival_s", arrivalS)
                .put("waited", waiters.size())
                .put("served_at_once", servedAtOnce)
                .put("served_after_waiting", waitNanos.size())
                .put("served", outcomes.get(SurgeUser.Outcome.SERVED))
                .put("timed_out", outcomes.get(SurgeUser.Outcome.TIMED_OUT))
                .put("refused_503", outcomes.get(SurgeUser.Outcome.REFUSED))
                .put("drained", outcomes.get(SurgeUser.Outcome.DRAINED))
                .put("failed", outcomes.get(SurgeUser.Outcome.FAILED))
                .put("unanswered", outcomes.get(SurgeUser.Outcome.UNANSWERED))
                .put("max_wait_s", maxWait.toMillis() / 1000.0);
        ObjectNode waits = out.putObject("wait_ms");
        long[] sorted = waitNanos.stream().mapToLong(Long::longValue).sorted().toArray();
        waits.put("count", sorted.length);
        if (sorted.length > 0) {
            waits.put("p50", percentileMs(sorted, 50))
                    .put("p90", percentileMs(sorted, 90))
                    .put("p99", percentileMs(sorted, 99))
                    .put("max", sorted[sorted.length - 1] / 1e6);
        }
        out.putObject("positions").put("max_seen", maxPosition).put("queued_frames", queuedFrames);
        List<AdmissionOrder.Violation> violations = AdmissionOrder.check(waiters, maxWait, slack);
        ObjectNode order = out.putObject("order")
                .put(
                        "audited",
                        waiters.stream()
                                .filter(w -> w.end() != AdmissionOrder.End.OTHER)
                                .count())
                .put("violations", violations.size());
        ObjectNode byKind = order.putObject("by_kind");
        violations.forEach(v -> byKind.put(
                v.kind().name().toLowerCase(Locale.ROOT),
                byKind.path(v.kind().name().toLowerCase(Locale.ROOT)).asLong() + 1));
        ArrayNode examples = order.putArray("examples");
        violations.stream()
                .limit(20)
                .forEach(v -> examples.addObject()
                        .put("kind", v.kind().name().toLowerCase(Locale.ROOT))
                        .put("client", v.id())
                        .put("detail", v.detail()));
        ObjectNode problemNode = out.putObject("problems");
        problems.forEach(problemNode::put);
        return out;
    }

    /** The nearest-rank {@code p}th percentile of {@code sorted} nanoseconds, in ms. */
    static double percentileMs(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }

    /** {@code uri} with {@code wait=1} added to its query. */
    static URI withWait(URI uri) {
        String s = uri.toString();
        return URI.create(s + (uri.getRawQuery() == null ? "?" : "&") + "wait=1");
    }

    /** The launched gateway's {@code tether_admission_waiting} now, or null. */
    private static Long admissionWaiting(Target target) {
        return target.gatewayMetrics()
                .map(m -> m.sum("tether_admission_waiting"))
                .filter(OptionalDouble::isPresent)
                .map(v -> (long) v.getAsDouble())
                .orElse(null);
    }
}
