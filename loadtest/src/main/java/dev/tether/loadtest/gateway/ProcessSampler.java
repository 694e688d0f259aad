package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Samples a process (the gateway, usually) from Linux's {@code /proc} at a fixed interval on a
 * daemon thread of its own: resident set size, thread count and CPU use between samples, and, when
 * asked, its used heap through {@code jcmd} (see {@link JvmHeap}). Optionally the whole process tree
 * (the gateway with its worker subprocesses) is summed, and its memory kept apart as the root
 * process's own and its descendants' (the workers').
 *
 * <p>CPU is a percentage of one core ({@code 200} means two cores busy), from {@code utime + stime}
 * between two samples. On a system without {@code /proc} no samples are taken. Thread-safe; call
 * {@link #close()} to stop.
 */
public final class ProcessSampler implements AutoCloseable {

    /**
     * One sample.
     *
     * @param tSeconds seconds since the sampler started
     * @param rootRssBytes resident set size of the sampled process alone (the gateway JVM)
     * @param descendantsRssBytes resident set size of its descendants (the workers) summed; 0 when not sampled
     * @param descendants how many descendant processes were read; 0 when not sampled
     * @param threads threads (of the tree, with descendants)
     * @param cpuPct CPU used since the previous sample, percent of one core; 0 for the first
     * @param heapUsedBytes used heap of the JVM from {@code jcmd}, or null when not read for this sample
     */
    public record Sample(
            double tSeconds,
            long rootRssBytes,
            long descendantsRssBytes,
            int descendants,
            int threads,
            double cpuPct,
            Long heapUsedBytes) {

        /** Resident set size of the whole tree sampled: the process and its descendants. */
        public long rssBytes() {
            return rootRssBytes + descendantsRssBytes;
        }
    }

    /**
     * How to sample.
     *
     * @param interval time between samples
     * @param clock where time comes from (tests inject one)
     * @param includeDescendants sum the process's descendants (worker subprocesses) into each sample
     * @param heapEvery read the heap with {@code jcmd} every this many samples; 0 never
     */
    public record Options(Duration interval, Clock clock, boolean includeDescendants, int heapEvery) {
        public Options {
            requireNonNull(interval, "interval");
            requireNonNull(clock, "clock");
            if (interval.isZero() || interval.isNegative()) {
                throw new IllegalArgumentException("interval must be > 0: " + interval);
            }
            if (heapEvery < 0) {
                throw new IllegalArgumentException("heapEvery must be >= 0: " + heapEvery);
            }
        }
    }

    private final long pid;
    private final Options options;
    private final long ticksPerSecond;
    private final long startMillis;
    private final List<Sample> samples = new ArrayList<>();
    private final ScheduledExecutorService timer;
    /** Only touched on the timer's thread. */
    private Map<Long, Long> previousTicks;

    private long previousMillis;
    private int count;

    private ProcessSampler(long pid, Options options) {
        this.pid = pid;
        this.options = options;
        this.ticksPerSecond = clockTicksPerSecond();
        this.startMillis = options.clock().millis();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "process-sampler-" + pid);
            t.setDaemon(true);
            return t;
        });
    }

    /** Samples process {@code pid} every {@code interval}, the process alone, no heap readings. */
    public static ProcessSampler start(long pid, Duration interval) {
        return start(pid, new Options(interval, Clock.systemUTC(), false, 0));
    }

    /** As {@link #start(long, Duration)} with an injected clock. */
    public static ProcessSampler start(long pid, Duration interval, Clock clock) {
        return start(pid, new Options(interval, clock, false, 0));
    }

    /** Samples process {@code pid} as {@code options} say; the first sample is taken at once. */
    public static ProcessSampler start(long pid, Options options) {
        requireNonNull(options, "options");
        ProcessSampler sampler = new ProcessSampler(pid, options);
        long period = options.interval().toNanos();
        Unwatched.scheduleAtFixedRate(sampler.timer, sampler::sampleSafely, 0, period, TimeUnit.NANOSECONDS);
        return sampler;
    }

    /** The samples so far, oldest first (a copy). */
    public List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    /** The pid sampled. */
    public long pid() {
        return pid;
    }

    /** Seconds since the sampler started, on the clock of {@link Sample#tSeconds()}. */
    public double secondsNow() {
        return (options.clock().millis() - startMillis) / 1000.0;
    }

    /** The used heap of the sampled JVM now, through {@code jcmd}; null bytes with a reason when unknown. */
    public JvmHeap.Reading heapUsedNow() {
        return JvmHeap.usedNow(pid);
    }

    /** Forces a full GC in the sampled JVM, then reads its used heap (the live set). */
    public JvmHeap.Reading forceGcAndHeap() {
        return JvmHeap.forceGcAndRead(pid);
    }

    /** Stops sampling and waits for a sample in progress to finish; the samples stay readable. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sampleSafely() {
        try {
            sample();
        } catch (RuntimeException e) {
            // A process that vanished mid-read, a parse surprise: skip this sample, keep sampling.
        }
    }

    private void sample() {
        Map<Long, ProcFs.Reading> readings = new HashMap<>();
        ProcFs.Reading root = ProcFs.read(pid);
        if (root == null) {
            return;
        }
        readings.put(pid, root);
        if (options.includeDescendants()) {
            ProcessHandle.of(pid)
                    .ifPresent(h -> h.descendants().forEach(d -> {
                        ProcFs.Reading r = ProcFs.read(d.pid());
                        if (r != null) {
                            readings.put(d.pid(), r);
                        }
                    }));
        }
        long now = options.clock().millis();
        long descendantsRss = 0;
        int threads = 0;
        Map<Long, Long> ticks = new HashMap<>();
        for (Map.Entry<Long, ProcFs.Reading> e : readings.entrySet()) {
            if (e.getKey() != pid) {
                descendantsRss += e.getValue().rssBytes();
            }
            threads += e.getValue().threads();
            ticks.put(e.getKey(), e.getValue().cpuTicks());
        }
        double cpu = previousTicks == null ? 0 : cpuPercent(previousTicks, ticks, now - previousMillis, ticksPerSecond);
        previousTicks = ticks;
        previousMillis = now;
        Long heap = null;
        if (options.heapEvery() > 0 && count % options.heapEvery() == 0) {
            heap = JvmHeap.usedNow(pid).usedBytes();
        }
        count++;
        Sample sample = new Sample(
                (now - startMillis) / 1000.0, root.rssBytes(), descendantsRss, readings.size() - 1, threads, cpu, heap);
        synchronized (samples) {
            samples.add(sample);
        }
    }

    /**
     * CPU between two readings of a process tree, percent of one core: per pid the ticks since the
     * previous reading (all of them for a pid that is new), over the wall time between.
     */
    static double cpuPercent(Map<Long, Long> before, Map<Long, Long> after, long elapsedMillis, long ticksPerSecond) {
        if (elapsedMillis <= 0) {
            return 0;
        }
        long used = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            used += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
        }
        return 100.0 * used / ticksPerSecond / (elapsedMillis / 1000.0);
    }

    /** The kernel's {@code USER_HZ} from {@code getconf CLK_TCK}; 100 (Linux's value nearly everywhere) if unknown. */
    private static long clockTicksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(5, TimeUnit.SECONDS);
            return Long.parseLong(out);
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
