package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.gateway.JvmHeap;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.gateway.SocketMemory;
import dev.tether.loadtest.report.ReportBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code idle} (benchmark figure 5): opens N idle sessions (in-process echo worker, or any worker
 * {@code --gateway-config} names), holds them, and reports what the gateway holds per session: the
 * live heap ({@code jcmd GC.run} then {@code GC.heap_info}), Netty's direct memory, its sockets'
 * kernel queues, its RSS and its workers', before opening and with all N open, the difference
 * divided by N.
 */
@Command(
        name = "idle",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Opens N idle sessions and reports gateway heap (after a full GC) and RSS per session.",
            "Defaults: --sessions 1000 --connect-rate 200; needs --launch-gateway (config/bench/echo.yaml) or --gateway-pid.",
            "Heap figures need the JDK's jcmd."
        })
public final class IdleCommand extends ScenarioCommand {

    @Mixin
    ClientOptions client;

    @Option(
            names = "--hold",
            converter = Durations.class,
            defaultValue = "5s",
            description = "time the sessions stay open before the second reading (default: ${DEFAULT-VALUE})")
    Duration hold;

    @Override
    void validate() {
        client.validate();
    }

    @Override
    ObjectNode execute() throws Exception {
        RunStats stats = new RunStats();
        Instant startedAt = Instant.now();
        int n = common.sessions(1000);
        try (Target target = Target.gateway(common, "config/bench/echo.yaml", Duration.ofSeconds(1))) {
            ProcessSampler sampler = target.sampler();
            if (sampler == null) {
                throw new SetupException("idle needs the gateway's pid: --launch-gateway or --gateway-pid");
            }
            ClientSettings settings = clientSettings(target, stats, 0, Duration.ofSeconds(60));
            try (Clients.Users fleet = Clients.open(client, settings, common.subjectPrefix, !common.noProgress)) {
                WarmStart warm = WarmStart.prepare(fleet, target, common.clientWarmup, System.err);
                Reading before = Reading.take(sampler, target);
                long start = System.nanoTime();
                System.err.printf("idle: opening %d sessions at %.0f/s%n", n, common.connectRate(200));
                Traffic.countRefusals(fleet.connect(n, common.connectRate(200), Duration.ofSeconds(60)), stats);
                int open = fleet.connected().size();
                LockSupport.parkNanos(hold.toNanos());
                Reading after = Reading.take(sampler, target);
                double elapsedS = (System.nanoTime() - start) / 1e9;
                ObjectNode section = ReportBuilder.object().put("sessions_open", open);
                after.minus(before, open, section);
                Fleet.Finish finish = fleet.finish(Duration.ZERO, common.ending());
                return report("idle", target, startedAt, elapsedS, stats, finish, section, warm);
            }
        }
    }

    /**
     * What the gateway holds at one moment: its live heap (after a full GC), the RSS of the gateway
     * JVM and of its workers, its threads, the memory Netty's allocator holds (from {@code /metrics})
     * and the kernel memory of its sockets' queues ({@code ss}); a value that cannot be read is null.
     */
    private record Reading(
            Long heapBytes,
            String heapProblem,
            ProcessSampler.Sample sample,
            Long nettyBytes,
            SocketMemory sockets,
            Long slabBytes,
            Long threads) {

        static Reading take(ProcessSampler sampler, Target target) {
            JvmHeap.Reading heap = sampler.forceGcAndHeap();
            ProcessSampler.Sample sample = freshSample(sampler);
            Long netty = target.gatewayMetrics()
                    .map(m -> m.value("tether_netty_memory_bytes", "area", "direct"))
                    .filter(OptionalDouble::isPresent)
                    .map(v -> (long) v.getAsDouble())
                    .orElse(null);
            return new Reading(
                    heap.usedBytes(),
                    heap.problem(),
                    sample,
                    netty,
                    SocketMemory.of(sampler.pid()).orElse(null),
                    procField("/proc/meminfo", "Slab:", 1024),
                    procField("/proc/" + sampler.pid() + "/status", "Threads:", 1));
        }

        /** Writes each figure before and after, and its growth per session, into {@code out}. */
        void minus(Reading before, int sessions, ObjectNode out) {
            figure(out, "heap", before.heapBytes, heapBytes, sessions);
            if (heapBytes == null || before.heapBytes == null) {
                out.put("heap_problem", before.heapProblem != null ? before.heapProblem : heapProblem);
            }
            figure(out, "netty_direct", before.nettyBytes, nettyBytes, sessions);
            figure(
                    out,
                    "socket_queues",
                    before.sockets == null ? null : before.sockets.bytes(),
                    sockets == null ? null : sockets.bytes(),
                    sessions);
            if (sockets != null) {
                out.put("sockets_after", sockets.sockets());
            }
            figure(
                    out,
                    "rss",
                    before.sample == null ? null : before.sample.rootRssBytes(),
                    sample == null ? null : sample.rootRssBytes(),
                    sessions);
            figure(
                    out,
                    "workers_rss",
                    before.sample == null ? null : before.sample.descendantsRssBytes(),
                    sample == null ? null : sample.descendantsRssBytes(),
                    sessions);
            figure(out, "kernel_slab", before.slabBytes, slabBytes, sessions);
            if (threads != null && before.threads != null) {
                out.put("threads_before", before.threads).put("threads_after", threads);
            }
            if (sample != null) {
                out.put("worker_processes_after", sample.descendants());
            }
            if (heapBytes != null
                    && before.heapBytes != null
                    && nettyBytes != null
                    && before.nettyBytes != null
                    && sockets != null
                    && before.sockets != null
                    && sessions > 0) {
                long owned = (heapBytes - before.heapBytes)
                        + (nettyBytes - before.nettyBytes)
                        + (sockets.bytes() - before.sockets.bytes());
                out.put("gateway_owned_per_session_bytes", owned / sessions);
            }
        }

        private static void figure(ObjectNode out, String name, Long before, Long after, int sessions) {
            if (before == null || after == null) {
                return;
            }
            out.put(name + "_before_bytes", before)
                    .put(name + "_after_bytes", after)
                    .put(name + "_per_session_bytes", sessions == 0 ? 0 : (after - before) / sessions);
        }

        /**
         * The number on the line of {@code file} starting with {@code key}, times {@code unit}: the
         * kernel's slab memory, machine-wide ({@code /proc/meminfo}), or a process's threads; null
         * where there is none.
         */
        private static Long procField(String file, String key, long unit) {
            try {
                for (String line : Files.readAllLines(Path.of(file))) {
                    if (line.startsWith(key)) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * unit;
                    }
                }
            } catch (IOException | RuntimeException e) {
                return null;
            }
            return null;
        }
    }

    /** A fresh sample: waits for the sampler's next one (its interval is a second). */
    private static ProcessSampler.Sample freshSample(ProcessSampler sampler) {
        int count = sampler.samples().size();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (sampler.samples().size() <= count && System.nanoTime() < deadline) {
            LockSupport.parkNanos(20_000_000);
        }
        List<ProcessSampler.Sample> samples = sampler.samples();
        return samples.isEmpty() ? null : samples.get(samples.size() - 1);
    }
}
