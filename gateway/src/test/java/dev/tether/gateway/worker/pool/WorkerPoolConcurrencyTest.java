package dev.tether.gateway.worker.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.config.PoolConfig;
import dev.tether.gateway.worker.EchoWorker;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerUnavailableException;
import dev.tether.testkit.Poll;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool on a real scheduler with in-process {@link EchoWorker}s, hammered from several threads:
 * no worker is ever handed out twice and live workers never exceed max_workers. Waits only on
 * futures with deadlines.
 */
class WorkerPoolConcurrencyTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService callers = Executors.newFixedThreadPool(8);

    @AfterEach
    void shutDown() {
        callers.shutdownNow();
        scheduler.shutdownNow();
    }

    @Test
    void everyWorkerGoesToOneSessionAndCapacityHolds() throws Exception {
        int maxWorkers = 20;
        PoolConfig config = new PoolConfig(
                4,
                maxWorkers,
                Duration.ZERO,
                Duration.ofSeconds(30),
                Duration.ofMillis(1),
                Duration.ofMillis(10),
                5,
                Duration.ofSeconds(1),
                false,
                Duration.ofSeconds(60));
        AtomicInteger launched = new AtomicInteger();
        WorkerPool pool = new WorkerPool(
                config,
                () -> {
                    launched.incrementAndGet();
                    return CompletableFuture.completedFuture(new EchoWorker(1, Duration.ZERO));
                },
                scheduler,
                Ticker.systemTicker());
        pool.start();
        assertTrue(pool.awaitWarm(Duration.ofSeconds(30)));

        Set<Worker> handedOut = ConcurrentHashMap.newKeySet();
        AtomicInteger duplicates = new AtomicInteger();
        AtomicInteger overCapacity = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            results.add(callers.submit(() -> {
                go.await();
                int sessions = 0;
                while (sessions < 200) {
                    // At capacity, wait for a session to end: Poll parks between attempts, which
                    // leaves the CPU to the pool's scheduler thread, which frees capacity.
                    Worker worker = Poll.present("a worker", Duration.ofSeconds(60), () -> acquire(pool));
                    if (!handedOut.add(worker)) {
                        duplicates.incrementAndGet();
                    }
                    if (pool.status().live() > maxWorkers) {
                        overCapacity.incrementAndGet();
                    }
                    worker.stop().toCompletableFuture().get(30, TimeUnit.SECONDS); // the session ends
                    sessions++;
                }
                return sessions;
            }));
        }
        go.countDown();
        for (Future<Integer> result : results) {
            assertEquals(200, result.get(60, TimeUnit.SECONDS));
        }
        assertEquals(0, duplicates.get(), "a worker was handed to two sessions");
        assertEquals(0, overCapacity.get(), "more live workers than max_workers");
        assertEquals(1600, handedOut.size());
        // Checked before close(): a refill launch that close() stops before it is ready counts as failed.
        assertEquals(0, pool.status().spawnFailures(), "no spawn failed while sessions were served");

        pool.close();
        pool.terminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        // The pool hears of each exit through the worker's exited() stage, on another thread: the
        // last sessions' workers may still be on their way out of the count.
        PoolStatus status = Poll.until("no live worker left", Duration.ofSeconds(30), pool::status, s -> s.live() == 0);
        assertEquals(launched.get(), status.spawned());
    }

    /** A worker from {@code pool}, or none while it is at capacity. */
    private static Optional<Worker> acquire(WorkerPool pool) {
        try {
            return Optional.of(pool.acquire().toCompletableFuture().get(30, TimeUnit.SECONDS));
        } catch (WorkerUnavailableException atCapacity) {
            return Optional.empty();
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("acquiring a worker", e);
        }
    }
}
