package dev.tether.gateway.worker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.EchoText;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * An in-process worker that answers each message by streaming its text back as {@code deltas}
 * events of type {@code delta}, {@code deltaInterval} apart, then one {@code result}. The text is
 * {@code data} when it is a string, {@code data.text} when that is a string, else {@code data} as
 * JSON. An interrupt ends the turn at once with {@code result} and {@code "interrupted": true}.
 *
 * <p>Ready at once. Runs entirely on the session's event loop (given to {@link #bind}), so its
 * state needs no locking; calls from other threads hop over, calls before binding are ignored.
 */
public final class EchoWorker implements Worker {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final int deltas;
    private final Duration deltaInterval;
    private final CompletableFuture<WorkerExit> exited = new CompletableFuture<>();
    private volatile EventExecutor executor;
    private WorkerListener listener;
    private Turn turn;
    private boolean stopped;

    public EchoWorker(int deltas, Duration deltaInterval) {
        if (deltas < 1) {
            throw new IllegalArgumentException("deltas must be >= 1");
        }
        this.deltas = deltas;
        this.deltaInterval = requireNonNull(deltaInterval, "deltaInterval");
    }

    @Override
    public void bind(
            String id,
            String owner,
            JsonNode checkpoint,
            boolean forked,
            ObjectNode claims,
            EventExecutor loop,
            WorkerListener to) {
        requireNonNull(to, "listener");
        this.executor = requireNonNull(loop, "executor");
        onLoop(() -> this.listener = to);
    }

    @Override
    public void send(String id, JsonNode data) {
        onLoop(() -> {
            if (stopped || listener == null) {
                return;
            }
            if (turn != null) {
                turn.finish(true);
            }
            turn = new Turn(id, EchoText.of(data));
            turn.next();
        });
    }

    @Override
    public void interrupt() {
        onLoop(() -> {
            if (turn != null) {
                turn.finish(true);
            }
        });
    }

    @Override
    public CompletionStage<Void> stop() {
        if (executor == null) {
            exited.complete(new WorkerExit(0, 0, "stopped"));
            return exited.thenApply(exit -> null);
        }
        onLoop(() -> {
            this.stopped = true;
            if (turn != null) {
                turn.cancel();
                turn = null;
            }
            exited.complete(new WorkerExit(0, 0, "stopped"));
        });
        return exited.thenApply(exit -> null);
    }

    @Override
    public void kill() {
        stop();
    }

    @Override
    public CompletionStage<Void> ready() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<WorkerExit> exited() {
        return exited;
    }

    @Override
    public OptionalLong pid() {
        return OptionalLong.empty();
    }

    @Override
    public String describe() {
        return "echo";
    }

    private void onLoop(Runnable task) {
        EventExecutor executor = this.executor;
        if (executor == null) {
            return;
        }
        if (executor.inEventLoop()) {
            task.run();
        } else {
            executor.execute(task);
        }
    }

    /** One answer being streamed. */
    private final class Turn {
        private final String id;
        private final String text;
        private final List<String> parts;
        private int sent;
        private ScheduledFuture<?> timer;

        Turn(String id, String text) {
            this.id = id;
            this.text = text;
            this.parts = EchoText.split(text, deltas);
        }

        void next() {
            timer = null;
            if (turn != this) {
                return;
            }
            if (sent == parts.size()) {
                finish(false);
                return;
            }
            ObjectNode delta =
                    JSON.objectNode().put("type", "delta").put("id", id).put("text", parts.get(sent++));
            listener.onEvent(delta);
            if (deltaInterval.isZero()) {
                executor.execute(this::next);
            } else {
                timer = executor.schedule(this::next, deltaInterval.toNanos(), TimeUnit.NANOSECONDS);
            }
        }

        void finish(boolean interrupted) {
            cancel();
            turn = null;
            ObjectNode result =
                    JSON.objectNode().put("type", "result").put("id", id).put("text", text);
            if (interrupted) {
                result.put("interrupted", true);
            }
            listener.onEvent(result);
        }

        void cancel() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }
    }
}
