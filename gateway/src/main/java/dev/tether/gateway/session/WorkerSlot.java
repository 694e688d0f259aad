package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.config.LimitsConfig;
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

/**
 * The worker side of one {@link Session}: the worker serving it now, the ones it waits for, the
 * replacement reserved after the RSS soft limit, the one being retired, the restart budget, the
 * latest RSS sample and the newest worker checkpoint (which every replacement is bound with). It does what the session tells it (bind, wait for a worker, replace, stop)
 * and reports back through return values and {@link WorkerEvent}s; it decides nothing about the
 * session's state. Events of workers the session no longer has are dropped here.
 *
 * <p><b>Threading:</b> not thread-safe; owned by a session and used only on its event loop. Worker
 * callbacks and readiness hop onto that loop. Only {@link #current()} may be read from any thread
 * (a volatile snapshot for the RSS monitor).
 */
final class WorkerSlot {

    /** What an RSS sample of the current worker means. */
    enum RssVerdict {
        /** Below the limits, or a sample of a worker the session no longer has. */
        WITHIN,
        /** First time over {@code limits.rss_soft_limit}: a replacement was asked for. */
        OVER_SOFT,
        /** Over {@code limits.rss_hard_limit}. */
        OVER_HARD
    }

    private final String sessionId;
    private final String subject;
    private final EventExecutor executor;
    private final SessionContext context;
    private final LimitsConfig limits;
    private final Consumer<WorkerEvent> events;
    private final RestartBudget restarts;

    private volatile Worker worker;
    /** Reserved after the RSS soft limit, to take over when the running turn ends. */
    private CompletionStage<Worker> replacement;

    private boolean softRestartDue;
    /** A worker replaced after the RSS soft limit, kept running until its successor is ready. */
    private Worker retiring;
    /** Workers being waited for: stopped, and waited for, if the session ends first. */
    private final Set<CompletionStage<Worker>> awaiting = new LinkedHashSet<>();
    /** The newest checkpoint of the session's workers (contract 7.2), handed to each new one; null until one came. */
    private JsonNode checkpoint;
    /**
     * The checkpoint is the one a fork inherited from its parent (contract 1.2, 8.2), not one of this
     * session's workers: every worker bound with it gets {@code fork} too, until a worker of this
     * session checkpoints, so no worker of the fork ever continues the parent's own conversation.
     */
    private boolean inherited;
    /** The owner's forwarded token claims, for the session line; null when none are forwarded. */
    private ObjectNode claims;
    /** Workers let go while the session sleeps (contract 1.2, 8.9): completes once all of them are gone. */
    private CompletableFuture<Void> asleep = CompletableFuture.completedFuture(null);

    private long lastRssBytes;
    private Worker lastRssOf;
    private boolean closed;

    /** @param events where worker output, exits and readiness are reported, on the loop */
    WorkerSlot(
            String sessionId,
            String subject,
            EventExecutor executor,
            SessionContext context,
            Consumer<WorkerEvent> events) {
        this.sessionId = requireNonNull(sessionId, "sessionId");
        this.subject = requireNonNull(subject, "subject");
        this.executor = requireNonNull(executor, "executor");
        this.context = requireNonNull(context, "context");
        this.limits = context.limits();
        this.events = requireNonNull(events, "events");
        this.restarts = new RestartBudget(executor, limits.maxRestarts(), limits.restartWindow());
    }

    /** The worker serving the session now, or null (none yet, or being replaced). Any thread. */
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

    /** A fork's start: {@code parent}'s checkpoint, which workers continue from as a fork. */
    void inherit(JsonNode parent) {
        checkpoint = requireNonNull(parent, "parent");
        inherited = true;
    }

    /** The newest checkpoint (contract 7.2), or null. */
    JsonNode checkpoint() {
        return checkpoint;
    }

    /**
     * Whether {@code candidate} can continue from the newest checkpoint (as a fork, when it is
     * inherited): a warm worker cannot when it resumes only if started for it. {@link #await} replaces
     * one that cannot; a session that found its first worker ready asks first.
     */
    boolean canServe(Worker candidate) {
        return candidate.canContinue(checkpoint, inherited);
    }

    /** Starts from a checkpoint saved by a worker on another node (the session moved); null for none. */
    void restoreCheckpoint(JsonNode stored) {
        checkpoint = stored;
    }

