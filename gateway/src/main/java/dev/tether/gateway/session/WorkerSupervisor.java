package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.LimitsConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerExit;
import dev.tether.gateway.worker.WorkerListener;
import dev.tether.gateway.worker.WorkerUnavailableException;
import io.netty.util.concurrent.EventExecutor;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Supervises the worker of one {@link Session}: binds it, replaces it when it crashes or passes the
 * RSS hard limit (telling the client which turn was lost), replaces it between turns once it passes
 * the RSS soft limit, charges every replacement to the session's restart budget, and stops every
 * worker it holds or waits for when the session ends.
 *
 * <p><b>Threading:</b> not thread-safe; owned by a session and used only on its event loop, like
 * the session's own state. Worker callbacks and readiness hop onto that loop with
 * {@code executor.execute(...)}. Only {@link #current()} may be read from any thread (a volatile
 * snapshot for the RSS monitor).
 */
final class WorkerSupervisor {

    /** Same category as the session's own log lines, so operators' filters still catch restarts. */
    private static final Logger log = LoggerFactory.getLogger(Session.class);
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** What the supervisor needs of its session; called on the session's event loop. */
    interface Host {
        /** Whether the session has ended. */
        boolean ended();

        /** Whether the session is idle with no turn running (a soft restart may happen now). */
        boolean idleWithoutTurn();

        /** The id of the running turn, or null. */
        String turnId();

        /** The running turn is lost with its worker: forget it. */
        void turnLost();

        /** An event from the current worker. */
        void onEvent(ObjectNode event);

        /** Adds a {@code notice} to the session's history. */
        void notice(String code, String message, ObjectNode details);

        /** The session goes to status {@code restarting} for {@code reason}. */
        void restarting(String reason);

        /** A fresh worker took over: start the next queued message or go idle. */
        void resumed();

        /** Ends the session. */
        void end(EndReason reason);
    }

    private final String sessionId;
    private final String subject;
    private final EventExecutor executor;
    private final SessionContext context;
    private final LimitsConfig limits;
    private final Host host;
    private final RestartBudget restarts;

    private volatile Worker worker;
    /** A replacement being prepared after the RSS soft limit; swapped in when the turn ends. */
    private CompletionStage<Worker> replacement;
    private boolean softRestartDue;
    /**
     * The worker replaced after the RSS soft limit, kept running until its replacement is ready (it is
     * no longer {@link #worker}, so nothing else would stop it if the session ended meanwhile).
     */
    private Worker retiring;
    /** The latest RSS sample and the worker it was taken of (a sample of an earlier worker is stale). */
    private long lastRssBytes;
    private Worker lastRssOf;
    /** Workers being waited for (cold start, restart): stopped and waited for if the session ends first. */
    private final Set<CompletionStage<Worker>> awaiting = new LinkedHashSet<>();

    WorkerSupervisor(String sessionId, String subject, EventExecutor executor, SessionContext context, Host host) {
        this.sessionId = requireNonNull(sessionId, "sessionId");
        this.subject = requireNonNull(subject, "subject");
        this.executor = requireNonNull(executor, "executor");
        this.context = requireNonNull(context, "context");
        this.host = requireNonNull(host, "host");
        this.limits = context.limits();
        this.restarts = new RestartBudget(executor, limits.maxRestarts(), limits.restartWindow());
    }

    /** The worker serving the session right now, or null (none yet, or being replaced). Any thread. */
    Worker current() {
        return worker;
    }

    /** The latest RSS sample of {@code of}, or null when there is none of that worker. */
    Long rssOf(Worker of) {
        return of != null && of == lastRssOf ? lastRssBytes : null;
    }

    /** {@code stage}'s worker if it is already acquired and ready, else null (a warm start). */
    static Worker readyNow(CompletionStage<Worker> stage) {
        var future = stage.toCompletableFuture();
        if (!future.isDone() || future.isCompletedExceptionally()) {
            return null;
        }
        Worker candidate = future.join();
        var ready = candidate.ready().toCompletableFuture();
        return ready.isDone() && !ready.isCompletedExceptionally() ? candidate : null;
    }

