package dev.tether.gateway.async;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asynchronous work whose outcome no caller waits for, each kind started in one place that says
 * where its failure goes, rather than in a future nobody reads. A task scheduled on a Netty
 * executor or a JDK {@link ScheduledExecutorService}, or a callback on a {@link CompletionStage},
 * that throws completes its future exceptionally and logs nothing: here the failure is logged.
 * Stateless; any thread. The load test uses this class too (its SLF4J provider writes to standard
 * error).
 */
public final class Unwatched {

    private static final Logger log = LoggerFactory.getLogger(Unwatched.class);

    /** For a scheduled task on a Netty executor: logs its failure at error; a cancel is not one. */
    public static final GenericFutureListener<Future<Object>> LOG_FAILURE = future -> {
        if (!future.isSuccess() && !future.isCancelled()) {
            log.error("a scheduled task failed", future.cause());
        }
    };

    private static final ChannelFutureListener LOG_CLOSE_FAILURE = future -> {
        if (!future.isSuccess()) {
            log.debug("{}: close failed: {}", future.channel(), String.valueOf(future.cause()));
        }
    };

    private Unwatched() {}

    /**
     * Closes a connection that is going away ({@code channel} is a channel, or a handler's context
     * to close from its place in the pipeline). Nothing waits for the close; a failure (the
     * transport could not release the descriptor) is logged at debug.
     */
    public static void close(ChannelOutboundInvoker channel) {
        channel.close().addListener(LOG_CLOSE_FAILURE);
    }

    /**
     * Writes {@code message} (on a channel, or from a handler's place in the pipeline) with the void
     * promise: no promise per frame on the data path; a failed write fires {@code exceptionCaught}
     * down the pipeline instead (the error handler ends the connection), so the returned future,
     * the void promise itself, has nothing to tell.
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

    /**
     * Runs {@code task} once after {@code delay} on {@code timers}, logging an exception it throws.
     * For tasks nobody cancels (they check whether they are still needed when they run); keep the
     * future of {@link ScheduledExecutorService#schedule} instead where one must be cancelled.
     */
    public static void schedule(ScheduledExecutorService timers, Runnable task, long delay, TimeUnit unit) {
        // The task logs its own failure, so its future has nothing to tell, and nobody cancels it.
        ScheduledFuture<?> unused = timers.schedule(() -> runLogged(task), delay, unit);
    }

    /**
     * Runs {@code task} every {@code delay} after the previous run ended, until {@code timers} shuts
     * down. A run that throws is logged and the next one still comes (an exception would otherwise
     * end the schedule silently).
     */
    public static void scheduleWithFixedDelay(
            ScheduledExecutorService timers, Runnable task, long initialDelay, long delay, TimeUnit unit) {
        // Each run logs its own failure; the schedule ends when the executor shuts down.
        ScheduledFuture<?> unused = timers.scheduleWithFixedDelay(() -> runLogged(task), initialDelay, delay, unit);
    }

    /**
     * Runs {@code task} every {@code period} until {@code timers} shuts down, at a fixed rate (for
     * pacing, where a late run must not push back the ones after it). A run that throws is logged
     * and the next one still comes.
     */
    public static void scheduleAtFixedRate(
            ScheduledExecutorService timers, Runnable task, long initialDelay, long period, TimeUnit unit) {
        // Each run logs its own failure; the schedule ends when the executor shuts down.
        ScheduledFuture<?> unused = timers.scheduleAtFixedRate(() -> runLogged(task), initialDelay, period, unit);
    }

    /**
     * Calls {@code callback} when {@code stage} completes, as {@link CompletionStage#whenComplete}
     * does; {@code callback} sees the stage's failure and handles it. An exception the callback
     * itself throws is logged.
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
     * {@link CompletableFuture}): logs the failure that reached it at error, and ends it there.
     */
    public static Void logFailure(Throwable failure) {
        log.error("an asynchronous step failed and nothing waited for it", failure);
        return null;
    }

    private static void runLogged(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            log.error("a scheduled task failed", e);
        }
    }
}
