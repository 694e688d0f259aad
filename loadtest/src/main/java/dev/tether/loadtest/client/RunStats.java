package dev.tether.loadtest.client;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Everything a run measures, written by many threads (virtual users' Tyrus threads, the sender)
 * and read by the progress loop once a second and by the report at the end. Latencies are
 * recorded in microseconds into HdrHistograms; samples whose <em>scheduled</em> time falls in the
 * warm-up are left out of the totals but still shown in the per-second timeline.
 */
public final class RunStats {

    /** The figures whose warm-up samples are left out; every other one is rare enough that each sample counts. */
    private static final Set<Metric> WARMUP_DROPS = EnumSet.of(Metric.ROUND_TRIP, Metric.FIRST_EVENT);

    /** The latency figures of a report ({@code latency_ms} keys). */
    public enum Metric {
        ROUND_TRIP("round_trip"),
        FIRST_EVENT("first_event"),
        /**
         * First event of a message sent to a session its gateway had put to sleep ({@code status hibernated},
         * contract 8.9): the wake-up, a worker from the pool resuming the checkpoint, and the turn's first event.
         * Such messages are not counted in {@code first_event}, which then holds the awake sessions' alone.
         */
        WAKE_FIRST_EVENT("wake_first_event"),
        READY_WARM("ready_warm"),
        READY_COLD("ready_cold"),
        RESUME("resume"),
        /** From a connection left half-open (chaos) to the gateway closing its side: its heartbeat at work. */
        HALF_OPEN_CLOSED("half_open_closed"),
        /** Several nodes: a resume sent to another node while the session's node was up, from its connect to session_ready. */
        HANDOFF_LIVE("handoff_live"),
        /** A resume after the session's node was drained or restarted (SIGTERM), from its connect to session_ready on another node. */
        HANDOFF_DRAINED("handoff_drained"),
        /** From the SIGTERM of the session's node (the user's connection in use was on it) to session_ready on another node. */
        DRAIN_TO_READY("drain_to_ready"),
        /** A resume after the session's node was killed (SIGKILL), from its connect to session_ready on another node. */
        HANDOFF_KILLED("handoff_killed"),
        /** From the SIGKILL of the session's node (the user's connection in use was on it) to session_ready on another node: adoption, bounded by the lease. */
        KILL_TO_READY("kill_to_ready");

        private final String key;

        Metric(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /** One second of the run, as the report's {@code timeline} shows it. */
    public record Second(
            int tS, long sent, long results, long errors, int sessions, double p50Ms, double p99Ms, double maxMs) {}

    private static final long HIGHEST_US = TimeUnit.HOURS.toMicros(1);

    private volatile long startNanos;
    private volatile long warmupEndNanos;
    private final Map<Metric, Histogram> totals = new EnumMap<>(Metric.class);
    private final Recorder roundTripInterval = new Recorder(HIGHEST_US, 3);
    private final LongAdder sent = new LongAdder();
    private final LongAdder results = new LongAdder();
    private final LongAdder events = new LongAdder();
    private final LongAdder frames = new LongAdder();
    private final LongAdder messages = new LongAdder();
    private final LongAdder errorCount = new LongAdder();
    private final AtomicLong offered = new AtomicLong();
    private final AtomicInteger sessionsUp = new AtomicInteger();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<Integer, LongAdder> closeCodes = new ConcurrentHashMap<>();
    private final List<Second> timeline = new ArrayList<>();
    private long lastSent;
    private long lastResults;
    private long lastErrors;

    /** Stats of a run whose traffic has not begun (see {@link #begin}); connects are measured already. */
    public RunStats() {
        this.startNanos = System.nanoTime();
        this.warmupEndNanos = Long.MAX_VALUE;
        for (Metric metric : Metric.values()) {
            totals.put(metric, new ConcurrentHistogram(HIGHEST_US, 3));
        }
    }

    /**
     * The traffic begins: the timeline counts from {@code startNanos}, and round trips scheduled
     * before {@code warmupEndNanos} stay out of the totals.
     */
    public synchronized void begin(long startNanos, long warmupEndNanos) {
        this.startNanos = startNanos;
        this.warmupEndNanos = warmupEndNanos;
        this.lastSent = sent.sum();
        this.lastResults = results.sum();
        this.lastErrors = errorCount.sum();
    }

    /**
     * From now on, round trips and first events scheduled from {@code nanos} on count in the totals
     * (the end of a warm-up known only once it is over); the timeline keeps its start.
     */
    public void measureFrom(long nanos) {
        this.warmupEndNanos = nanos;
    }

    public long startNanos() {
        return startNanos;
    }

    /** Records a latency measured from {@code fromNanos} (the scheduled or request time) to {@code toNanos}. */
    public void latency(Metric metric, long fromNanos, long toNanos) {
        long us = Math.max(0, Math.min(HIGHEST_US, (toNanos - fromNanos) / 1000));
        if (metric == Metric.ROUND_TRIP) {
            roundTripInterval.recordValue(us);
        }
        if (fromNanos >= warmupEndNanos || !WARMUP_DROPS.contains(metric)) {
            totals.get(metric).recordValue(us);
        }
    }

    public void offered(long n) {
        offered.addAndGet(n);
    }

    public void sent() {
        sent.increment();
    }

    public void result() {
        results.increment();
    }

    public void event() {
        events.increment();
    }

    /**
     * A text frame from the gateway holding {@code inside} messages: one, or several in a
     * {@code batch} (contract 8.4); 0 for one that does not decode.
     */
    public void frame(int inside) {
        frames.increment();
        messages.add(inside);
    }

    public void sessionUp() {
        sessionsUp.incrementAndGet();
    }

    public void sessionDown() {
        sessionsUp.decrementAndGet();
    }

    /** Something went wrong that should not have: counted by kind, and the run exits non-zero. */
    public void error(String kind) {
        errorCount.increment();
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    /** A named count that is not an error (cuts, resumes, refreshes, refusals...). */
    public void count(String name) {
        counters.computeIfAbsent(name, k -> new LongAdder()).increment();
    }

    /** Adds {@code n} to a named count. */
    public void add(String name, long n) {
        counters.computeIfAbsent(name, k -> new LongAdder()).add(n);
    }

    public void closeCode(int code) {
        closeCodes.computeIfAbsent(code, k -> new LongAdder()).increment();
    }

    /** Closes the current second of the timeline; called once a second by one thread. */
    public synchronized Second tick(long nowNanos) {
        Histogram interval = roundTripInterval.getIntervalHistogram();
        long s = sent.sum();
        long r = results.sum();
        long e = errorCount.sum();
        Second second = new Second(
                (int) Math.round((nowNanos - startNanos) / 1e9),
                s - lastSent,
                r - lastResults,
                e - lastErrors,
                sessionsUp.get(),
                ms(interval, 50),
                ms(interval, 99),
                interval.getMaxValue() / 1000.0);
        lastSent = s;
        lastResults = r;
        lastErrors = e;
        timeline.add(second);
        return second;
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    public synchronized List<Second> timeline() {
        return List.copyOf(timeline);
    }

    /** A copy of the totals of {@code metric} (microseconds). */
    public Histogram histogram(Metric metric) {
        return totals.get(metric).copy();
    }

    public long sentCount() {
        return sent.sum();
    }

    public long offeredCount() {
        return offered.get();
    }

    public long resultCount() {
        return results.sum();
    }

    public long eventCount() {
        return events.sum();
    }

    /** Text frames received from the gateway; with batched delivery fewer than {@link #messageCount()}. */
    public long frameCount() {
        return frames.sum();
    }

    /** Messages those frames held (events, statuses, notices... each counted once, batched or not). */
    public long messageCount() {
        return messages.sum();
    }

    public long errorCount() {
        return errorCount.sum();
    }

    public int sessionsUp() {
        return sessionsUp.get();
    }

    public long counter(String name) {
        LongAdder adder = counters.get(name);
        return adder == null ? 0 : adder.sum();
    }

    public Map<String, Long> errors() {
        Map<String, Long> out = new TreeMap<>();
        errors.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    public Map<String, Long> counters() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    public Map<Integer, Long> closeCodes() {
        Map<Integer, Long> out = new TreeMap<>();
        closeCodes.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
