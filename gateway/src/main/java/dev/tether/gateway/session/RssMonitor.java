package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.worker.Worker;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the RSS of every session's worker process tree every {@code limits.rss_poll_interval} and
 * reports it to the session, which decides about the soft and hard limits on its own loop.
 *
 * <p>Sampling reads {@code /proc}, which is file I/O: it runs on this monitor's own thread, never
 * on an event loop.
 */
public final class RssMonitor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RssMonitor.class);

    private final SessionRegistry registry;
    private final Duration interval;
    private final LongUnaryOperator sampler;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread t = new Thread(runnable, "tether-rss");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param sampler the RSS in bytes of a process and its descendants by pid, or a negative value
     *     when the process is gone
     */
    public RssMonitor(SessionRegistry registry, Duration interval, LongUnaryOperator sampler) {
        this.registry = requireNonNull(registry, "registry");
        this.interval = requireNonNull(interval, "interval");
        this.sampler = requireNonNull(sampler, "sampler");
    }

    public void start() {
        long nanos = interval.toNanos();
        thread.scheduleWithFixedDelay(this::sampleAll, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /** One round over every session (also called directly by tests). */
    void sampleAll() {
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
