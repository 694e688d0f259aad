package dev.tether.gateway.worker.pool;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import io.netty.util.concurrent.EventExecutor;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A worker the test drives: it completes {@link #ready} and {@link #exited} itself. Stop and kill exit it. */
final class FakeWorker implements Worker {

    final CompletableFuture<Void> ready = new CompletableFuture<>();
    final CompletableFuture<WorkerExit> exited = new CompletableFuture<>();
    final int pid;
    final String launcher;
    volatile boolean stopped;
    volatile boolean killed;
    volatile boolean bound;
    /** When false, stop() only records the request; the test decides when the worker exits. */
    volatile boolean exitOnStop = true;

    FakeWorker(int pid, String launcher) {
        this.pid = pid;
        this.launcher = launcher;
    }

    void becomeReady() {
        ready.complete(null);
    }

    void exit(int code) {
        exited.complete(new WorkerExit(code, 0, "exit code " + code));
    }

    @Override
    public void bind(String sessionId, String subject, JsonNode resume, EventExecutor executor, WorkerListener listener) {
        bound = true;
    }

    @Override
    public void send(String id, JsonNode data) {
    }

    @Override
    public void interrupt() {
    }

    @Override
    public CompletionStage<Void> stop() {
        stopped = true;
        if (exitOnStop) {
            exit(0);
        }
        return exited.thenApply(exit -> null);
    }

    @Override
    public void kill() {
        killed = true;
        exited.complete(new WorkerExit(137, 9, "killed by signal 9 (SIGKILL)"));
    }

    @Override
    public CompletionStage<Void> ready() {
        return ready;
    }

    @Override
    public CompletionStage<WorkerExit> exited() {
        return exited;
    }

    @Override
    public OptionalLong pid() {
        return OptionalLong.of(pid);
    }

    @Override
    public String describe() {
        return "pid " + pid;
    }

    @Override
    public String toString() {
        return launcher + ":" + describe();
    }
}
