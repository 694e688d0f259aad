package dev.tether.gateway.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link EchoWorker} on a real event loop: what it streams, how an interrupt ends a turn, and that
 * a stopped worker is silent. Absence of output is checked by waiting for a marker task scheduled on
 * the same loop after every timer the worker could still have pending would have fired: the loop is
 * single-threaded and runs timers in deadline order, so once the marker has run, nothing earlier is
 * still to come.
 */
class EchoWorkerTest {

    private static final long TIMEOUT_MS = 10_000;
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final LinkedBlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
    private final AtomicInteger offLoopCallbacks = new AtomicInteger();

    @AfterEach
    void shutDown() throws Exception {
        assertEquals(0, offLoopCallbacks.get(), "listener called off the worker's event loop");
        assertTrue(loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(TIMEOUT_MS, TimeUnit.MILLISECONDS));
    }

    @Test
    void streamsTheTextInDeltasThenOneResult() throws Exception {
        EchoWorker worker = bound(3, Duration.ofMillis(5));
        worker.send("m-1", JSON.objectNode().put("text", "abcdefgh"));

        assertDelta(next(), "m-1", "abc");
        assertDelta(next(), "m-1", "def");
        assertDelta(next(), "m-1", "gh");
        JsonNode result = next();
        assertEquals("result", result.get("type").textValue());
        assertEquals("m-1", result.get("id").textValue());
        assertEquals("abcdefgh", result.get("text").textValue());
        assertNull(result.get("interrupted"), "a turn that ran to its end is not interrupted");
        assertSilentFor(Duration.ofMillis(5 * 4));
    }

    @Test
    void zeroIntervalStreamsWithoutTimers() throws Exception {
        EchoWorker worker = bound(4, Duration.ZERO);
        worker.send("m-1", JSON.objectNode().put("text", "four"));

        for (String part : List.of("f", "o", "u", "r")) {
            assertDelta(next(), "m-1", part);
        }
        assertEquals("result", next().get("type").textValue());
        assertSilentFor(Duration.ZERO);
    }