    /**
     * The owner's forwarded claims (contract 1.2, 8.5; null when none are forwarded): every worker
     * bound from now on gets them in its session line, and the current one, if any, a claims line.
     */
    void claims(ObjectNode forwarded) {
        assert executor.inEventLoop();
        claims = forwarded;
        if (forwarded != null && worker != null) {
            worker.claims(forwarded);
        }
    }

    /**
     * Makes {@code ready} the current worker; its output is reported from now on. It gets the
     * newest checkpoint, if a worker of this session saved one, to continue from.
     */
    void bind(Worker ready) {
        assert executor.inEventLoop();
        worker = ready;
        ready.bind(sessionId, subject, checkpoint, inherited, claims, executor, new WorkerListener() {
            @Override
            public void onEvent(ObjectNode event) {
                report(ready, new WorkerEvent.Output(event));
            }

            @Override
            public void onCheckpoint(JsonNode state) {
                assert executor.inEventLoop();
                if (ready == worker && !closed) {
                    checkpoint = state;
                    inherited = false;
                    events.accept(new WorkerEvent.Checkpointed(context.codec().encodeJson(state)));
                }
            }

            @Override
            public void onProtocolProblem(String code, String message) {
                report(ready, new WorkerEvent.ProtocolProblem(code, message));
            }

            @Override
            public void onRequest(String requestId, JsonNode request) {
                report(ready, new WorkerEvent.Requested(requestId, request));
            }

            @Override
            public void onTurnEnd() {
                report(ready, new WorkerEvent.TurnEnded());
            }

            @Override
            public void onExit(WorkerExit exit) {
                report(ready, new WorkerEvent.Exited(exit));
            }
        });
    }

    /**
     * Waits for {@code stage}'s worker; once it is ready it becomes the current one (a retiring
     * worker is stopped then) and {@link WorkerEvent.Ready} is reported, or
     * {@link WorkerEvent.Unavailable} if it never gets ready. A worker that gets ready after the
     * session ended is stopped.
     */
    void await(CompletionStage<Worker> stage) {
        awaiting.add(stage);
        stage.thenCompose(w -> w.ready().thenApply(ignored -> w))
                .whenComplete((ready, failure) -> executor.execute(() -> {
                    awaiting.remove(stage);
                    if (closed) {
                        if (ready != null) {
                            ready.stop();
                        }
                        return;
                    }
                    if (failure != null) {
                        events.accept(new WorkerEvent.Unavailable(failure.toString()));
                        return;
                    }
                    if (!ready.canContinue(checkpoint, inherited)) {
                        // Taken before the session knew its checkpoint (a take-over from another node): a
                        // worker that resumes only when started for it is replaced by one that is.
                        ready.stop();
                        if (!acquire()) {
                            events.accept(new WorkerEvent.Unavailable("no worker to resume the session"));
                        }
                        return;
                    }
                    if (retiring != null) {
                        retiring.stop();
                        retiring = null;
                    }
                    bind(ready);
                    events.accept(new WorkerEvent.Ready(ready));
                }));
    }

    /**
     * Takes one restart from the budget ({@code limits.max_restarts} within
     * {@code limits.restart_window}); false when the session has restarted too often.
     */
    boolean tryRestart() {
        return restarts.tryTake();
    }

    /**
     * Lets the current worker go (it crashed, or is being killed) and waits for a new one: the
     * replacement reserved after the soft limit if there is one, else a fresh one from the source.
     *
     * @return false when no worker can be had at all (then nothing is waited for)
     */
    boolean replaceLost() {
        worker = null;
        softRestartDue = false;
        CompletionStage<Worker> next = replacement;
        replacement = null;
        if (next != null) {
            await(next);
            return true;
        }
        return acquire();
    }

    /**
     * Replaces the current worker after the RSS soft limit, between turns: with a reserved
     * replacement, the old worker keeps running until the new one is ready; without one, the old
     * one is stopped first, to free its place, and a new one asked for once it is gone.
     */
    void retire() {
        softRestartDue = false;
        Worker old = worker;
        worker = null;
        CompletionStage<Worker> next = replacement;
        replacement = null;
        if (next != null) {
            retiring = old;
            await(next);
            return;
        }
        CompletionStage<Void> stopped = old == null ? CompletableFuture.completedFuture(null) : old.stop();
        stopped.whenComplete((ignored, error) -> executor.execute(() -> {
            if (!closed && !acquire()) {
                events.accept(new WorkerEvent.Unavailable("no worker for the replacement"));
            }
        }));
    }