    /** Makes {@code ready} the session's worker and listens to it. */
    void bind(Worker ready) {
        assert executor.inEventLoop();
        worker = ready;
        ready.bind(sessionId, subject, executor, new WorkerListener() {
            @Override
            public void onEvent(ObjectNode event) {
                onWorkerEvent(ready, event);
            }

            @Override
            public void onProtocolProblem(String code, String message) {
                if (ready == worker) {
                    host.notice(code, message, null);
                }
            }

            @Override
            public void onExit(WorkerExit exit) {
                onWorkerExit(ready, exit);
            }
        });
    }

    /**
     * Runs {@code then} on this loop once {@code stage}'s worker is ready; ends the session if it
     * never gets ready, and stops the worker if the session ended meanwhile.
     */
    void whenReady(CompletionStage<Worker> stage, Consumer<Worker> then) {
        awaiting.add(stage);
        stage.thenCompose(w -> w.ready().thenApply(ignored -> w)).whenComplete((ready, failure) -> executor.execute(() -> {
            awaiting.remove(stage);
            if (host.ended()) {
                if (ready != null) {
                    ready.stop();
                }
                return;
            }
            if (failure != null) {
                log.atWarn().addKeyValue("session", sessionId).addKeyValue("subject", subject)
                        .log("worker never became ready: {}", failure.toString());
                host.end(EndReason.WORKER_FAILED);
                return;
            }
            then.accept(ready);
        }));
    }

    /**
     * Called when a turn ended: does the soft restart scheduled by the RSS soft limit, if one is due.
     *
     * @return whether a restart began (the session must not start the next turn itself)
     */
    boolean restartIfDue() {
        assert executor.inEventLoop();
        if (!softRestartDue) {
            return false;
        }
        softRestart();
        return true;
    }

    /** A fresh RSS sample of {@code sampled}'s process tree: enforces the hard and soft limits. */
    void onRss(Worker sampled, long rssBytes) {
        assert executor.inEventLoop();
        if (sampled != worker || host.ended()) {
            return;
        }
        lastRssOf = sampled;
        lastRssBytes = rssBytes;
        if (rssBytes > limits.rssHardLimit()) {
            ObjectNode details = JSON.objectNode().put("rss_bytes", rssBytes).put("limit_bytes", limits.rssHardLimit());
            withTurnId(details);
            host.notice("worker_killed", "the worker used more memory than the hard limit and was stopped", details);
            log.atWarn().addKeyValue("session", sessionId).addKeyValue("subject", subject)
                    .log("worker {} over rss_hard_limit ({} bytes): killed", sampled.describe(), rssBytes);
            worker = null;
            host.turnLost();
            sampled.kill();
            context.metrics().workerRestarted(GatewayMetrics.RestartCause.RSS_HARD);
            restart("rss_hard_limit");
            return;
        }
        if (rssBytes > limits.rssSoftLimit() && !softRestartDue) {
            softRestartDue = true;
            context.metrics().workerRestarted(GatewayMetrics.RestartCause.RSS_SOFT);
            host.notice("restart_scheduled", "the worker uses more memory than the soft limit and will be replaced "
                    + "when the current turn ends", JSON.objectNode().put("rss_bytes", rssBytes)
                            .put("limit_bytes", limits.rssSoftLimit()));
            try {
                replacement = context.workers().acquire();
            } catch (WorkerUnavailableException e) {
                replacement = null;
            }
            if (host.idleWithoutTurn()) {
                softRestart();
            }
        }
    }

    /**
     * Lets go of every worker: the current one, a prepared replacement, any being waited for and a
     * retiring one are stopped. Called once, when the session ends.
     *
     * @return completes once all of them are gone
     */
    CompletableFuture<Void> stopAll() {
        assert executor.inEventLoop();
        Worker last = worker;
        worker = null;
        CompletableFuture<Void> stopped = last == null
                ? CompletableFuture.completedFuture(null)
                : last.stop().toCompletableFuture();
        if (replacement != null) {
            stopped = stopped.thenCombine(replacement.thenCompose(Worker::stop), (a, b) -> null);
            replacement = null;
        }
        for (CompletionStage<Worker> pending : awaiting) {
            stopped = stopped.thenCombine(pending.handle((w, error) -> w)
                    .thenCompose(w -> w == null ? CompletableFuture.<Void>completedFuture(null) : w.stop()),
                    (a, b) -> null);
        }
        awaiting.clear();
        if (retiring != null) {
            stopped = stopped.thenCombine(retiring.stop(), (a, b) -> null);
            retiring = null;
        }
        return stopped;
    }

