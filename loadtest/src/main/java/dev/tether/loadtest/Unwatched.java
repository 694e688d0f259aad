package dev.tether.loadtest;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Asynchronous work of the load test whose outcome no caller waits for, each kind started in one
 * place that says where its failure goes (standard error: the load test has no logger), rather than
 * in a future nobody reads. The gateway has its own ({@code dev.tether.gateway.async.Unwatched});
 * the load test does not depend on the gateway. Stateless; any thread.
 */
public final class Unwatched {

    /** For a scheduled task on a Netty executor: reports its failure; a cancel is not one. */
    public static final GenericFutureListener<Future<Object>> LOG_FAILURE = future -> {
        if (!future.isSuccess() && !future.isCancelled()) {
            report("a scheduled task failed", future.cause());
        }
    };

    private Unwatched() {}

    /**
     * Closes a connection that is going away ({@code channel} is a channel, or a handler's context
     * to close from its place in the pipeline). Nothing waits for the close, and a close that fails
     * leaves nothing to do (the load test has no debug log to note it in): its
     * outcome is dropped here, on purpose.
     */
    public static void close(ChannelOutboundInvoker channel) {
        ChannelFuture unused = channel.close();
    }

    /**
     * Writes {@code message} with the void promise: no promise per frame; a failed write fires
     * {@code exceptionCaught} down the pipeline instead, so the returned future, the void promise
     * itself, has nothing to tell.
     */
    public static void write(ChannelOutboundInvoker channel, Object message) {
        ChannelFuture voidPromise = channel.write(message, channel.voidPromise());
        assert voidPromise.isVoid();
    }

    /** {@link #write}, then a flush. */
    public static void writeAndFlush(ChannelOutboundInvoker channel, Object message) {
        ChannelFuture voidPromise = channel.writeAndFlush(message, channel.voidPromise());
        assert voidPromise.isVoid();
    }

    /** Runs {@code task} once after {@code delay} on {@code timers}, reporting an exception it throws. */
    public static void schedule(ScheduledExecutorService timers, Runnable task, long delay, TimeUnit unit) {
        // The task reports its own failure, so its future has nothing to tell, and nobody cancels it.
        ScheduledFuture<?> unused = timers.schedule(() -> runReported(task), delay, unit);
    }

    /**
     * Runs {@code task} every {@code period} until {@code timers} shuts down; a run that throws is
     * reported and the next one still comes (an exception would otherwise end the schedule silently).
     */
    public static void scheduleAtFixedRate(
            ScheduledExecutorService timers, Runnable task, long initialDelay, long period, TimeUnit unit) {
        // Each run reports its own failure; the schedule ends when the executor shuts down.
        ScheduledFuture<?> unused = timers.scheduleAtFixedRate(() -> runReported(task), initialDelay, period, unit);
    }

    /**
     * Calls {@code callback} when {@code stage} completes, as {@link CompletionStage#whenComplete}
     * does; {@code callback} sees the stage's failure and handles it. An exception the callback
     * itself throws is reported.
     */
    public static <T> void whenComplete(CompletionStage<T> stage, BiConsumer<? super T, ? super Throwable> callback) {
        stage.toCompletableFuture()
                .<Void>handle((value, failure) -> {
                    callback.accept(value, failure);
                    return null;
                })
                .exceptionally(Unwatched::logFailure);
    }

    /**
     * For {@code .exceptionally(Unwatched::logFailure)} at the end of a chain nobody reads (on a
     * {@link CompletableFuture}): reports the failure that reached it, and ends it there.
     */
    public static Void logFailure(Throwable failure) {
        report("an asynchronous step failed and nothing waited for it", failure);
        return null;
    }

    private static void runReported(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            report("a scheduled task failed", e);
        }
    }

    private static void report(String what, Throwable failure) {
        System.err.println(what + ":");
        failure.printStackTrace();
    }
}