    /**
     * The session falls asleep (contract 1.2, 8.9): the current worker is stopped through the
     * usual path (shutdown line, stop and kill graces), which frees its place in the pool once it
     * is gone. The checkpoint stays, for the worker that wakes the session.
     */
    void sleep() {
        assert executor.inEventLoop();
        Worker sleeper = worker;
        worker = null;
        lastRssOf = null;
        if (sleeper != null) {
            letGo(CompletableFuture.completedFuture(sleeper));
        }
    }

    /** Stops {@code stage}'s worker once it is there (one the session does not use); {@link #stopAll} waits for it. */
    void letGo(CompletionStage<Worker> stage) {
        asleep = asleep.thenCombine(
                stage.handle((w, error) -> w)
                        .thenCompose(w -> w == null ? CompletableFuture.<Void>completedFuture(null) : w.stop()),
                (a, b) -> null);
    }

    /**
     * The sleeping session wakes: a worker continuing from the checkpoint is asked for and waited
     * for ({@link WorkerEvent.Ready} or {@link WorkerEvent.Unavailable}, as for a restart).
     *
     * @return false when no worker can be had now (pool at {@code pool.max_workers}, breaker open)
     */
    boolean wake() {
        return acquire();
    }

    /** Kills the current worker at once (the RSS hard limit) and lets it go. */
    Worker killCurrent() {
        Worker killed = worker;
        worker = null;
        if (killed != null) {
            killed.kill();
        }
        return killed;
    }

    /**
     * A fresh RSS sample of {@code sampled}'s process tree, judged against the limits. The first
     * sample over the soft limit reserves a replacement (if one can be had) and marks a soft restart
     * as due; the session carries it out between turns.
     */
    RssVerdict sample(Worker sampled, long rssBytes) {
        if (sampled != worker || closed) {
            return RssVerdict.WITHIN;
        }
        lastRssOf = sampled;
        lastRssBytes = rssBytes;
        if (rssBytes > limits.rssHardLimit()) {
            return RssVerdict.OVER_HARD;
        }
        if (rssBytes > limits.rssSoftLimit() && !softRestartDue) {
            softRestartDue = true;
            try {
                // A worker started for the checkpoint runs where the current one does (an agent CLI's
                // conversation is kept by directory): it is started once the current one has gone.
                replacement = context.workers().startsFrom(checkpoint, inherited)
                        ? null
                        : context.workers().acquire(checkpoint, inherited);
            } catch (WorkerUnavailableException e) {
                replacement = null;
            }
            return RssVerdict.OVER_SOFT;
        }
        return RssVerdict.WITHIN;
    }

    /** Whether a soft restart is due (the RSS soft limit was passed and it has not happened yet). */
    boolean softRestartDue() {
        return softRestartDue;
    }

    /**
     * Lets go of every worker: the current one, a reserved replacement, any being waited for and a
     * retiring one are stopped, and nothing is reported any more. Called once, when the session ends.
     *
     * @return completes once all of them are gone
     */
    CompletableFuture<Void> stopAll() {
        assert executor.inEventLoop();
        closed = true;
        Worker last = worker;
        worker = null;
        CompletableFuture<Void> stopped = last == null
                ? CompletableFuture.completedFuture(null)
                : last.stop().toCompletableFuture();
        if (replacement != null) {
            stopped = stopped.thenCombine(replacement.thenCompose(Worker::stop), (a, b) -> null);
            replacement = null;
        }
        awaiting.forEach(this::letGo);
        awaiting.clear();
        if (retiring != null) {
            stopped = stopped.thenCombine(retiring.stop(), (a, b) -> null);
            retiring = null;
        }
        return stopped.thenCombine(asleep, (a, b) -> null);
    }

    /** Asks the worker source for a new worker and waits for it; false when none can be had. */
    private boolean acquire() {
        CompletionStage<Worker> next;
        try {
            next = context.workers().acquire(checkpoint, inherited);
        } catch (WorkerUnavailableException e) {
            return false;
        }
        await(next);
        return true;
    }

    private void report(Worker from, WorkerEvent event) {
        assert executor.inEventLoop();
        if (from == worker && !closed) {
            events.accept(event);
        }
    }
}
