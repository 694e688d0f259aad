package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.audit.AuditSummary;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.engine.CpuMeter;
import dev.tether.loadtest.engine.Dialect;
import dev.tether.loadtest.engine.EngineClient;
import dev.tether.loadtest.engine.EngineFleet;
import dev.tether.loadtest.engine.EngineSession;
import dev.tether.loadtest.engine.SessionSchedule;
import dev.tether.loadtest.engine.Window;
import dev.tether.loadtest.report.ReportBuilder;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code steady} on the Netty engine: opens the sessions, lets each pace itself on its event loop
 * (open loop from the run's schedule, or closed loop), ticks the timeline once a second, reads the
 * target's process-tree CPU (and the client's own) at the end of the warm-up and at the end of the
 * run, then finishes, audits and reports like {@link Traffic}, with an {@code engine} section: the
 * loop, frames per message each way, and CPU per message of server and client. Runs on the
 * scenario's thread; the sessions run on the engine's event loops.
 */
final class EngineTraffic {

    /**
     * How the engine drives a run.
     *
     * @param threads  event loops
     * @param closed   closed loop (each session keeps {@code inFlight} messages outstanding) instead of the open-loop rate
     * @param inFlight messages outstanding per session in a closed loop
     * @param compression offer permessage-deflate in every upgrade ({@code --compression})
     */
    record Drive(int threads, boolean closed, int inFlight, boolean compression) {}

    /** What a run gave: its report, and the figures a comparison sets side by side. */
    record Result(ReportBuilder report, ObjectNode figures) {}

    private EngineTraffic() {}

    static Result run(
            CommonOptions options, Traffic.Plan plan, Target target, Dialect dialect, JsonNode data, Drive drive)
            throws Exception {
        PrintStream log = System.err;
        RunStats stats = new RunStats();
        ClientSettings settings = ClientSettings.plain(
                target.uri(),
                options.tokens(plan.tokenTtl()),
                stats,
                options.ackEvery,
                Duration.ofSeconds(30),
                target.turnModel());
        Instant startedAt = Instant.now();
        try (EngineClient client = new EngineClient(drive.threads(), drive.compression());
                EngineFleet fleet = new EngineFleet(client, settings, dialect, options.subjectPrefix)) {
            WarmStart warm = WarmStart.prepare(Clients.engine(client, fleet), target, options.clientWarmup, log);
            log.printf(
                    "%s: opening %d sessions at %s (%.0f/s, netty client, %s, %d thread%s)%n",
                    plan.scenario(),
                    plan.sessions(),
                    target.uri(),
                    options.connectRate(200),
                    client.transport(),
                    drive.threads(),
                    drive.threads() == 1 ? "" : "s");
            Traffic.countRefusals(
                    fleet.connect(plan.sessions(), options.connectRate(200), Duration.ofSeconds(60)), stats);
            List<EngineSession> sessions = Traffic.requireOpened(fleet.connected(), target, stats);
            log.printf(
                    "%s: %d sessions up; %s for %ss (+%ss warm-up)%n",
                    plan.scenario(),
                    sessions.size(),
                    drive.closed()
                            ? "closed loop, " + drive.inFlight() + " in flight per session"
                            : String.format("%.0f msg/s", plan.rate()),
                    plan.duration().toSeconds(),
                    plan.warmup().toSeconds());
            Window window;
            try (Progress progress = Progress.seconds(
                    !options.noProgress,
                    plan.scenario(),
                    plan.warmup().plus(plan.duration()).toSeconds())) {
                window = drive(sessions, stats, plan, data, drive, target, progress);
            }
            double trafficStartS = Traffic.trafficStart(target, stats);
            EngineFleet.Finish finish = fleet.finish(options.drainTimeout, options.ending());
            Fleet.Finish ours = Clients.finish(finish);
            AuditSummary audit = AuditSummary.of(ours.audits());
            ObjectNode figures = window.figures(
                    stats,
                    finish,
                    target.kind(),
                    client.transport(),
                    drive.threads(),
                    drive.closed(),
                    drive.inFlight());
            wire(figures, client, finish);
            ReportBuilder report = Traffic.report(
                    options,
                    plan,
                    target,
                    startedAt,
                    stats,
                    audit,
                    Map.of("engine", figures),
                    ours,
                    warm,
                    trafficStartS);
            return new Result(report, figures);
        }
    }

    /**
     * What crossed the sockets: bytes in and out over the whole run (upgrades, warm-up and the end
     * included), and per frame, the figure compression changes.
     */
    private static void wire(ObjectNode figures, EngineClient client, EngineFleet.Finish finish) {
        figures.put("compression", client.compression())
                .put("wire_bytes_in", client.wireBytesIn())
                .put("wire_bytes_out", client.wireBytesOut())
                .put(
                        "wire_bytes_per_frame_in",
                        finish.framesIn() > 0 ? (double) client.wireBytesIn() / finish.framesIn() : 0)
                .put(
                        "wire_bytes_per_frame_out",
                        finish.framesOut() > 0 ? (double) client.wireBytesOut() / finish.framesOut() : 0);
    }

    /** Starts every session's pacer, ticks once a second, and reads the CPU meters at the window's edges. */
    private static Window drive(
            List<EngineSession> sessions,
            RunStats stats,
            Traffic.Plan plan,
            JsonNode data,
            Drive drive,
            Target target,
            Progress progress)
            throws InterruptedException {
        long start = System.nanoTime() + 10_000_000L;
        long warmupEnd = start + plan.warmup().toNanos();
        long end = warmupEnd + plan.duration().toNanos();
        stats.begin(start, warmupEnd);
        int n = sessions.size();
        CompletableFuture<?>[] paced = new CompletableFuture<?>[n];
        for (int i = 0; i < n; i++) {
            EngineSession s = sessions.get(i);
            paced[i] = drive.closed()
                    ? s.runClosedLoop(drive.inFlight(), start, end, data)
                    : s.runOpenLoop(new SessionSchedule(start, plan.rate(), i, n), end, data);
        }
        Optional<Long> pid = target.sampler() == null
                ? Optional.empty()
                : Optional.of(target.sampler().pid());
        Window window = new Window();
        Optional<Duration> store0 = Optional.empty();
        boolean windowOpen = false;
        long nextTick = start + 1_000_000_000L;
        while (true) {
            long now = System.nanoTime();
            if (!windowOpen && now >= warmupEnd) {
                window.open(stats.resultCount(), now, pid.flatMap(CpuMeter::processTree), CpuMeter.self());
                store0 = target.storeCpu();
                windowOpen = true;
            }
            if (now >= end) {
                window.close(stats.resultCount(), now, pid.flatMap(CpuMeter::processTree), CpuMeter.self());
                window.store(store0, target.storeCpu());
                break;
            }
            if (now >= nextTick) {
                RunStats.Second second = stats.tick(now);
                progress.update(
                        Math.min((now - start) / 1_000_000_000L, (end - start) / 1_000_000_000L),
                        Workload.message(now < warmupEnd ? "warm-up" : "run", second, stats));
                nextTick += 1_000_000_000L;
            }
            long wake = Math.min(nextTick, windowOpen ? end : warmupEnd);
            LockSupport.parkNanos(Math.max(100_000, wake - System.nanoTime()));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        stats.tick(System.nanoTime());
        CompletableFuture.allOf(paced).join();
        return window;
    }
}
