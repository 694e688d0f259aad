package dev.tether.loadtest.engine;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.WireCodec;
import io.netty.channel.EventLoop;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One client of the {@code surge} scenario: a {@code wait=1} upgrade for a new session that may
 * wait in the gateway's admission line (contract 8.1). It records every {@code queued} position and
 * when its first one and its {@code session_ready} arrived. Once admitted, and once the scenario
 * lets admitted sessions work ({@code work} completes), it waits {@code hold}, sends one message,
 * and ends the session with {@code end} when the message's result arrives, so that the line moves.
 *
 * <p>Confined to its event loop: every field is touched only there; {@link #answered()} and
 * {@link #done()} are how the scenario hears from it.
 */
public final class SurgeUser implements Link.Listener {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final WireCodec CODEC = new WireCodec();

    /** How a client's connection ended. */
    public enum Outcome {
        /** admitted ({@code session_ready}), worked, ended with {@code end} and close 1000. */
        SERVED,
        /** error {@code admission_timeout} and close 1013. */
        TIMED_OUT,
        /** HTTP 503 at the upgrade: the line was full. */
        REFUSED,
        /** {@code shutting_down} and close 1001 while waiting. */
        DRAINED,
        /** anything else: another refusal status, an unexpected error or close. */
        FAILED,
        /** no outcome when the scenario stopped waiting. */
        UNANSWERED
    }

    /**
     * What happened to one client; times are System.nanoTime, -1 when it did not happen.
     *
     * @param readyNanos when {@code session_ready} arrived
     * @param outcomeNanos when its outcome was known: the close, the refusal, or the time-out error
     * @param problem what went wrong, for {@link Outcome#FAILED}; else null
     */
    public record Result(
            int index,
            long connectNanos,
            long firstQueuedNanos,
            List<Integer> positions,
            long readyNanos,
            long timeoutNanos,
            Outcome outcome,
            long outcomeNanos,
            int status,
            String problem) {

        /** Whether it waited in line (it got at least one {@code queued} frame). */
        public boolean waited() {
            return firstQueuedNanos >= 0;
        }
    }

    private final int index;
    private final EventLoop loop;
    private final Duration hold;
    private final CompletionStage<Void> work;
    private final CompletableFuture<Void> answered = new CompletableFuture<>();
    private final CompletableFuture<Result> done = new CompletableFuture<>();

    private final List<Integer> positions = new ArrayList<>();
    private Link link;
    private long connectNanos = -1;
    private long firstQueuedNanos = -1;
    private long readyNanos = -1;
    private long timeoutNanos = -1;
    private boolean sent;
    private boolean endSent;
    private boolean drained;
    private String problem;

    /**
     * @param hold how long an admitted session waits before it sends its message
     * @param work completes when admitted sessions may start working (the scenario holds the first
     *     ones while it measures the line)
     */
    public SurgeUser(int index, EventLoop loop, Duration hold, CompletionStage<Void> work) {
        this.index = index;
        this.loop = requireNonNull(loop, "loop");
        this.hold = requireNonNull(hold, "hold");
        this.work = requireNonNull(work, "work");
    }

    /** Opens its connection to {@code uri} (which carries {@code wait=1}) through {@code client}. Any thread. */
    public void open(EngineClient client, URI uri, String token, Duration timeout) {
        loop.execute(() -> {
            connectNanos = System.nanoTime();
            client.connect(loop, uri, token, timeout, this);
        });
    }

    /** Completes with the first answer: a {@code queued} frame, {@code session_ready}, a refusal or a close. */
    public CompletableFuture<Void> answered() {
        return answered;
    }

    /** Completes with the outcome. */
    public CompletableFuture<Result> done() {
        return done;
    }

    /** Gives up waiting: the outcome is {@link Outcome#UNANSWERED} unless it is known already; the connection is closed. Any thread. */
    public void abandon() {
        loop.execute(() -> {
            if (!done.isDone()) {
                finish(Outcome.UNANSWERED, System.nanoTime(), 0);
                if (link != null) {
                    link.abort();
                }
            }
        });
    }

    @Override
    public void opened(Link opened) {
        this.link = opened;
    }

    @Override
    public void refused(int status, Throwable cause) {
        if (status != 503) {
            problem = status == 0 ? "connect failed: " + cause : "refused " + status;
        }
        finish(status == 503 ? Outcome.REFUSED : Outcome.FAILED, System.nanoTime(), status);
    }

    @Override
    public void frame(String text, long nanos) {
        JsonNode frame;
        try {
            frame = JSON.readTree(text);
        } catch (Exception e) {
            problem = "not JSON: " + text;
            return;
        }
        switch (frame.path("type").asText()) {
            case "queued" -> {
                if (readyNanos >= 0) {
                    problem = "queued after session_ready";
                }
                positions.add(frame.path("position").asInt(-1));
                if (firstQueuedNanos < 0) {
                    firstQueuedNanos = nanos;
                }
                answered.complete(null);
            }
            case "session_ready" -> {
                readyNanos = nanos;
                answered.complete(null);
                work.whenComplete(
                        (ok, error) -> Unwatched.schedule(loop, this::send, hold.toNanos(), TimeUnit.NANOSECONDS));
            }
            case "event" -> {
                if (sent
                        && !endSent
                        && "result".equals(frame.path("event").path("type").asText())) {
                    endSent = true;
                    link.send(CODEC.encode(new ClientMessage.End()));
                }
            }
            case "error" -> {
                if ("admission_timeout".equals(frame.path("code").asText())) {
                    timeoutNanos = nanos;
                } else {
                    problem = "error " + frame.path("code").asText();
                }
            }
            case "shutting_down" -> drained = true;
            default -> {
                // status, accepted, deltas, pong: nothing to record
            }
        }
    }

    private void send() {
        if (link != null && !done.isDone() && !sent) {
            sent = true;
            link.send(CODEC.encode(new ClientMessage.Message("m1", TextNode.valueOf("surge " + index))));
        }
    }

    @Override
    public void closed(int code) {
        long now = System.nanoTime();
        if (problem == null && endSent && code == 1000) {
            finish(Outcome.SERVED, now, code);
        } else if (problem == null && timeoutNanos >= 0 && readyNanos < 0 && code == 1013) {
            finish(Outcome.TIMED_OUT, timeoutNanos, code);
        } else if (problem == null && drained && code == 1001) {
            finish(Outcome.DRAINED, now, code);
        } else {
            if (problem == null) {
                problem = "closed " + code + (readyNanos < 0 ? " before session_ready" : " before its end");
            }
            finish(Outcome.FAILED, now, code);
        }
    }

    private void finish(Outcome outcome, long nanos, int status) {
        answered.complete(null);
        done.complete(new Result(
                index,
                connectNanos,
                firstQueuedNanos,
                List.copyOf(positions),
                readyNanos,
                timeoutNanos,
                outcome,
                nanos,
                status,
                outcome == Outcome.FAILED ? problem : null));
    }
}
