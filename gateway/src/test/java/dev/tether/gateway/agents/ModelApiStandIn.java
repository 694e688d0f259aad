package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.agents.StandInServer.Answer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the model-API stand-ins ({@link AnthropicStandIn}, {@link OpenAiStandIn}) share: a
 * {@link StandInServer} on {@code 127.0.0.1:0}, and a queue of scripted {@link Reply replies} that
 * answers the API's one model endpoint ({@code POST} to {@code modelPath}), one reply per request. A
 * subclass writes a reply in its API's wire form ({@link #answer}, {@link #errorBody}) and answers
 * every other request ({@link #routeOther}). Every request is recorded ({@link #requests()}).
 *
 * <p>A model request that finds the queue empty is answered with the text {@link #UNSCRIPTED} and
 * counted ({@link #unscripted()}), so a test that scripted too little fails on what it sees, not on
 * a hang.
 *
 * <p>Threads: replies are queued from the test thread and served on the stand-in's event loop.
 */
public abstract sealed class ModelApiStandIn implements AutoCloseable permits AnthropicStandIn, OpenAiStandIn {

    /** The text of the reply to a request for which nothing was scripted. */
    public static final String UNSCRIPTED = "(stand-in: no reply scripted)";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String modelPath;
    private final Queue<Scripted> replies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger unscripted = new AtomicInteger();
    private final StandInServer server;

    /** Starts the server, named {@code name}, whose scripted replies answer {@code POST modelPath}. */
    ModelApiStandIn(String name, String modelPath) {
        this.modelPath = requireNonNull(modelPath, "modelPath");
        this.server = StandInServer.start(name, this::route);
    }

    /** {@code http://127.0.0.1:<port>}, no trailing slash. */
    final String origin() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Queues {@code reply} for the next model request that finds no earlier one queued. */
    public final ServedReply reply(Reply reply) {
        requireNonNull(reply, "reply");
        Scripted scripted = new Scripted(reply, new ServedReply());
        replies.add(scripted);
        return scripted.served();
    }

    /**
     * Drops the replies queued and not yet served, and says how many there were: a test that shares
     * one stand-in with others calls it at its end, so that what it scripted and did not use (it
     * failed half-way) cannot answer the next test's requests.
     */
    public final int clear() {
        int dropped = 0;
        while (replies.poll() != null) {
            dropped++;
        }
        return dropped;
    }

    /** Every request so far, in arrival order, whatever its path. */
    public final List<RecordedRequest> requests() {
        return server.requests();
    }

    /** The model requests ({@code POST} to the model path) so far, in arrival order. */
    public final List<RecordedRequest> modelRequests() {
        return requests().stream().filter(this::isModelRequest).toList();
    }

    /** How many model requests found no scripted reply. */
    public final int unscripted() {
        return unscripted.get();
    }

    @Override
    public final void close() {
        server.close();
    }

    /** One scripted answer to a model request. */
    public sealed interface Reply {
        /** How long apart the events of a streamed reply come. */
        default Duration gap() {
            return Duration.ZERO;
        }

        /** Assistant text, streamed as one delta per part, {@code gap} between events. */
        record Text(List<String> parts, Duration gap) implements Reply {
            public Text {
                parts = List.copyOf(parts);
                requireNonNull(gap, "gap");
            }
        }

        /**
         * One call of the tool {@code name} with {@code input} (Anthropic's {@code tool_use} block,
         * OpenAI's {@code function_call} item, whose {@code arguments} are {@code input} as a string).
         */
        record ToolCall(String name, JsonNode input) implements Reply {
            public ToolCall {
                requireNonNull(name, "name");
                requireNonNull(input, "input");
            }
        }

        /** An HTTP error status with the API's error body, of error {@code type} with {@code message}. */
        record Failure(int status, String type, String message) implements Reply {}

        /**
         * A stream that starts (the reply's head, a text item or block, a delta per part) and then
         * loses its connection: no closing events, no end of the chunked body.
         */
        record Cut(List<String> partsBeforeCut) implements Reply {
            public Cut {
                partsBeforeCut = List.copyOf(partsBeforeCut);
            }
        }
    }

    /** Assistant text in one or more streamed parts, at once. */
    public static Reply text(String... parts) {
        return new Reply.Text(List.of(parts), Duration.ZERO);
    }

    /**
     * "one " to "ten ", 200 ms apart (two seconds in all): a turn that is surely still streaming when
     * the test interrupts it.
     */
    public static Reply slowCount() {
        return new Reply.Text(
                List.of("one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight ", "nine ", "ten "),
                Duration.ofMillis(200));
    }

    /** A call of the tool {@code name} with {@code input} (any JSON-serialisable map). */
    public static Reply toolCall(String name, Map<String, ?> input) {
        return new Reply.ToolCall(name, JSON.valueToTree(input));
    }

    /** An HTTP error status with the API's error body. */
    public static Reply error(int status, String type, String message) {
        return new Reply.Failure(status, type, message);
    }

    /** A stream cut off after {@code partsBeforeCut}. */
    public static Reply cut(String... partsBeforeCut) {
        return new Reply.Cut(List.of(partsBeforeCut));
    }

    /** The text parts a {@link Reply.Text} or a {@link Reply.Cut} streams. */
    static List<String> parts(Reply reply) {
        return reply instanceof Reply.Cut cut ? cut.partsBeforeCut() : ((Reply.Text) reply).parts();
    }

    /** The answer to a request that is not a model request (another endpoint, a WebSocket upgrade). */
    abstract Answer routeOther(RecordedRequest request);

    /** The API's error body for an error of {@code type} with {@code message}. */
    abstract String errorBody(String type, String message);

    /**
     * The answer to model request {@code request}, the {@code number}th (from 1), with {@code reply}
     * (never a {@link Reply.Failure}); {@code served} follows it.
     */
    abstract Answer answer(RecordedRequest request, Reply reply, int number, ServedReply served);

    private boolean isModelRequest(RecordedRequest request) {
        return request.method().equals("POST") && request.path().equals(modelPath);
    }

    private Answer route(RecordedRequest request) {
        if (!isModelRequest(request)) {
            return routeOther(request);
        }
        Scripted next = replies.poll();
        if (next == null) {
            unscripted.incrementAndGet();
            next = new Scripted(text(UNSCRIPTED), new ServedReply());
        }
        int number = served.incrementAndGet();
        if (next.reply() instanceof Reply.Failure failure) {
            return new Answer.Json(failure.status(), errorBody(failure.type(), failure.message()), next.served());
        }
        return answer(request, next.reply(), number, next.served());
    }

    private record Scripted(Reply reply, ServedReply served) {}
}
