package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.ProcessWorkerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
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

    /** Graces no test waits out: whatever ends a worker here, it is not the time passing. */
    private static final Duration LONG_GRACE = Duration.ofMinutes(10);

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private WorkerRig rig;
    private WorkerLedger ledger;
    private ProcessWorkerLauncher launcher;

    @BeforeEach
    void setUp() {
        rig = new WorkerRig();
        ledger = new WorkerLedger();
        launcher = new ProcessWorkerLauncher(
                WorkerRig.demoConfig(
                        tmp.resolve("sessions"), LONG_GRACE, ProcessWorkerConfig.DEFAULT_MAX_CHECKPOINT_BYTES),
                rig.timers,
                rig.spawner,
                ledger);
    }

    @AfterEach
    void tearDown() {
        rig.close();
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
        rig.track(worker);
        return worker;
    }

    /** Makes {@code worker} ignore shutdown and SIGTERM, with a child that ignores SIGTERM; returns the child's pid. */
    private long stubborn(ProcessWorker worker) throws Exception {
        await(worker.ready());
        RecordingListener events = new RecordingListener(rig.sessionLoop());
        worker.bind("s-1", "alice", null, rig.sessionLoop(), events);
        worker.send("m1", json("{\"ignore_shutdown\":true,\"spawn_stubborn_child\":true,\"deltas\":0}"));
        Long child = null;
        while (true) { // up to the result: by then the worker ignores shutdown
            ObjectNode event = events.next();
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
        return WorkerRig.await(stage);
    }
}
