package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

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
 * reports it to the session, which decides about the soft and hard limits on its own loop.
 *
 * <p>Sampling reads {@code /proc}, which is file I/O: it runs on this monitor's own thread, never
 * on an event loop. Each round starts with one scan of every process ({@code rounds}), which every
 * worker's tree is then found in: a round reads each process once, not once per worker.
 */
public final class RssMonitor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RssMonitor.class);

    private final SessionRegistry registry;
    private final Duration interval;
    private final Supplier<LongUnaryOperator> rounds;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread t = new Thread(runnable, "tether-rss");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param rounds called once per round, before any worker is sampled: gives the sampler of that
     *     round, the RSS in bytes of a worker's process tree by its pid, or a negative value when
     *     the process is gone
     */
    public RssMonitor(SessionRegistry registry, Duration interval, Supplier<LongUnaryOperator> rounds) {
        this.registry = requireNonNull(registry, "registry");
        this.interval = requireNonNull(interval, "interval");
        this.rounds = requireNonNull(rounds, "rounds");
    }

    public void start() {
        long nanos = interval.toNanos();
        thread.scheduleWithFixedDelay(this::sampleAll, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** One round over every session (also called directly by tests). */
    void sampleAll() {
        LongUnaryOperator sampler = null;
        int measured = 0;
        long total = 0;
        long max = 0;
        for (Session session : registry.all()) {
            Worker worker = session.currentWorker();
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
                    session.reportRss(worker, rss);
                }
            } catch (RuntimeException e) {
                log.atDebug().addKeyValue("session", session.id()).addKeyValue("subject", session.subject())
                        .addKeyValue("worker", pid.getAsLong()).log("rss sample of {} failed: {}", worker.describe(), e.toString());
            }
        }
        registry.metrics().workerRss(measured, total, max);
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
