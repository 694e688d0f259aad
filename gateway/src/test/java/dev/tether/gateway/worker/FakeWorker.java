package dev.tether.gateway.worker;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A worker the test drives by hand, for the tests of the pool and of sessions: no process, no
 * thread. The test says when it is {@link #becomeReady ready}, what it outputs ({@link #result},
 * {@link #event}, {@link #checkpoint}, {@link #request}) and when it {@link #exit exits} or
 * {@link #crash crashes}, and reads back what the gateway asked of it ({@link #received},
 * {@link #stopped}, {@link #killed}, ...). Its {@link #ready()} and {@link #exited()} stages are
 * futures the test may also complete itself.
 *
 * <p>Output goes to the bound listener through the executor given to {@link #bind}, as a real
 * worker's does; the recorded lists are for the test's thread (an {@code EmbeddedChannel}'s loop
 * or a manual scheduler's), the flags may be read from any thread.
 */
public final class FakeWorker implements Worker {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** What {@link #bind} was given. */
    private record Binding(JsonNode resume, boolean fork, EventExecutor executor, WorkerListener listener) {}

    private final long pid;
    private final String origin;
    private final CompletableFuture<Void> readiness = new CompletableFuture<>();
    private final CompletableFuture<WorkerExit> exit = new CompletableFuture<>();
    private final List<String> received = new ArrayList<>();
    private final List<String> responses = new ArrayList<>();
    private int interrupts;
    private volatile Binding binding;
    private volatile boolean exitOnStop = true;
    private volatile boolean stopped;
    private volatile boolean killed;

    /** A worker with process id {@code pid}, from {@code origin} (a launcher's name, for {@link #toString}). */
    public FakeWorker(long pid, String origin) {
        this.pid = pid;
        this.origin = requireNonNull(origin, "origin");
    }

    @Override
    public OptionalLong pid() {
        return OptionalLong.of(pid);
    }

    /** Its launcher's name and {@link #describe()}: {@code "agent:pid 1000"}. */
    @Override
    public String toString() {
        return origin + ":" + describe();
    }

    // ---- starting -----------------------------------------------------------------------------

    /** Says {@code ready}: {@link #ready()} completes. */
    public void becomeReady() {
        readiness.complete(null);
    }

    /** Completes when the test says so ({@link #becomeReady}), or fails when the test fails it. */
    @Override
    public CompletableFuture<Void> ready() {
        return readiness;
    }

    @Override
    public void bind(
            String id,
            String owner,
            JsonNode checkpoint,
            boolean fork,
            ObjectNode claims,
            EventExecutor loop,
            WorkerListener to) {
        binding = new Binding(checkpoint, fork, requireNonNull(loop, "executor"), requireNonNull(to, "listener"));
    }

    /** Whether it was bound to continue its checkpoint as a fork (contract 1.2, 8.2). */
    public boolean forked() {
        Binding to = binding;
        return to != null && to.fork();
    }

    /** Whether a session bound it. */
    public boolean bound() {
        return binding != null;
    }

    /** The checkpoint it was bound with; null for a new session's worker (or while unbound). */
    public JsonNode resume() {
        Binding to = binding;
        return to == null ? null : to.resume();
    }

    // ---- turns --------------------------------------------------------------------------------

    @Override
    public void send(String id, JsonNode data) {
        received.add(id);
    }

    /** The ids of the messages sent into it, in order. */
    public List<String> received() {
        return received;
    }

    @Override
    public void interrupt() {
        interrupts++;
    }

    /** How many times its turn was interrupted. */
    public int interrupts() {
        return interrupts;
    }

    /** Outputs {@code event}. */
    public void event(ObjectNode event) {
        deliver(listener -> listener.onEvent(event));
    }

    /** Ends the turn of message {@code id}: an event of type {@code result}. */
    public void result(String id) {
        event(JSON.objectNode().put("type", "result").put("id", id));
    }

    /** Outputs a checkpoint of its state. */
    public void checkpoint(JsonNode state) {
        deliver(listener -> listener.onCheckpoint(state));
    }

    /** Asks the user a question, as request {@code requestId}. */
    public void request(String requestId) {
        deliver(listener -> listener.onRequest(requestId, JSON.objectNode().put("kind", "question")));
    }

    @Override
    public void respond(String requestId, RequestOutcome outcome, JsonNode data) {
        responses.add(requestId + " " + outcome.wire());
    }

    /** The answers to its requests: request id and outcome, as {@code "r1 answered"}. */
    public List<String> responses() {
        return responses;
    }

    // ---- ending -------------------------------------------------------------------------------

    /** From now on {@link #stop()} only records the request; the worker exits when the test calls {@link #exit}. */
    public void holdExitOnStop() {
        exitOnStop = false;
    }

    @Override
    public CompletableFuture<Void> stop() {
        stopped = true;
        if (exitOnStop) {
            exit(0);
        }
        return exit.thenApply(gone -> null);
    }

    /** Whether {@link #stop()} was called. */
    public boolean stopped() {
        return stopped;
    }

    @Override
    public void kill() {
        killed = true;
        exit.complete(new WorkerExit(137, 9, "killed by signal 9 (SIGKILL)"));
    }

    /** Whether {@link #kill()} was called. */
    public boolean killed() {
        return killed;
    }

    /** Exits by itself with {@code code}: {@link #exited()} completes, the listener hears nothing. */
    public void exit(int code) {
        exit.complete(new WorkerExit(code, 0, "exit code " + code));
    }

    /** Dies with {@code code} or {@code signal}, and the bound session hears of it. */
    public void crash(int code, int signal) {
        crash(new WorkerExit(code, signal, "crashed"));
    }

    /** Ends as {@code crashed} says (the kernel at a memory limit, say), and the bound session hears of it. */
    public void crash(WorkerExit crashed) {
        exit.complete(crashed);
        deliver(listener -> listener.onExit(crashed));
    }

    /** Completes on {@link #exit}, {@link #crash}, {@link #kill} or {@link #stop}; the test may complete it too. */
    @Override
    public CompletableFuture<WorkerExit> exited() {
        return exit;
    }

    /** Calls the bound listener on the session's executor, as a real worker's output arrives. */
    private void deliver(Consumer<WorkerListener> call) {
        Binding to = binding;
        if (to == null) {
            throw new IllegalStateException(this + " is not bound to a session");
        }
        to.executor().execute(() -> call.accept(to.listener()));
    }
}
