package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import io.netty.channel.epoll.EpollEventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WorkerLedger} with real demo-worker subprocesses: it holds every worker from launch until
 * its exit has been handled, refuses launches once closed, skips the graces of a stubborn tree on
 * request, and its final sweep kills what is left and removes its working directory.
 */
class WorkerLedgerIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Graces no test waits out: whatever ends a worker here, it is not the time passing. */
    private static final Duration LONG_GRACE = Duration.ofMinutes(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private ScheduledExecutorService timers;
    private EpollEventLoopGroup loop;
    private Spawner spawner;
    private WorkerLedger ledger;
    private ProcessWorkerLauncher launcher;
    private final List<ProcessWorker> started = new ArrayList<>();

    @BeforeEach
    void setUp() {
        timers = Executors.newScheduledThreadPool(2, task -> {
            Thread thread = new Thread(task, "worker-timers");
            thread.setDaemon(true);
            return thread;
        });
        loop = new EpollEventLoopGroup(1);
        try {
            spawner = Spawner.start(loop);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        ledger = new WorkerLedger();
        launcher = new ProcessWorkerLauncher(new ProcessWorkerConfig(ProcessWorkerConfig.DEFAULT_COMMAND, List.of("PATH"),
                Map.of("DEMO_READY_DELAY", "0ms"), tmp.resolve("sessions"), ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES,
                16, LONG_GRACE, LONG_GRACE, ProcessWorkerConfig.DEFAULT_MAX_CHECKPOINT_BYTES), timers, spawner, ledger);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (ProcessWorker worker : started) {
            worker.kill();
            await(worker.exited());
        }
        spawner.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        timers.shutdownNow();
    }

    @Test
    void closedRefusesLaunchesAndEmptiesOnceTheLastWorkerIsCleanedUp() throws Exception {
        ProcessWorker worker = launch();
        await(worker.ready());
        assertEquals(1, ledger.size());

        ledger.close();
        IOException refused = assertThrows(IOException.class, launcher::launch);
        assertTrue(refused.getMessage().contains("shutting down"), refused.getMessage());
        assertFalse(ledger.emptied().toCompletableFuture().isDone(), "a worker is still there");

        worker.stop(); // a demo worker that was not told otherwise exits on the shutdown line
        await(ledger.emptied());
        assertFalse(Files.exists(worker.workDir()));
        assertEquals(new WorkerLedger.Summary(1, 0, 0, 0, 1), ledger.summary());
    }

    @Test
    void skippedGracesEndAStubbornTreeAtOnce() throws Exception {
        ProcessWorker worker = launch();
        long child = stubborn(worker);
        ledger.close();
        worker.stop(); // ignored: only the graces of ten minutes would end it

        ledger.skipGraces();

        await(ledger.emptied());
        assertFalse(ProcessTree.running(worker.pid().getAsLong()), "worker still running");
        assertFalse(ProcessTree.running(child), "its child still running");
        assertFalse(Files.exists(worker.workDir()));
        assertEquals(new WorkerLedger.Summary(1, 1, 1, 0, 1), ledger.summary());
    }

    @Test
    void finalSweepKillsWhatIsLeftAndRemovesItsDirectory() throws Exception {
        ProcessWorker worker = launch();
        long child = stubborn(worker);
        ledger.close();

        ledger.sweep(); // nobody stopped it: the last resort

        assertFalse(ProcessTree.running(worker.pid().getAsLong()), "worker still running");
        assertFalse(ProcessTree.running(child), "its child still running");
        assertFalse(Files.exists(worker.workDir()));
        assertTrue(ledger.emptied().toCompletableFuture().isDone());
        assertEquals(new WorkerLedger.Summary(1, 0, 1, 2, 1), ledger.summary());
    }

    // ---- helpers ----

    private ProcessWorker launch() throws Exception {
        ProcessWorker worker = launcher.launch().toCompletableFuture().get(30, TimeUnit.SECONDS);
        started.add(worker);
        return worker;
    }

    /** Makes {@code worker} ignore shutdown and SIGTERM, with a child that ignores SIGTERM; returns the child's pid. */
    private long stubborn(ProcessWorker worker) throws Exception {
        await(worker.ready());
        BlockingQueue<ObjectNode> events = new LinkedBlockingQueue<>();
        worker.bind("s-1", "alice", null, loop.next(), new WorkerListener() {
            @Override
            public void onEvent(ObjectNode event) {
                events.add(event);
            }

            @Override
            public void onCheckpoint(JsonNode state) {
            }

            @Override
            public void onProtocolProblem(String code, String message) {
            }

            @Override
            public void onExit(WorkerExit exit) {
            }
        });
        worker.send("m1", json("{\"ignore_shutdown\":true,\"spawn_stubborn_child\":true,\"deltas\":0}"));
        Long child = null;
        while (true) { // up to the result: by then the worker ignores shutdown
            ObjectNode event = events.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(event != null, "no result within " + WAIT);
            if ("child".equals(event.path("type").asText())) {
                assertTrue(event.path("ignores_sigterm").asBoolean(), event.toString());
                child = event.path("pid").asLong();
            } else if ("result".equals(event.path("type").asText())) {
                assertTrue(child != null, "no child event before the result");
                return child;
            }
        }
    }

    private static JsonNode json(String text) throws IOException {
        return JSON.readTree(text);
    }

    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
}
