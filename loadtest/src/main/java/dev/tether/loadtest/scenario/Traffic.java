package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.Refusal;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.UserChaos;
import dev.tether.loadtest.client.VirtualUser;
import dev.tether.loadtest.report.ReportBuilder;
import dev.tether.loadtest.token.TokenSource;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The shape shared by steady, chaos, refresh and soak: open the sessions, run the open-loop
 * workload (with an optional hook running alongside, e.g. the chaos cutter), wait for the answers
 * in flight, close, audit, and put it all in a report. Runs on the scenario's thread.
 */
final class Traffic {

    /**
     * @param sessions     virtual users
     * @param rate         messages per second in total
     * @param relays       route users through TCP relays (abrupt cuts)
     * @param resumeOnDrop resume after a connection ends unexpectedly
     * @param tokenTtl     lifetime of minted tokens when {@code --token-ttl} is not given
     * @param allowGaps    events announced lost by {@code replay_gap} are expected (the audit reports them)
     * @param chaos        what users do on their own beyond sending (resends, acks held back)
     */
    record Plan(
            String scenario,
            int sessions,
            double rate,
            Duration warmup,
            Duration duration,
            boolean relays,
            boolean resumeOnDrop,
            Duration tokenTtl,
            boolean allowGaps,
            UserChaos chaos) {

        /** A plan without relays, resume on drop or chaos: steady traffic over direct connections. */
        static Plan direct(
                String scenario, int sessions, double rate, Duration warmup, Duration duration, Duration tokenTtl) {
            return new Plan(scenario, sessions, rate, warmup, duration, false, false, tokenTtl, false, UserChaos.NONE);
        }
    }

    /** Something that runs alongside the traffic (started after the sessions are open). */
    interface Hook {
        void start(List<VirtualUser> users, RunStats stats);

        void stop();

        /** This hook and {@code other}: started in that order, stopped in the reverse. */
        default Hook and(Hook other) {
            Hook first = this;
            return new Hook() {
                @Override
                public void start(List<VirtualUser> users, RunStats stats) {
                    first.start(users, stats);
                    other.start(users, stats);
                }

                @Override
                public void stop() {
                    try {
                        other.stop();
                    } finally {
                        first.stop();
                    }
                }
            };
        }
    }

    /**
     * What a run gave.
     *
     * @param trafficStartS when the traffic began on the sampler's clock ({@code ProcessSampler.Sample#tSeconds}); NaN without a sampler
     */
    record Result(ReportBuilder report, RunStats stats, AuditSummary audit, double trafficStartS) {}

    private Traffic() {}

    /** When the traffic began on the sampler's clock ({@code ProcessSampler.Sample#tSeconds}); NaN without a sampler. */
    static double trafficStart(Target target, RunStats stats) {
        return target.sampler() == null
                ? Double.NaN
                : target.sampler().secondsNow() - (System.nanoTime() - stats.startNanos()) / 1e9;
    }

    /**
     * The report of a traffic run after {@code finish}: its stats over warm-up and measurement, its
     * audit, the run's own {@code sections}, how the sessions ended, the client's warm-up and the
     * gateway process where it was sampled.
     */
    static ReportBuilder report(
            CommonOptions options,
            Plan plan,
            Target target,
            Instant startedAt,
            RunStats stats,
            AuditSummary audit,
            Map<String, ObjectNode> sections,
            Fleet.Finish finish,
            WarmStart warm,
            double trafficStartS) {
        ReportBuilder report = new ReportBuilder(
                        plan.scenario(),
                        target.kind(),
                        startedAt,
                        Durations.seconds(plan.duration()),
                        Durations.seconds(plan.warmup()))
                .stats(stats, Durations.seconds(plan.warmup().plus(plan.duration())))
                .audit(audit);
        sections.forEach(report::section);
        report.section(
                "sessions_end", finish.ending().toJson(target.liveSessionsAfter(finish.ending(), options.endTimeout)));
        warm.addTo(report);
        if (target.sampler() != null) {
            report.process(target.sampler().pid(), target.sampler().samples(), trafficStartS);
        }
        return report;
    }

    /** Counts each connection refused (or not answered in time) as the error {@code connect_<kind>}. */
    static void countRefusals(List<Refusal> refusals, RunStats stats) {
        for (Refusal refusal : refusals) {
            stats.error("connect_" + (refusal == null ? "timeout" : refusal.kind()));
        }
    }

    /** The sessions that opened; none is a run that cannot go on (it names the refusals). */
    static <T> List<T> requireOpened(List<T> opened, Target target, RunStats stats)
            throws ScenarioCommand.SetupException {
        if (opened.isEmpty()) {
            throw new ScenarioCommand.SetupException(
                    "no session could be opened at " + target.uri() + " (refusals: " + stats.counters() + ")");
        }
        return opened;
    }

    static Result run(CommonOptions options, Plan plan, Target target, Workload.Payload payload, Hook hook)
            throws Exception {
        PrintStream log = System.err;
        TokenSource tokens = options.tokens(plan.tokenTtl());
        RunStats stats = new RunStats();
        ClientSettings settings = new ClientSettings(
                target.uri(),
                tokens,
                stats,
                options.ackEvery,
                plan.resumeOnDrop(),
                Duration.ofSeconds(30),
                target.turnModel(),
                plan.allowGaps(),
                plan.chaos(),
                target.nodes());
        Instant startedAt = Instant.now();
        try (Fleet fleet = new Fleet(settings, options.subjectPrefix, plan.relays(), !options.noProgress)) {
            WarmStart warm = WarmStart.prepare(fleet, target, options.clientWarmup, log);
            log.printf(
                    "%s: opening %d sessions at %s (%.0f/s)%n",
                    plan.scenario(), plan.sessions(), target.uri(), options.connectRate(200));
            countRefusals(fleet.connect(plan.sessions(), options.connectRate(200), Duration.ofSeconds(60)), stats);
            List<VirtualUser> users = requireOpened(fleet.connected(), target, stats);
            log.printf(
                    "%s: %d sessions up; %.0f msg/s for %ss (+%ss warm-up)%n",
                    plan.scenario(),
                    users.size(),
                    plan.rate(),
                    plan.duration().toSeconds(),
                    plan.warmup().toSeconds());
            if (hook != null) {
                hook.start(users, stats);
            }
            try (Progress progress = Progress.seconds(
                    !options.noProgress,
                    plan.scenario(),
                    plan.warmup().plus(plan.duration()).toSeconds())) {
                Workload.run(users, stats, plan.rate(), plan.warmup(), plan.duration(), payload, progress, null);
            } finally {
                if (hook != null) {
                    hook.stop();
                }
            }
            double trafficStartS = trafficStart(target, stats);
            Fleet.Finish finish = fleet.finish(options.drainTimeout, options.ending());
            AuditSummary audit = AuditSummary.of(finish.audits());
            ReportBuilder report =
                    report(options, plan, target, startedAt, stats, audit, Map.of(), finish, warm, trafficStartS);
            return new Result(report, stats, audit, trafficStartS);
        }
    }
}
