package dev.tether.gateway.worker.process;

import static dev.tether.gateway.worker.process.WorkerRig.WAIT;
import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import io.netty.channel.EventLoop;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A session's side of a real worker, for tests: records every callback, and whether one ran off
 * the session's loop. The test reads what was recorded with waits of up to {@link WorkerRig#WAIT}.
 */
final class RecordingListener implements WorkerListener {

    final BlockingQueue<ObjectNode> events = new LinkedBlockingQueue<>();
    final BlockingQueue<String[]> problems = new LinkedBlockingQueue<>();
    final BlockingQueue<JsonNode> checkpoints = new LinkedBlockingQueue<>();
    final CompletableFuture<WorkerExit> exit = new CompletableFuture<>();
    final AtomicBoolean offLoop = new AtomicBoolean();
    private final EventLoop loop;

    /** A listener for a worker bound to {@code loop}: every callback must run there. */
    RecordingListener(EventLoop loop) {
        this.loop = requireNonNull(loop, "loop");
    }

    @Override
    public void onEvent(ObjectNode event) {
        check();
        events.add(event);
    }

    @Override
    public void onCheckpoint(JsonNode state) {
        check();
        checkpoints.add(state);
    }

    @Override
    public void onProtocolProblem(String code, String message) {
        check();
        problems.add(new String[] {code, message});
    }

    @Override
    public void onExit(WorkerExit workerExit) {
        check();
        exit.complete(workerExit);
    }

    private void check() {
        if (!loop.inEventLoop()) {
            offLoop.set(true);
        }
    }

    /** The next event, waiting for it. */
    ObjectNode next() throws InterruptedException {
        ObjectNode event = events.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(event, "no event within " + WAIT);
        return event;
    }

    /** The next event of {@code type}, skipping the others. */
    ObjectNode nextOfType(String type) throws InterruptedException {
        while (true) {
            ObjectNode event = next();
            if (type.equals(event.path("type").asText())) {
                return event;
            }
        }
    }

    /** The next protocol problem: its code and message. */
    String[] nextProblem() throws InterruptedException {
        String[] problem = problems.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(problem, "no protocol problem within " + WAIT);
        return problem;
    }
}
