package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Reads a worker's stdout on the event loop its stdio channel is registered with (the session's,
 * once bound): splits it into lines of at most {@code worker.process.max_line_bytes}
 * ({@link LineSplitter}), parses each as one JSON object with the wire codec's limits, and hands
 * objects and protocol problems to a {@link Sink}, at most {@code worker.process.max_pending_events}
 * in one turn of the loop; the rest waits for the next turn, with reading stopped meanwhile, so one
 * flooding worker cannot hold a loop that other sessions share. Blank lines are skipped.
 *
 * <p>Reading also stops while the output is {@linkplain #paused paused} (the client does not keep
 * up) or the sink cannot take it yet ({@link Sink#accepting()} false: the worker is moving to its
 * session's loop); then the worker blocks on its own full socket, never the gateway. Memory is one
 * read's lines plus one unfinished line. Once {@linkplain #discard() discarding}, lines are read and
 * dropped until end of stream, so a worker being stopped never blocks on its stdout.
 *
 * <p>One instance per worker; runs on its stdio channel's loop only.
 */
final class WorkerOutputHandler extends LineStreamHandler {

    static final String PROTOCOL_ERROR = "worker_protocol_error";
    static final String OUTPUT_TRUNCATED = "output_truncated";

    private static final int EXCERPT_CHARS = 120;

    /** Where the lines go, on the loop. */
    interface Sink {
        /** Whether lines may be delivered now, on this loop; when not, they wait and reading stops. */
        boolean accepting();

        void object(ObjectNode object);

        /** {@code code} is {@link #PROTOCOL_ERROR} or {@link #OUTPUT_TRUNCATED}. */
        void problem(String code, String message);
    }

    /** A parsed line waiting for its turn: an object, or a problem. */
    private record Item(ObjectNode object, String code, String message) {}

    private final int maxLineBytes;
    private final int perTurn;
    private final WireCodec codec;
    private final Sink sink;
    private final boolean rawLines;
    private final ArrayDeque<Item> waiting = new ArrayDeque<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private ChannelHandlerContext ctx;
    private boolean paused;
    private boolean discarding;
    private boolean drainScheduled;

    /**
     * @param rawLines every line is text, handed over as {@code {"type":"line","text":...}} (blank
     *     ones too), rather than a JSON object
     */
    WorkerOutputHandler(int maxLineBytes, int perTurn, WireCodec codec, Sink sink, boolean rawLines) {
        super(maxLineBytes);
        this.rawLines = rawLines;
        this.maxLineBytes = maxLineBytes;
        this.perTurn = perTurn;
        this.codec = requireNonNull(codec, "codec");
        this.sink = requireNonNull(sink, "sink");
    }

    /** Completes at end of stream, once every line was handed over or dropped. */
    CompletableFuture<Void> done() {
        return done;
    }

    /** Stops (or resumes) taking output: the worker blocks on its stdout meanwhile. On the loop. */
    void paused(boolean paused) {
        this.paused = paused;
        drain();
    }

    /** From now on lines are read and dropped, whatever else holds reading back. On the loop. */
    void discard() {
        discarding = true;
        waiting.clear();
        drain();
    }

    /** Lines may be deliverable again (the sink moved to this loop): deliver and read on. On the loop. */
    void resume() {
        drain();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    void afterRead() {
        drain();
    }

    /** The worker's output ended: what is left goes now, whatever held it back (the worker is gone). */
    @Override
    void ended() {
        if (!discarding) {
            while (!waiting.isEmpty() && sink.accepting()) {
                deliver(waiting.poll());
            }
        }
        waiting.clear();
        done.complete(null);
    }

    @Override
    public void line(byte[] bytes, int length, boolean truncated, long fullLength) {
        if (discarding) {
            return;
        }
        if (truncated) {
            waiting.add(new Item(
                    null,
                    OUTPUT_TRUNCATED,
                    "output line of " + fullLength + " bytes exceeds worker.process.max_line_bytes (" + maxLineBytes
                            + "); dropped"));
            return;
        }
        String text = LineSplitter.text(bytes, length);
        if (rawLines) {
            waiting.add(new Item(
                    codec.mapper().createObjectNode().put("type", "line").put("text", text), null, null));
            return;
        }
        if (text.isBlank()) {
            return;
        }
        try {
            waiting.add(new Item((ObjectNode) codec.parseObject(text), null, null));
        } catch (ProtocolException e) {
            waiting.add(new Item(
                    null,
                    PROTOCOL_ERROR,
                    "output line is not a JSON object (" + e.getMessage() + "): " + excerpt(text)));
        }
    }

    /** Delivers up to one turn's worth; reads on when nothing waits, else comes back next turn. */
    private void drain() {
        if (ctx == null || ctx.isRemoved()) {
            return;
        }
        boolean held = !discarding && (paused || !sink.accepting());
        int delivered = 0;
        while (!held && !waiting.isEmpty() && delivered < perTurn) {
            deliver(waiting.poll());
            delivered++;
        }
        boolean more = !waiting.isEmpty();
        ctx.channel().config().setAutoRead(!held && !more);
        if (more && !held && !drainScheduled) {
            drainScheduled = true;
            ctx.executor().execute(() -> {
                drainScheduled = false;
                drain();
            });
        }
    }

    private void deliver(Item item) {
        if (item.object() != null) {
            sink.object(item.object());
        } else {
            sink.problem(item.code(), item.message());
        }
    }

    static String excerpt(String text) {
        String oneLine = text.strip();
        return oneLine.length() <= EXCERPT_CHARS ? oneLine : oneLine.substring(0, EXCERPT_CHARS) + "...";
    }
}
