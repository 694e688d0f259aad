package dev.tether.gateway.worker.pool;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A deterministic {@link ScheduledExecutorService} for tests: nothing runs until the test calls
 * {@link #runDue()} or {@link #advance}, which run due tasks in time order on the test's thread. Its
 * {@link #ticker()} is the same manual clock. Not thread-safe: one test thread drives it.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

    private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();
    private long now = 1_000_000_000L;
    private long sequence;
    private boolean shutdown;

    Ticker ticker() {
        return () -> now;
    }

    long nanos() {
        return now;
    }

    /** Runs every task due now, including tasks they schedule for now. */
    void runDue() {
        Task<?> task;
        while ((task = queue.peek()) != null && task.at - now <= 0) {
            queue.poll();
            if (!task.isCancelled()) {
                task.run();
                if (task.executed) {
                    surfaceFailure(task);
                }
            }
        }
    }

    /** Moves the clock forward, running each task at its own time, in order. */
    void advance(Duration duration) {
        long target = now + duration.toNanos();
        runDue();
        Task<?> task;
        while ((task = queue.peek()) != null && task.at - target <= 0) {
            now = Math.max(now, task.at);
            runDue();
        }
        now = target;
        runDue();
    }

    /** Tasks waiting (not cancelled), due or not. */
    int pending() {
        return (int) queue.stream().filter(task -> !task.isCancelled()).count();
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(new Task<>(command, null, now + unit.toNanos(Math.max(0, delay))));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return add(new Task<>(callable, now + unit.toNanos(Math.max(0, delay))));
    }

    @Override
    public void execute(Runnable command) {
        add(new Task<>(command, null, now)).executed = true;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("the pool schedules no periodic tasks");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("the pool schedules no periodic tasks");
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> tasks = List.copyOf(queue);
        queue.clear();
        return tasks;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && queue.isEmpty();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    /** A task given to {@link #execute} has no future anyone reads: its failure fails the test. */
    private static void surfaceFailure(Task<?> task) {
        try {
            task.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("a task given to execute() failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private <V> Task<V> add(Task<V> task) {
        if (shutdown) {
            throw new RejectedExecutionException("shut down");
        }
        queue.add(task);
        return task;
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        final long at;
        final long order = sequence++;
        boolean executed;

        Task(Callable<V> callable, long at) {
            super(callable);
            this.at = at;
        }

        Task(Runnable runnable, V result, long at) {
            super(runnable, result);
            this.at = at;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(at - now, TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task<?> that = (Task<?>) other;
            int byTime = Long.compare(at - that.at, 0);
            return byTime != 0 ? byTime : Long.compare(order, that.order);
        }
    }
}
