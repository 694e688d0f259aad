package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.VirtualUser;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * Runs the open-loop sender for the warm-up plus the measured time, and ticks the timeline and
 * the progress bar (elapsed seconds; the caller closes it) once a second. Message {@code k} goes
 * to user {@code k mod n} at its scheduled time (or at once when the sender is late) and its
 * latency counts from that time.
 *
 * <p>The sender is its own thread; the caller's thread does the ticking and returns when both end.
 */
final class Workload {

    /** The data of message {@code k} for {@code user}. */
    interface Payload {
        JsonNode data(long k, VirtualUser user);
    }

    private Workload() {}

    /** The progress bar's message for one second: phase, sessions up, results per second, errors so far, p99. */
    static String message(String phase, RunStats.Second second, RunStats stats) {
        return String.format(
                Locale.ROOT,
                "%s: %d up, %d msg/s, %d errors, p99 %.1f ms",
                phase,
                second.sessions(),
                second.results(),
                stats.errorCount(),
                second.p99Ms());
    }

    /**
     * @param everySecond called on the ticking thread once a second with the elapsed seconds
     *                    (chaos uses it for nothing; soak could); may be null
     */
    static void run(
            List<VirtualUser> users,
            RunStats stats,
            double rate,
            Duration warmup,
            Duration duration,
            Payload payload,
            Progress progress,
            LongConsumer everySecond)
            throws InterruptedException {
        long start = System.nanoTime();
        long warmupEnd = start + warmup.toNanos();
        stats.begin(start, warmupEnd);
        long end = warmupEnd + duration.toNanos();
        OpenLoopSchedule schedule = new OpenLoopSchedule(start, rate);
        Thread sender = new Thread(
                () -> {
                    int n = users.size();
                    if (n == 0) {
                        return;
                    }
                    while (!Thread.currentThread().isInterrupted()) {
                        long now = System.nanoTime();
                        if (now >= end) {
                            return;
                        }
                        long k = schedule.take(now);
                        if (k < 0) {
                            LockSupport.parkNanos(Math.min(schedule.nextDue() - now, 1_000_000));
                            continue;
                        }
                        long due = schedule.scheduledAt(k);
                        if (due >= end) {
                            return;
                        }
                        stats.offered(1);
                        VirtualUser user = users.get((int) (k % n));
                        user.send(user.newId(), payload.data(k, user), due);
                    }
                },
                "open-loop-sender");
        sender.setDaemon(true);
        sender.start();
        long nextTick = start + 1_000_000_000L;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextTick) {
                RunStats.Second second = stats.tick(now);
                progress.update(
                        Math.min((now - start) / 1_000_000_000L, (end - start) / 1_000_000_000L),
                        message(now < warmupEnd ? "warm-up" : "run", second, stats));
                if (everySecond != null) {
                    everySecond.accept((now - start) / 1_000_000_000L);
                }
                nextTick += 1_000_000_000L;
                if (now >= end) {
                    break;
                }
            }
            LockSupport.parkNanos(Math.max(1_000_000, nextTick - System.nanoTime()));
            if (Thread.interrupted()) {
                sender.interrupt();
                throw new InterruptedException();
            }
        }
        sender.join();
    }
}
