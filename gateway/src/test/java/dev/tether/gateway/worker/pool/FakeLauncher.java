package dev.tether.gateway.worker.pool;

import dev.tether.gateway.worker.FakeWorker;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Launches {@link FakeWorker}s and records them, with their launch times; can be told to fail, or
 * to hold its launches (a process still being created) until the test releases or fails them.
 * Used on the {@link ManualScheduler}'s (the test's) thread only.
 */
final class FakeLauncher implements WorkerLauncher {

    private static int nextPid = 1000;

    final String name;
    final List<FakeWorker> launched = new ArrayList<>();
    final List<Long> launchTimes = new ArrayList<>();
    private final ManualScheduler scheduler;
    int attempts;
    boolean failing;
    boolean readyAtOnce;
    /** Launches return a stage the test completes with {@link #release} or {@link #failHeld}. */
    boolean holding;

    final List<CompletableFuture<FakeWorker>> held = new ArrayList<>();
    Thread lastThread;

    FakeLauncher(String name, ManualScheduler scheduler) {
        this.name = name;
        this.scheduler = scheduler;
    }

    @Override
    public CompletionStage<FakeWorker> launch() throws Exception {
        attempts++;
        launchTimes.add(scheduler.nanos());
        lastThread = Thread.currentThread();
        if (failing) {
            throw new IOException("Cannot run program \"agent\": error=2, No such file or directory");
        }
        if (holding) {
            CompletableFuture<FakeWorker> launch = new CompletableFuture<>();
            held.add(launch);
            return launch;
        }
        return CompletableFuture.completedFuture(newWorker());
    }

    /** Completes held launch {@code index} with a new worker, and returns it. */
    FakeWorker release(int index) {
        FakeWorker worker = newWorker();
        held.get(index).complete(worker);
        return worker;
    }

    /** Fails held launch {@code index} as a process that could not be created. */
    void failHeld(int index) {
        held.get(index).completeExceptionally(new IOException("fork failed: Resource temporarily unavailable"));
    }

    private FakeWorker newWorker() {
        FakeWorker worker = new FakeWorker(nextPid++, name);
        if (readyAtOnce) {
            worker.becomeReady();
        }
        launched.add(worker);
        return worker;
    }

    FakeWorker last() {
        return launched.get(launched.size() - 1);
    }

    FakeWorker get(int index) {
        return launched.get(index);
    }
}