    @Test
    void textShorterThanTheDeltaCountIsPaddedWithEmptyDeltas() throws Exception {
        EchoWorker worker = bound(4, Duration.ZERO);
        worker.send("m-1", TextNode.valueOf("ab"));

        List<String> parts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            JsonNode delta = next();
            assertEquals("delta", delta.get("type").textValue());
            parts.add(delta.get("text").textValue());
        }
        assertEquals(List.of("a", "b", "", ""), parts);
        assertEquals("ab", next().get("text").textValue());
    }

    @Test
    void dataWithoutTextIsEchoedAsJson() throws Exception {
        EchoWorker worker = bound(1, Duration.ZERO);
        worker.send("m-1", JSON.objectNode().put("n", 1));
        assertDelta(next(), "m-1", "{\"n\":1}");
        assertEquals("{\"n\":1}", next().get("text").textValue());

        worker.send("m-2", NullNode.getInstance());
        assertDelta(next(), "m-2", "null");
        assertEquals("result", next().get("type").textValue());
    }

    @Test
    void interruptMidTurnEndsItWithAnInterruptedResultAndNoFurtherDeltas() throws Exception {
        Duration interval = Duration.ofMillis(20);
        AtomicReference<EchoWorker> self = new AtomicReference<>();
        EchoWorker worker = bound(5, interval, event -> {
            // Runs on the loop right after the third delta. The interrupt task is queued ahead of
            // the timer for the fourth, so the turn is cut after exactly three deltas.
            if ("c".equals(event.path("text").textValue())
                    && "delta".equals(event.get("type").textValue())) {
                loop.execute(() -> self.get().interrupt());
            }
        });
        self.set(worker);
        worker.send("m-1", TextNode.valueOf("abcde"));

        assertDelta(next(), "m-1", "a");
        assertDelta(next(), "m-1", "b");
        assertDelta(next(), "m-1", "c");
        JsonNode result = next();
        assertEquals("result", result.get("type").textValue());
        assertEquals("m-1", result.get("id").textValue());
        assertTrue(result.get("interrupted").booleanValue());
        assertSilentFor(interval.multipliedBy(6));

        // The worker takes the next turn normally.
        worker.send("m-2", TextNode.valueOf("z"));
        assertDelta(next(), "m-2", "z");
        for (int i = 0; i < 4; i++) {
            assertDelta(next(), "m-2", "");
        }
        JsonNode second = next();
        assertEquals("m-2", second.get("id").textValue());
        assertNull(second.get("interrupted"));
    }

    @Test
    void interruptFromAnotherThreadHopsOntoTheLoop() throws Exception {
        // Long enough that the turn is certainly still running when the interrupt arrives.
        EchoWorker worker = bound(3, Duration.ofSeconds(30));
        worker.send("m-1", TextNode.valueOf("abc"));
        assertDelta(next(), "m-1", "a");

        worker.interrupt();
        JsonNode result = next();
        assertEquals("result", result.get("type").textValue());
        assertTrue(result.get("interrupted").booleanValue());
        assertTrue(awaitStop(worker));
    }

    @Test
    void interruptWhenIdleEmitsNothing() throws Exception {
        EchoWorker worker = bound(2, Duration.ZERO);
        worker.interrupt();
        assertSilentFor(Duration.ZERO);

        worker.send("m-1", TextNode.valueOf("ab"));
        assertDelta(next(), "m-1", "a");
        assertDelta(next(), "m-1", "b");
        assertEquals("result", next().get("type").textValue());
        worker.interrupt();
        assertSilentFor(Duration.ZERO);
    }

    @Test
    void aNewMessageDuringATurnEndsTheOldTurnFirst() throws Exception {
        EchoWorker worker = bound(2, Duration.ofSeconds(30));
        loop.submit(() -> {
                    worker.send("m-1", TextNode.valueOf("ab"));
                    worker.send("m-2", TextNode.valueOf("cd"));
                })
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);

        assertDelta(next(), "m-1", "a");
        JsonNode cut = next();
        assertEquals("m-1", cut.get("id").textValue());
        assertEquals("result", cut.get("type").textValue());
        assertTrue(cut.get("interrupted").booleanValue());
        assertDelta(next(), "m-2", "c");
        awaitStop(worker);
    }

    @Test
    void stopCompletesAndSilencesTheWorker() throws Exception {
        Duration interval = Duration.ofMillis(10);
        EchoWorker worker = bound(5, interval);
        // send and stop in one loop task: the turn has emitted its first delta and has a timer pending.
        loop.submit(() -> {
                    worker.send("m-1", TextNode.valueOf("abcde"));
                    worker.stop();
                })
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertDelta(next(), "m-1", "a");
        assertSilentFor(interval.multipliedBy(6));

        // Stop from another thread completes too, and is idempotent.
        assertTrue(awaitStop(worker));
        assertTrue(awaitStop(worker));

        worker.send("m-2", TextNode.valueOf("x"));
        worker.interrupt();
        assertSilentFor(interval.multipliedBy(6));
    }

    @Test
    void stopOfAnIdleWorkerCompletes() throws Exception {
        EchoWorker worker = bound(1, Duration.ZERO);
        assertTrue(awaitStop(worker));
        assertEquals("echo", worker.describe());
    }

    @Test
    void rejectsAnEmptyDeltaCount() {
        assertThrows(IllegalArgumentException.class, () -> new EchoWorker(0, Duration.ZERO));
    }

    // --- helpers ---

    private EchoWorker bound(int deltas, Duration interval) throws Exception {
        return bound(deltas, interval, event -> {});
    }

    /** A worker on {@link #loop} whose listener records every event and then runs {@code also} (on the loop). */
    private EchoWorker bound(int deltas, Duration interval, Consumer<JsonNode> also) throws Exception {
        EchoWorker worker = new EchoWorker(deltas, interval);
        worker.bind("session-1", "alice", null, loop, new WorkerListener() {
            @Override
            public void onEvent(ObjectNode event) {
                if (!loop.inEventLoop()) {
                    offLoopCallbacks.incrementAndGet();
                }
                events.add(event);
                also.accept(event);
            }

            @Override
            public void onCheckpoint(JsonNode state) {}

            @Override
            public void onProtocolProblem(String code, String message) {
                throw new AssertionError("an echo worker never breaks the protocol: " + code);
            }

            @Override
            public void onExit(WorkerExit exit) {
                throw new AssertionError("an echo worker never exits by itself: " + exit);
            }
        });
        // bind hops onto the loop; make sure it has run before the test sends anything.
        loop.submit(() -> {}).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return worker;
    }

    private JsonNode next() throws InterruptedException {
        JsonNode event = events.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(event, "no event within " + TIMEOUT_MS + " ms");
        return event;
    }

    /**
     * Asserts that nothing is emitted up to {@code window} from now: waits for a marker task that
     * the loop runs only after every timer due before it, then checks the inbox is still empty.
     */
    private void assertSilentFor(Duration window) throws InterruptedException, ExecutionException, TimeoutException {
        loop.schedule(() -> {}, window.toNanos() + 1, TimeUnit.NANOSECONDS).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        // A zero-interval turn reschedules with execute(); one more plain task flushes those too.
        loop.submit(() -> {}).get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        assertNull(events.peek(), () -> "unexpected output: " + events);
    }

    private static boolean awaitStop(EchoWorker worker) throws Exception {
        worker.stop().toCompletableFuture().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return true;
    }

    private static void assertDelta(JsonNode event, String id, String text) {
        assertEquals("delta", event.get("type").textValue(), () -> "expected a delta, got " + event);
        assertEquals(id, event.get("id").textValue());
        assertEquals(text, event.get("text").textValue());
        assertFalse(event.has("interrupted"));
    }
}
