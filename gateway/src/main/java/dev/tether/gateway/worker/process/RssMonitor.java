package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.worker.Worker;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the RSS of every session's worker process tree every {@code limits.rss_poll_interval} and
 * reports it to its holder (a session), which decides about the soft and hard limits on its own
 * loop. It knows holders only as {@link Holder}: who has a worker now, and who is told its RSS.
 *
 * <p>Sampling reads {@code /proc}, which is file I/O: it runs on this monitor's own thread, never
 * on an event loop. Each round starts with one scan of every process ({@code rounds}), which every
 * worker's tree is then found in: a round reads each process once, not once per worker.
 */
public final class RssMonitor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RssMonitor.class);

    private final Supplier<? extends Iterable<? extends Holder>> holders;
    private final Duration interval;
    private final Supplier<LongUnaryOperator> rounds;
    private final Totals totals;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread t = new Thread(runnable, "tether-rss");
        t.setDaemon(true);
        return t;
    });

    /** Who holds a worker whose process tree is sampled: a session. */
    public interface Holder {

        /** The worker serving the holder right now, or null. Called on the monitor's thread. */
        Worker currentWorker();

        /**
         * A fresh RSS sample of {@code sampled}'s process tree. Called on the monitor's thread: the
         * holder hands it over to its own.
         */
        void reportRss(Worker sampled, long rssBytes);

        /** Names the holder in the log. */
        String id();
    }

    /** What one round measured, for the metrics. */
    @FunctionalInterface
    public interface Totals {
        void round(int workers, long totalBytes, long maxBytes);
    }

    /**
     * @param holders called once per round: everyone whose worker is to be sampled
     * @param rounds called once per round, before any worker is sampled: gives the sampler of that
     *     round, the RSS in bytes of a worker's process tree by its pid, or a negative value when
     *     the process is gone
     * @param totals told what each round measured
     */
    public RssMonitor(
            Supplier<? extends Iterable<? extends Holder>> holders,
            Duration interval,
            Supplier<LongUnaryOperator> rounds,
            Totals totals) {
        this.holders = requireNonNull(holders, "holders");
        this.interval = requireNonNull(interval, "interval");
        this.rounds = requireNonNull(rounds, "rounds");
        this.totals = requireNonNull(totals, "totals");
    }

    public void start() {
        long nanos = interval.toNanos();
        Unwatched.scheduleWithFixedDelay(thread, this::sampleAll, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** One round over every holder. */
    void sampleAll() {
        LongUnaryOperator sampler = null;
        int measured = 0;
        long total = 0;
        long max = 0;
        for (Holder holder : holders.get()) {
            Worker worker = holder.currentWorker();
            if (worker == null) {
                continue;
            }
            OptionalLong pid = worker.pid();
            if (pid.isEmpty()) {
                continue;
            }
            try {
                if (sampler == null) {
                    sampler = rounds.get();
                }
                long rss = sampler.applyAsLong(pid.getAsLong());
                if (rss >= 0) {
                    measured++;
                    total += rss;
                    max = Math.max(max, rss);
                    holder.reportRss(worker, rss);
                }
            } catch (RuntimeException e) {
                log.atDebug()
                        .addKeyValue("session", holder.id())
                        .addKeyValue("worker", pid.getAsLong())
                        .log("rss sample of {} failed: {}", worker.describe(), e.toString());
            }
        }
        totals.round(measured, total, max);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
