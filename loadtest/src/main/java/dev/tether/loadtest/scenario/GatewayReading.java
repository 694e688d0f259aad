package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.gateway.JvmHeap;
import dev.tether.loadtest.gateway.ProcessSampler;
import dev.tether.loadtest.gateway.PrometheusText;
import dev.tether.loadtest.gateway.SocketMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.locks.LockSupport;

/**
 * What the gateway holds at one moment: its live heap (after a full GC), its heap as its own
 * {@code /metrics} report it ({@code jvm_memory_used_bytes}, area heap, no GC first), the RSS of the
 * gateway JVM (from {@code /proc}) and of its workers, its threads, the memory Netty's allocator
 * holds (from {@code /metrics}) and the kernel memory of its sockets' queues ({@code ss}); a value
 * that cannot be read is null. Two readings make the figures of {@code idle} (per session) and
 * {@code surge} (per waiting connection). Taken on the scenario's thread.
 */
record GatewayReading(
        Long heapBytes,
        String heapProblem,
        Long metricsHeapBytes,
        ProcessSampler.Sample sample,
        Long nettyBytes,
        SocketMemory sockets,
        Long slabBytes,
        Long threads) {

    static GatewayReading take(ProcessSampler sampler, Target target) {
        JvmHeap.Reading heap = sampler.forceGcAndHeap();
        ProcessSampler.Sample sample = freshSample(sampler);
        Optional<PrometheusText> metrics = target.gatewayMetrics();
        Long netty = metrics.map(m -> m.value("tether_netty_memory_bytes", "area", "direct"))
                .filter(OptionalDouble::isPresent)
                .map(v -> (long) v.getAsDouble())
                .orElse(null);
        Long metricsHeap = metrics.map(m -> m.samples("jvm_memory_used_bytes", l -> "heap".equals(l.get("area"))))
                .filter(s -> !s.isEmpty())
                .map(s -> (long)
                        s.stream().mapToDouble(PrometheusText.Sample::value).sum())
                .orElse(null);
        return new GatewayReading(
                heap.usedBytes(),
                heap.problem(),
                metricsHeap,
                sample,
                netty,
                SocketMemory.of(sampler.pid()).orElse(null),
                procField("/proc/meminfo", "Slab:", 1024),
                procField("/proc/" + sampler.pid() + "/status", "Threads:", 1));
    }

    /**
     * Writes each figure before and after, and its growth per {@code unit} ({@code session},
     * {@code waiting}: the name of the {@code <figure>_per_<unit>_bytes} fields), into {@code out}.
     */
    void minus(GatewayReading before, int count, String unit, ObjectNode out) {
        figure(out, "heap", before.heapBytes, heapBytes, count, unit);
        if (heapBytes == null || before.heapBytes == null) {
            out.put("heap_problem", before.heapProblem != null ? before.heapProblem : heapProblem);
        }
        figure(out, "metrics_heap", before.metricsHeapBytes, metricsHeapBytes, count, unit);
        figure(out, "netty_direct", before.nettyBytes, nettyBytes, count, unit);
        figure(
                out,
                "socket_queues",
                before.sockets == null ? null : before.sockets.bytes(),
                sockets == null ? null : sockets.bytes(),
                count,
                unit);
        if (sockets != null) {
            out.put("sockets_after", sockets.sockets());
        }
        figure(
                out,
                "rss",
                before.sample == null ? null : before.sample.rootRssBytes(),
                sample == null ? null : sample.rootRssBytes(),
                count,
                unit);
        figure(
                out,
                "workers_rss",
                before.sample == null ? null : before.sample.descendantsRssBytes(),
                sample == null ? null : sample.descendantsRssBytes(),
                count,
                unit);
        figure(out, "kernel_slab", before.slabBytes, slabBytes, count, unit);
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
                && count > 0) {
            long owned = (heapBytes - before.heapBytes)
                    + (nettyBytes - before.nettyBytes)
                    + (sockets.bytes() - before.sockets.bytes());
            out.put("gateway_owned_per_" + unit + "_bytes", owned / count);
        }
    }

    private static void figure(ObjectNode out, String name, Long before, Long after, int count, String unit) {
        if (before == null || after == null) {
            return;
        }
        out.put(name + "_before_bytes", before)
                .put(name + "_after_bytes", after)
                .put(name + "_per_" + unit + "_bytes", count == 0 ? 0 : (after - before) / count);
    }

    /**
     * The number on the line of {@code file} starting with {@code key}, times {@code unit}: the
     * kernel's slab memory, machine-wide ({@code /proc/meminfo}), or a process's threads; null
     * where there is none.
     */
    static Long procField(String file, String key, long unit) {
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

    /** A fresh sample: waits for the sampler's next one (its interval is a second). */
    static ProcessSampler.Sample freshSample(ProcessSampler sampler) {
        int count = sampler.samples().size();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (sampler.samples().size() <= count && System.nanoTime() < deadline) {
            LockSupport.parkNanos(20_000_000);
        }
        List<ProcessSampler.Sample> samples = sampler.samples();
        return samples.isEmpty() ? null : samples.get(samples.size() - 1);
    }
}
