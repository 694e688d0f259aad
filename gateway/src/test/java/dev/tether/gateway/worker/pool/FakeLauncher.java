package dev.tether.gateway.worker.pool;

import java.util.ArrayList;
import java.util.List;

/**
 * Launches {@link FakeWorker}s and records them, with their launch times; can be told to fail.
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
    Thread lastThread;

    FakeLauncher(String name, ManualScheduler scheduler) {
        this.name = name;
        this.scheduler = scheduler;
    }

    @Override
    public FakeWorker launch() throws Exception {
        attempts++;
        launchTimes.add(scheduler.nanos());
        lastThread = Thread.currentThread();
        if (failing) {
            throw new java.io.IOException("Cannot run program \"agent\": error=2, No such file or directory");
        }
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
