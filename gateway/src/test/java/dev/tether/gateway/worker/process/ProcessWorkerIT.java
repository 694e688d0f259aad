package dev.tether.gateway.worker.process;

import static dev.tether.gateway.worker.process.WorkerRig.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.testing.ProcFs;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import dev.tether.testkit.Poll;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ProcessWorker} with real subprocesses: the bundled demo worker started through the default
 * command ({@code ${java} ... -cp ${classpath} dev.tether.demo.DemoWorker}) by a real {@link
 * Spawner}, its stdio served by Netty's epoll loops, and bound to one of them as a session would.
 */
class ProcessWorkerIT {

    private static final Duration GRACE = Duration.ofMillis(500);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private WorkerRig rig;
    private Spawner spawner;
    /** The session's loop. */
    private EventLoop loop;
    /** What the worker of a test that binds one with {@link #bound(ProcessWorkerConfig)} tells its session. */
    private RecordingListener recorder;

    @BeforeEach
    void setUp() {
        rig = new WorkerRig();
        spawner = rig.spawner;
        loop = rig.sessionLoop();
        recorder = new RecordingListener(loop);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    @Test
    void becomesReadyAfterTheConfiguredDelay() throws Exception {
        long start = System.nanoTime();
        ProcessWorker worker = launch(config(
                Duration.ofSeconds(1),
                ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES,
                ProcessWorkerConfig.DEFAULT_MAX_PENDING_EVENTS,
                GRACE));
        await(worker.ready());
        long elapsed = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(elapsed >= 1000, "ready after " + elapsed + " ms");
        assertEquals("pid " + worker.pid().getAsLong(), worker.describe());
    }

    @Test
    void streamsDeltasThenResultOnTheBoundLoop() throws Exception {
        startTurn("{\"text\":\"hello tether\",\"deltas\":3,\"delay_ms\":5}");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            ObjectNode delta = recorder.next();
            assertEquals("delta", delta.path("type").asText());
            assertEquals("m1", delta.path("id").asText());
            text.append(delta.path("text").asText());
        }
        ObjectNode result = recorder.next();
        assertEquals("result", result.path("type").asText());
        assertEquals("hello tether", result.path("text").asText());
        assertEquals("hello tether", text.toString());
        assertFalse(recorder.offLoop.get(), "a callback ran off the session's loop");
    }

    @Test
    void sendsTheSessionLineOnBind() throws Exception {
        ProcessWorker worker = startTurn("{\"whoami\":true,\"deltas\":0}");
        ObjectNode whoami = recorder.nextOfType("whoami");
        assertEquals("s-1", whoami.path("session_id").asText());
        assertEquals("alice", whoami.path("subject").asText());
        assertEquals(worker.workDir().toString(), whoami.path("work_dir").asText());
        recorder.nextOfType("result");
    }

    @Test
    void garbageLinesAreProtocolErrorsAndTheWorkerGoesOn() throws Exception {
        ProcessWorker worker = startTurn("{\"garbage\":6,\"deltas\":1}");
        for (int i = 0; i < 6; i++) {
            assertEquals("worker_protocol_error", recorder.nextProblem()[0]);
        }
        recorder.nextOfType("result");
        assertEquals(6, worker.protocolErrors());
        assertTakesTheNextMessage(worker, "still here");
    }

    @Test
    void aLineOverTheLimitIsTruncatedAndTheNextMessageWorks() throws Exception {
        ProcessWorker worker = bound(config(Duration.ZERO, 64 * 1024, 16, GRACE));
        worker.send("m1", json("{\"huge_line_bytes\":5000000,\"deltas\":1}"));
        String[] problem = recorder.nextProblem();
        assertEquals("output_truncated", problem[0]);
        assertTrue(problem[1].contains("65536"), problem[1]);
        recorder.nextOfType("result");
        assertEquals(1, worker.truncatedLines());
        assertTakesTheNextMessage(worker, "after");
    }

