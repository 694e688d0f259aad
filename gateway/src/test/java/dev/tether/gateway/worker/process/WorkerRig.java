package dev.tether.gateway.worker.process;

import dev.tether.gateway.config.ProcessWorkerConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollEventLoopGroup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What a test of real worker processes runs them on, as the gateway does: a timer thread for their
 * graces, a real {@link Spawner} on an epoll loop of its own (where a worker's stdio is served
 * until it is bound), and a session's loop to bind them to. {@link #close()} kills every worker
 * the test {@link #track tracked}, waits for each exit, then stops the rest.
 *
 * <p>Used from the test's thread.
 */
final class WorkerRig implements AutoCloseable {

    /** How long a test waits for a worker's stage. */
    static final Duration WAIT = Duration.ofSeconds(20);

    /**
     * The demo worker (the default command, ready at once), with only PATH passed on, its working
     * directories under {@code dir}, 16 pending events and both graces {@code grace}.
     */
    static ProcessWorkerConfig demoConfig(Path dir, Duration grace, int maxCheckpointBytes) {
        return new ProcessWorkerConfig(
                ProcessWorkerConfig.DEFAULT_COMMAND,
                List.of("PATH"),
                Map.of("DEMO_READY_DELAY", "0ms"),
                dir,
                ProcessWorkerConfig.DEFAULT_MAX_LINE_BYTES,
                16,
                grace,
                grace,
                maxCheckpointBytes);
    }

    final ScheduledExecutorService timers;
    final Spawner spawner;
    private final EpollEventLoopGroup spawnerLoops = new EpollEventLoopGroup(1);
    private final EpollEventLoopGroup sessionLoops = new EpollEventLoopGroup(1);
    private final List<ProcessWorker> tracked = new ArrayList<>();

    WorkerRig() {
        timers = Executors.newScheduledThreadPool(2, task -> {
            Thread thread = new Thread(task, "worker-timers");
            thread.setDaemon(true);
            return thread;
        });
        try {
            spawner = Spawner.start(spawnerLoops);
        } catch (Exception e) {
            close();
            throw new AssertionError("cannot start the spawner", e);
        }
    }

    /** The session's loop: what workers are bound to. */
    EventLoop sessionLoop() {
        return sessionLoops.next();
    }

    /** {@code worker}, to be killed (and its exit awaited) when the rig closes. */
    ProcessWorker track(ProcessWorker worker) {
        tracked.add(worker);
        return worker;
    }

    /** Waits up to {@link #WAIT} for {@code stage}. */
    static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        try {
            for (ProcessWorker worker : tracked) {
                worker.kill();
                await(worker.exited());
            }
        } catch (Exception e) {
            throw new AssertionError("a worker did not exit when killed", e);
        } finally {
            if (spawner != null) {
                spawner.close();
            }
            sessionLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            spawnerLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            timers.shutdownNow();
        }
    }
}