    private void onWorkerEvent(Worker from, ObjectNode event) {
        assert executor.inEventLoop();
        if (from != worker || host.ended()) {
            return;
        }
        host.onEvent(event);
    }

    private void onWorkerExit(Worker from, WorkerExit exit) {
        assert executor.inEventLoop();
        if (from != worker || host.ended()) {
            return;
        }
        log.atWarn().addKeyValue("session", sessionId).addKeyValue("subject", subject)
                .log("worker {} exited: {}", from.describe(), exit.description());
        ObjectNode details = JSON.objectNode().put("exit_code", exit.code()).put("signal", exit.signal());
        withTurnId(details);
        host.notice("worker_crashed", "the worker stopped unexpectedly (" + exit.description() + ")", details);
        worker = null;
        host.turnLost();
        context.metrics().workerRestarted(GatewayMetrics.RestartCause.CRASH);
        restart("crash");
    }

    /** Names the turn a lost worker took with it, so the client knows which message got no result. */
    private void withTurnId(ObjectNode details) {
        String turnId = host.turnId();
        if (turnId != null) {
            details.put("turn_id", turnId);
        }
    }

    /** Replaces the current worker by the one prepared after the RSS soft limit, once that is ready. */
    private void softRestart() {
        softRestartDue = false;
        Worker old = worker;
        worker = null;
        CompletionStage<Worker> next = replacement;
        replacement = null;
        if (!restarts.tryTake()) {
            if (old != null) {
                old.stop();
            }
            if (next != null) {
                next.thenAccept(Worker::stop);
            }
            host.end(EndReason.RESTART_LIMIT);
            return;
        }
        host.restarting("rss_soft_limit");
        if (next == null) {
            // No replacement could be reserved while the old worker ran: free its slot first.
            CompletionStage<Void> stopped = old == null ? CompletableFuture.completedFuture(null) : old.stop();
            stopped.whenComplete((ignored, error) -> executor.execute(() -> acquireAndResume("rss_soft_limit")));
            return;
        }
        retiring = old;
        whenReady(next, fresh -> {
            if (retiring != null) {
                retiring.stop();
                retiring = null;
            }
            resumeWith(fresh, "rss_soft_limit");
        });
    }

    /** Replaces a worker that is gone (crash, hard limit), if the restart budget allows. */
    private void restart(String reason) {
        if (replacement != null) {
            softRestartDue = false;
        }
        if (!restarts.tryTake()) {
            log.atWarn().addKeyValue("session", sessionId).addKeyValue("subject", subject)
                    .log("worker restarted {} times within {}: ending session", limits.maxRestarts(), limits.restartWindow());
            host.end(EndReason.RESTART_LIMIT);
            return;
        }
        host.restarting(reason);
        CompletionStage<Worker> prepared = replacement;
        replacement = null;
        if (prepared != null) {
            whenReady(prepared, fresh -> resumeWith(fresh, reason));
        } else {
            acquireAndResume(reason);
        }
    }

    private void acquireAndResume(String reason) {
        if (host.ended()) {
            return;
        }
        CompletionStage<Worker> next;
        try {
            next = context.workers().acquire();
        } catch (WorkerUnavailableException e) {
            log.atWarn().addKeyValue("session", sessionId).addKeyValue("subject", subject)
                    .log("no worker for restart: {}", e.getMessage());
            host.end(EndReason.WORKER_FAILED);
            return;
        }
        whenReady(next, fresh -> resumeWith(fresh, reason));
    }

    private void resumeWith(Worker fresh, String reason) {
        bind(fresh);
        host.notice("worker_restarted", "a new worker took over", JSON.objectNode().put("reason", reason));
        log.atInfo().addKeyValue("session", sessionId).addKeyValue("subject", subject)
                .log("worker restarted ({}): now {}", reason, fresh.describe());
        host.resumed();
    }
}