    @Test
    void aFloodIsDeliveredAtMostMaxPendingEventsATurnSoTheLoopServesOthersMeanwhile() throws Exception {
        int maxPending = 8;
        int lines = 20_000;
        AtomicInteger seen = new AtomicInteger();
        CompletableFuture<Integer> otherTaskRanAt = new CompletableFuture<>();
        FloodListener listener = new FloodListener(seen, count -> {
            if (count == 1000) {
                // Another session's work on the same loop: it must not wait for the whole flood.
                loop.execute(() -> otherTaskRanAt.complete(seen.get()));
            }
        });
        ProcessWorker worker =
                launch(config(Duration.ZERO, ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES, maxPending, GRACE));
        await(worker.ready());
        worker.bind("s-1", "alice", null, loop, listener);
        worker.send("m1", json("{\"flood\":" + lines + ",\"deltas\":0}"));
        await(listener.result);
        assertEquals(lines, seen.get(), "every line, in the end");
        int ranAt = await(otherTaskRanAt);
        assertTrue(ranAt - 1000 <= 2 * maxPending, "the other task waited for " + (ranAt - 1000) + " lines");
    }

    @Test
    void pausedOutputIsNotReadSoTheWorkerBlocksOnItsOwnSocket() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        FloodListener listener = new FloodListener(seen, count -> {});
        ProcessWorker worker = launch(config());
        await(worker.ready());
        worker.bind("s-1", "alice", null, loop, listener);
        worker.pauseOutput(true);
        worker.send("m1", json("{\"flood\":200000,\"deltas\":0}"));
        long pid = worker.pid().getAsLong();
        Poll.until("the worker blocks writing to its full stdout socket", () -> ProcFs.blockedOnSocketWrite(pid));
        int atPause = seen.get();
        assertFalse(listener.result.isDone(), "no result while paused");
        assertTrue(atPause < 200_000, "the gateway did not take the flood: " + atPause);
        worker.pauseOutput(false);
        await(listener.result);
        assertEquals(200_000, seen.get());
    }

    @Test
    void bindingMovesTheStdioToTheSessionsLoop() throws Exception {
        ProcessWorker worker = startTurn("{\"text\":\"moved\",\"deltas\":1}");
        recorder.nextOfType("result");
        assertTrue(worker.stdioLoop() == loop, "served on the session's loop");
        assertFalse(recorder.offLoop.get(), "a callback ran off the session's loop");
    }

    @Test
    void aCrashIsReportedWithItsExitCodeAfterTheEventsBeforeIt() throws Exception {
        ProcessWorker worker = startTurn("{\"crash\":3,\"crash_after_deltas\":1,\"deltas\":3}");
        assertEquals("delta", recorder.next().path("type").asText());
        WorkerExit exit = await(recorder.exit);
        assertEquals(new WorkerExit(3, 0, "exit code 3"), exit);
        assertEquals(exit, await(worker.exited()));
        assertTrue(recorder.events.isEmpty(), "events after the exit: " + recorder.events);
    }

    @Test
    void sigkillFromOutsideIsReportedAsSignal9() throws Exception {
        ProcessWorker worker = bound(config());
        assertTrue(ProcessHandle.of(worker.pid().getAsLong()).orElseThrow().destroyForcibly());
        WorkerExit exit = await(recorder.exit);
        assertEquals(9, exit.signal());
        assertEquals(137, exit.code());
        assertTrue(exit.description().contains("SIGKILL"), exit.description());
    }

    @Test
    void stopEndsAWellBehavedWorkerWithTheShutdownLine() throws Exception {
        ProcessWorker worker =
                bound(config(Duration.ZERO, ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES, 16, Duration.ofSeconds(30)));
        long pid = worker.pid().getAsLong();
        worker.send("m1", json("{\"deltas\":1}"));
        recorder.nextOfType("result");
        await(worker.stop()); // well before stop_grace (30 s): no SIGTERM was needed
        WorkerExit exit = await(worker.exited());
        assertEquals(new WorkerExit(0, 0, "exit code 0"), exit);
        assertGone(pid);
        await(loop.submit(() -> null)); // whatever was queued for the session has run
        assertFalse(recorder.exit.isDone(), "onExit after stop()");
    }

    @Test
    void stopKillsAWorkerThatIgnoresShutdownAndSigtermTogetherWithItsChild() throws Exception {
        ProcessWorker worker = bound(config());
        long pid = worker.pid().getAsLong();
        worker.send("m1", json("{\"spawn_child\":true,\"ignore_shutdown\":true,\"deltas\":1}"));
        long child = recorder.nextOfType("child").path("pid").asLong();
        recorder.nextOfType("result");
        assertTrue(ProcessTree.running(child));
        long start = System.nanoTime();
        worker.stop().toCompletableFuture().get(GRACE.toMillis() * 2 + 5000, TimeUnit.MILLISECONDS);
        long took = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(took >= GRACE.toMillis() * 2, "stopped after " + took + " ms: the graces were not honoured");
        assertEquals(9, await(worker.exited()).signal());
        assertGone(pid);
        assertGone(child);
    }

    @Test
    void anOrphanedGrandchildIsKilledWhenTheWorkerCrashes() throws Exception {
        ProcessWorker worker = startTurn("{\"spawn_child\":true,\"deltas\":1}");
        long child = recorder.nextOfType("child").path("pid").asLong();
        recorder.nextOfType("result");
        worker.send("m2", json("{\"crash\":5}"));
        assertEquals(5, await(recorder.exit).code());
        await(worker.exited());
        // The child was reparented to init when the worker died; reaping it is init's job.
        assertNotRunning(child);
    }

    @Test
    void theEnvironmentHoldsOnlyAllowedAndExplicitVariables() throws Exception {
        ProcessWorker worker = startTurn("{\"env\":true,\"deltas\":0}");
        ObjectNode env = recorder.nextOfType("env");
        Set<String> names = new HashSet<>();
        env.path("vars").fieldNames().forEachRemaining(names::add);
        Set<String> expected = new HashSet<>(Set.of("DEMO_READY_DELAY", "DEMO_EXTRA", "TETHER_WORK_DIR"));
        for (String allowed : List.of("PATH", "LANG")) {
            if (System.getenv(allowed) != null) {
                expected.add(allowed);
            }
        }
        assertEquals(expected, names);
        assertEquals("x", env.path("vars").path("DEMO_EXTRA").asText());
        assertEquals(
                worker.workDir().toString(),
                env.path("vars").path("TETHER_WORK_DIR").asText());
        assertEquals(worker.workDir().toRealPath().toString(), env.path("cwd").asText());
    }

    @Test
    void theWorkingDirectoryExistsWhileRunningAndIsRemovedWithoutFollowingLinks() throws Exception {
        ProcessWorker worker = bound(config());
        Path dir = worker.workDir();
        assertTrue(Files.isDirectory(dir));
        assertEquals(tmp.resolve("sessions"), dir.getParent());
        Path outside = Files.writeString(tmp.resolve("precious.txt"), "keep me");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/file.txt"), "scratch");
        Files.createSymbolicLink(dir.resolve("link-to-file"), outside);
        Files.createSymbolicLink(dir.resolve("link-to-dir"), tmp);
        await(worker.stop());
        assertFalse(Files.exists(dir, LinkOption.NOFOLLOW_LINKS), dir + " still there");
        assertEquals("keep me", Files.readString(outside));
    }

    @Test
    void rssGrowsWhenTheWorkerAllocates() throws Exception {
        ProcessWorker worker = bound(config());
        long pid = worker.pid().getAsLong();
        long before = ProcessTree.rssBytes(pid);
        worker.send("m1", json("{\"allocate_mb\":100,\"deltas\":0}"));
        ObjectNode allocated = recorder.nextOfType("allocated");
        assertEquals(100, allocated.path("mb").asInt(), allocated.toString());
        long after = ProcessTree.rssBytes(pid);
        assertTrue(after - before >= 90L * 1024 * 1024, "rss " + before + " -> " + after);
    }

    @Test
    void killEndsTheWorkerAtOnceWithoutOnExit() throws Exception {
        ProcessWorker worker =
                bound(config(Duration.ZERO, ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES, 16, Duration.ofSeconds(30)));
        worker.send("m1", json("{\"spawn_child\":true,\"deltas\":1}"));
        long child = recorder.nextOfType("child").path("pid").asLong();
        worker.kill();
        assertEquals(9, await(worker.exited()).signal());
        assertGone(worker.pid().getAsLong());
        assertNotRunning(child);
        await(loop.submit(() -> null));
        assertFalse(recorder.exit.isDone(), "onExit after kill()");
    }

    @Test
    void interruptEndsAHangingTurn() throws Exception {
        ProcessWorker worker = startTurn("{\"hang\":true,\"deltas\":1,\"delay_ms\":0}");
        assertEquals("delta", recorder.next().path("type").asText());
        worker.interrupt();
        ObjectNode result = recorder.nextOfType("result");
        assertTrue(result.path("interrupted").asBoolean(), result.toString());
    }

    @Test
    void aWorkerThatDiesBeforeReadyFailsReady() throws Exception {
        ProcessWorkerConfig config =
                commandConfig(List.of("${java}", "-cp", "${classpath}", "dev.tether.demo.NoSuchWorker"));
        ProcessWorker worker = launch(config);
        ExecutionException failure = assertThrows(
                ExecutionException.class,
                () -> worker.ready().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertTrue(
                failure.getCause().getMessage().contains("exit code 1"),
                failure.getCause().getMessage());
        await(worker.exited());
        assertFalse(Files.exists(worker.workDir()));
    }

    @Test
    void aRequestTheSpawnerCannotEncodeFailsItsStageAndIsForgotten() throws Exception {
        // Config refuses NUL characters (ConfigLoaderTest); the spawner still never throws with a
        // request half-built, whatever its caller passes.
        Path dir = Files.createDirectories(tmp.resolve("refused"));
        CompletionStage<SpawnedProcess> spawn = spawner.spawn(List.of("/bin/true", "a\0b"), Map.of(), dir);
        ExecutionException failure = assertThrows(
                ExecutionException.class, () -> spawn.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertTrue(
                failure.getCause().getMessage().contains("NUL"),
                failure.getCause().getMessage());
        ProcessWorker next = launch(config()); // the spawner goes on
        await(next.ready());
    }

    @Test
    void aLimitTheChildCannotApplyFailsTheSpawnNamingItAndTheSpawnerGoesOn() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("limits"));
        Map<String, String> refusals = Map.of(
                "cgroup=" + tmp.resolve("no-such-group").resolve("cgroup.procs"),
                "cannot start the worker (cgroup): no such file or directory",
                "oom_score_adj=5000",
                "cannot start the worker (oom_score_adj): invalid argument",
                "rlimit_nofile=lots",
                "cannot start the worker (rlimit_nofile): invalid argument",
                "rlimit_stack=1",
                "cannot start the worker (limit): invalid argument");
        for (Map.Entry<String, String> refusal : refusals.entrySet()) {
            CompletionStage<SpawnedProcess> spawn =
                    spawner.spawn(List.of("/bin/true"), Map.of(), dir, List.of(refusal.getKey()));
            ExecutionException failure = assertThrows(
                    ExecutionException.class,
                    () -> spawn.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS));
            assertEquals(refusal.getValue(), failure.getCause().getMessage(), refusal.getKey());
        }
        ProcessWorker next = launch(config()); // the spawner goes on
        await(next.ready());
    }

    /** Without control groups (polled limits): RLIMIT_NPROC stands for max_processes, next to the other limits. */
    @Test
    void aWorkerWithoutControlGroupsHasItsResourceLimitsAndOomScore() throws Exception {
        ProcessWorker worker = launch(config());
        await(worker.ready());
        Path proc = Path.of("/proc", Long.toString(worker.pid().getAsLong()));
        assertEquals("500", Files.readString(proc.resolve("oom_score_adj")).strip());
        String limits = Files.readString(proc.resolve("limits"));
        assertTrue(limits.matches("(?s).*\\nMax processes +1024 +1024 .*"), limits);
        assertTrue(limits.matches("(?s).*\\nMax open files +4096 +4096 .*"), limits);
        assertTrue(limits.matches("(?s).*\\nMax core file size +0 +0 .*"), limits);
        assertTrue(limits.matches("(?s).*\\nMax cpu time +unlimited .*"), limits);
    }

    // ---- checkpoints (contract 7.2) ----

    @Test
    void aCheckpointIsHandedOverAndNotForwardedAndResumeContinuesTheTurnCount() throws Exception {
        RecordingListener first = new RecordingListener(loop);
        ProcessWorker worker = bound(config(), first);
        worker.send("m1", json("{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}"));
        assertEquals(1, first.nextOfType("result").path("turn").asInt());
        assertEquals(json("{\"turns\":1}"), first.checkpoints.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
        worker.send("m2", json("{\"text\":\"two\",\"deltas\":1,\"delay_ms\":0}"));
        ObjectNode second = first.nextOfType("result");
        assertEquals(2, second.path("turn").asInt());
        assertEquals(json("{\"turns\":2}"), first.checkpoints.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertTrue(
                first.events.stream()
                        .noneMatch(e -> "checkpoint".equals(e.path("type").asText())),
                "a checkpoint is never an event: " + first.events);

        // A worker that continues the session gets the checkpoint on its session line.
        RecordingListener next = new RecordingListener(loop);
        ProcessWorker successor = launch(config());
        await(successor.ready());
        successor.bind("s-1", "alice", json("{\"turns\":2}"), loop, next);
        successor.send("m3", json("{\"text\":\"three\",\"deltas\":1,\"delay_ms\":0}"));
        assertEquals(3, next.nextOfType("result").path("turn").asInt());
        assertEquals(json("{\"turns\":3}"), next.checkpoints.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertFalse(first.offLoop.get() || next.offLoop.get(), "callbacks on the session's loop only");
    }

    @Test
    void aMessageSentOnTheSessionsLoopRightAfterTheBindReachesTheWorkerAfterItsSessionLine() throws Exception {
        // As a session does with a queued message when its worker gets ready: bind, then send, on the
        // loop. The worker must read its session line (with resume) first, or it runs the message as
        // turn 1 of a fresh session.
        ProcessWorker worker = launch(config());
        await(worker.ready());
        JsonNode resume = json("{\"turns\":41}");
        JsonNode data = json("{\"text\":\"go on\",\"deltas\":1,\"delay_ms\":0}");
        loop.submit(() -> {
                    worker.bind("s-1", "alice", resume, loop, recorder);
                    worker.send("m42", data);
                })
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(42, recorder.nextOfType("result").path("turn").asInt());
    }

    /**
     * A worker that talks while it is being bound (as Codex's app-server sends notifications of its
     * own after initialize): lines read on the spawner's loop while the binding is set on the
     * session's loop must never reach the listener there. Each bind races a stream of output; every
     * callback must run on the session's loop.
     */
    @Test
    void outputWhileTheWorkerIsBeingBoundReachesTheSessionOnlyOnItsOwnLoop() throws Exception {
        ProcessWorkerConfig chatty = commandConfig(
                List.of("sh", "-c", "echo '{\"type\":\"ready\"}'; while :; do echo '{\"type\":\"noise\"}'; done"));
        for (int i = 0; i < 20; i++) {
            List<String> wrongThread = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> heard = new CompletableFuture<>();
            ProcessWorker worker = launch(chatty);
            await(worker.ready());
            worker.bind("s-" + i, "alice", null, loop, new WorkerListener() {
                @Override
                public void onEvent(ObjectNode event) {
                    if (!loop.inEventLoop()) {
                        wrongThread.add(Thread.currentThread().getName());
                    }
                    heard.complete(null);
                }

                @Override
                public void onCheckpoint(JsonNode state) {}

                @Override
                public void onProtocolProblem(String code, String message) {
                    if (!loop.inEventLoop()) {
                        wrongThread.add(Thread.currentThread().getName());
                    }
                }

                @Override
                public void onExit(WorkerExit exit) {}
            });
            await(heard);
            await(worker.stop());
            assertEquals(List.of(), wrongThread, "every callback on the session's loop (bind " + i + ")");
        }
    }

    @Test
    void aCheckpointOverTheLimitOrWithoutStateIsRefusedAndNotHandedOver() throws Exception {
        ProcessWorker worker = bound(WorkerRig.demoConfig(tmp.resolve("sessions"), GRACE, 1024));
        worker.send("big", json("{\"deltas\":0,\"checkpoint_pad\":1010}"));
        recorder.nextOfType("result");
        String[] tooLarge = recorder.nextProblem();
        assertEquals(ProcessWorker.CHECKPOINT_TOO_LARGE, tooLarge[0]);
        assertTrue(tooLarge[1].contains("1024"), tooLarge[1]);
        worker.send("fits", json("{\"deltas\":0,\"checkpoint_pad\":990}"));
        recorder.nextOfType("result");
        JsonNode kept = recorder.checkpoints.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(kept, "a checkpoint within the limit is handed over");
        assertEquals(2, kept.path("turns").asInt());
        worker.send("bad", json("{\"deltas\":0,\"bad_checkpoint\":true}"));
        recorder.nextOfType("result");
        assertEquals(WorkerOutputHandler.PROTOCOL_ERROR, recorder.nextProblem()[0]);
        assertTrue(recorder.checkpoints.isEmpty(), "refused checkpoints are not handed over: " + recorder.checkpoints);
    }

    // ---- helpers ----

    /** A config that runs {@code command} with only PATH passed on, lines up to 64 KiB, 16 pending events. */
    private ProcessWorkerConfig commandConfig(List<String> command) {
        return new ProcessWorkerConfig(
                command,
                List.of("PATH"),
                Map.of(),
                tmp.resolve("sessions"),
                64 * 1024,
                16,
                GRACE,
                GRACE,
                ProcessWorkerConfig.DEFAULT_MAX_CHECKPOINT_BYTES);
    }

    private ProcessWorkerConfig config() {
        return config(Duration.ZERO, ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES, 16, GRACE);
    }

    private ProcessWorkerConfig config(Duration readyDelay, int maxLineBytes, int maxPending, Duration stopGrace) {
        return new ProcessWorkerConfig(
                ProcessWorkerConfig.DEFAULT_COMMAND,
                List.of("PATH", "LANG"),
                Map.of("DEMO_READY_DELAY", readyDelay.toMillis() + "ms", "DEMO_EXTRA", "x"),
                tmp.resolve("sessions"),
                maxLineBytes,
                maxPending,
                stopGrace,
                GRACE,
                ProcessWorkerConfig.DEFAULT_MAX_CHECKPOINT_BYTES);
    }

    private ProcessWorker launch(ProcessWorkerConfig config) throws Exception {
        return rig.track(new ProcessWorkerLauncher(config, rig.timers, spawner, new WorkerLedger())
                .launch()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS));
    }

    /** {@code worker} goes on after what went wrong: it answers the next message, with {@code text}. */
    private void assertTakesTheNextMessage(ProcessWorker worker, String text) throws Exception {
        worker.send("m2", json("{\"text\":\"" + text + "\",\"deltas\":1}"));
        assertEquals(text, recorder.nextOfType("result").path("text").asText());
    }

    /** A ready worker with the default config, bound to the session and given message {@code m1} with {@code data}. */
    private ProcessWorker startTurn(String data) throws Exception {
        ProcessWorker worker = bound(config());
        worker.send("m1", json(data));
        return worker;
    }

    /** A ready worker bound to the session's loop, telling {@link #recorder}. */
    private ProcessWorker bound(ProcessWorkerConfig config) throws Exception {
        return bound(config, recorder);
    }

    private ProcessWorker bound(ProcessWorkerConfig config, RecordingListener listener) throws Exception {
        ProcessWorker worker = launch(config);
        await(worker.ready());
        worker.bind("s-1", "alice", null, loop, listener);
        return worker;
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return WorkerRig.await(stage);
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** Gone entirely: not alive for Java, and not even a zombie in /proc. */
    private static void assertGone(long pid) throws InterruptedException {
        poll(
                () -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !ProcessTree.exists(pid),
                "process " + pid + " still there: " + ProcessTree.stat(pid));
    }

    /**
     * Not running, and reaped unless only init can reap it: a zombie whose parent died is init's to
     * reap (some inits do it lazily, this sandbox's PID 1 every ~2 s, and a container without an
     * init never does); a zombie with any other parent fails.
     */
    private static void assertNotRunning(long pid) throws InterruptedException {
        poll(() -> !ProcessTree.running(pid), "process " + pid + " still running: " + ProcessTree.stat(pid));
        try {
            Poll.until("zombie " + pid + " reaped", Duration.ofSeconds(5), () -> !ProcessTree.exists(pid));
        } catch (AssertionError stillThere) {
            // judged below: only a zombie whose parent is init may remain
        }
        ProcessTree.stat(pid).ifPresent(stat -> {
            if (stat.ppid() != 1) {
                fail("zombie " + stat + " whose parent is not init");
            }
            System.err.println("note: " + stat + " is a zombie that PID 1 has not reaped within 5 s");
        });
    }

    private static void poll(BooleanSupplier condition, String message) {
        Poll.until(message, WAIT, condition);
    }
}
