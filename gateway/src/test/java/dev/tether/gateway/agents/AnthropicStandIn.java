package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.agents.StandInServer.Answer;
import dev.tether.gateway.agents.StandInServer.SseEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for Anthropic's Messages API that Claude Code talks to offline
 * ({@code ANTHROPIC_BASE_URL=}{@link #baseUrl()}): an HTTP server on {@code 127.0.0.1:0} serving
 * {@code POST /v1/messages} (with any query string, Claude Code adds {@code ?beta=true}) from a
 * queue of scripted {@link Reply replies}, one per request, as server-sent events
 * ({@code message_start}, {@code content_block_start}, {@code content_block_delta} with
 * {@code text_delta} or {@code input_json_delta}, {@code content_block_stop}, {@code message_delta}
 * with the {@code stop_reason}, {@code message_stop}), or as one JSON message when the request
 * asks for no stream (Claude Code's fallback after a broken stream). {@code count_tokens} is
 * answered with a small count and does not take a reply; any other path gets Anthropic's 404 error
 * body. Every request is recorded ({@link #requests()}).
 *
 * <p>A request that finds the queue empty is answered with the text {@link #UNSCRIPTED} and counted
 * ({@link #unscripted()}), so a test that scripted too little fails on what it sees, not on a hang.
 *
 * <p>Threads: replies are queued from the test thread and served on the stand-in's event loop.
 */
public final class AnthropicStandIn implements AutoCloseable {

    /** The text of the reply to a request for which nothing was scripted. */
    public static final String UNSCRIPTED = "(stand-in: no reply scripted)";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Queue<Scripted> replies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger unscripted = new AtomicInteger();
    private final StandInServer server;

    private AnthropicStandIn() {
        this.server = StandInServer.start("anthropic-stand-in", this::route);
    }

    /** Starts a stand-in on a free loopback port. Close it when done. */
    public static AnthropicStandIn start() {
        return new AnthropicStandIn();
    }

    /** The value for {@code ANTHROPIC_BASE_URL}: {@code http://127.0.0.1:<port>}, no trailing slash. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Queues {@code reply} for the next {@code /v1/messages} request that finds no earlier one queued. */
    public ServedReply reply(Reply reply) {
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
    public int clear() {
        int dropped = 0;
        while (replies.poll() != null) {
            dropped++;
        }
        return dropped;
    }

    /** Every request so far, in arrival order, whatever its path. */
    public List<RecordedRequest> requests() {
        return server.requests();
    }

    /** The {@code POST /v1/messages} requests so far (not {@code count_tokens}), in arrival order. */
    public List<RecordedRequest> messageRequests() {
        return requests().stream()
                .filter(r -> r.method().equals("POST") && r.path().equals("/v1/messages"))
                .toList();
    }

    /** How many message requests found no scripted reply. */
    public int unscripted() {
        return unscripted.get();
    }

    @Override
    public void close() {
        server.close();
    }

    /** One scripted answer to a {@code /v1/messages} request. */
    public sealed interface Reply {
        /** Assistant text, streamed as one {@code text_delta} per part, {@code gap} between events. */
        record Text(List<String> parts, Duration gap) implements Reply {
            public Text {
                parts = List.copyOf(parts);
                requireNonNull(gap, "gap");
            }
        }

        /** One {@code tool_use} block ({@code stop_reason: tool_use}); its input sent as one {@code input_json_delta}. */
        record ToolUse(String name, JsonNode input) implements Reply {
            public ToolUse {
                requireNonNull(name, "name");
                requireNonNull(input, "input");
            }
        }

        /** An HTTP error with Anthropic's error body {@code {"type":"error","error":{"type":..,"message":..}}}. */
        record Failure(int status, String type, String message) implements Reply {}

        /**
         * A stream that starts (message_start, a text block, a delta per part) and then loses its
         * connection: no stop events, no end of the chunked body. A non-streaming request is
         * dropped without an answer.
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

    /** Assistant text whose events come {@code gap} apart: a turn still streaming when the test acts. */
    public static Reply slowText(Duration gap, String... parts) {
        return new Reply.Text(List.of(parts), gap);
    }

    /** A {@code tool_use} of {@code name} with {@code input} (any JSON-serialisable map). */
    public static Reply toolUse(String name, Map<String, ?> input) {
        return new Reply.ToolUse(name, JSON.valueToTree(input));
    }

    /** A {@code Bash} tool use running {@code command}. */
    public static Reply bash(String command) {
        return toolUse("Bash", Map.of("command", command, "description", "stand-in command"));
    }

    /** An HTTP error status with Anthropic's error body. */
    public static Reply error(int status, String type, String message) {
        return new Reply.Failure(status, type, message);
    }

    /** Anthropic's {@code 529 overloaded_error}. */
    public static Reply overloaded() {
        return error(529, "overloaded_error", "Overloaded");
    }

    /** A stream cut off after {@code partsBeforeCut}. */
    public static Reply cut(String... partsBeforeCut) {
        return new Reply.Cut(List.of(partsBeforeCut));
    }

    private record Scripted(Reply reply, ServedReply served) {}

    private Answer route(RecordedRequest request) {
        String path = request.path();
        if (request.method().equals("POST") && path.equals("/v1/messages/count_tokens")) {
            return new Answer.Json(200, "{\"input_tokens\":1}");
        }
        if (!request.method().equals("POST") || !path.equals("/v1/messages")) {
            return new Answer.Json(
                    404, errorBody("not_found_error", "stand-in: no route " + request.method() + " " + path));
        }
        JsonNode body = request.json();
        String model = body.path("model").asText("claude-stand-in");
        boolean stream = body.path("stream").asBoolean(false);
        Scripted next = replies.poll();
        if (next == null) {
            unscripted.incrementAndGet();
            next = new Scripted(text(UNSCRIPTED), new ServedReply());
        }
        String id = "msg_standin_" + served.incrementAndGet();
        Reply reply = next.reply();
        if (reply instanceof Reply.Failure error) {
            return new Answer.Json(error.status(), errorBody(error.type(), error.message()), next.served());
        }
        if (!stream) {
            if (reply instanceof Reply.Cut) {
                return new Answer.Drop(next.served());
            }
            return new Answer.Json(200, message(id, model, reply).toString(), next.served());
        }
        return new Answer.Stream(events(id, model, reply), gap(reply), reply instanceof Reply.Cut, next.served());
    }

    private static Duration gap(Reply reply) {
        return reply instanceof Reply.Text text ? text.gap() : Duration.ZERO;
    }

    private static String errorBody(String type, String message) {
        ObjectNode body = JSON.createObjectNode().put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        return body.toString();
    }

    /** The non-streaming answer: the whole message at once. */
    private static ObjectNode message(String id, String model, Reply reply) {
        ObjectNode message = messageHead(id, model);
        ArrayNode content = message.putArray("content");
        if (reply instanceof Reply.ToolUse tool) {
            content.addObject()
                    .put("type", "tool_use")
                    .put("id", toolUseId(id))
                    .put("name", tool.name())
                    .set("input", tool.input());
            message.put("stop_reason", "tool_use");
        } else {
            content.addObject().put("type", "text").put("text", String.join("", ((Reply.Text) reply).parts()));
            message.put("stop_reason", "end_turn");
        }
        message.putObject("usage").put("input_tokens", 10).put("output_tokens", 5);
        return message;
    }

    private static List<SseEvent> events(String id, String model, Reply reply) {
        List<SseEvent> events = new ArrayList<>();
        ObjectNode start = messageHead(id, model);
        start.putArray("content");
        start.putNull("stop_reason");
        start.putNull("stop_sequence");
        start.putObject("usage").put("input_tokens", 10).put("output_tokens", 1);
        events.add(event(
                "message_start",
                JSON.createObjectNode().put("type", "message_start").set("message", start)));
        String stopReason;
        if (reply instanceof Reply.ToolUse tool) {
            ObjectNode block = JSON.createObjectNode()
                    .put("type", "tool_use")
                    .put("id", toolUseId(id))
                    .put("name", tool.name());
            block.putObject("input");
            events.add(blockStart(block));
            events.add(delta(JSON.createObjectNode()
                    .put("type", "input_json_delta")
                    .put("partial_json", tool.input().toString())));
            stopReason = "tool_use";
        } else {
            List<String> parts = reply instanceof Reply.Cut cut ? cut.partsBeforeCut() : ((Reply.Text) reply).parts();
            events.add(blockStart(JSON.createObjectNode().put("type", "text").put("text", "")));
            for (String part : parts) {
                events.add(
                        delta(JSON.createObjectNode().put("type", "text_delta").put("text", part)));
            }
            if (reply instanceof Reply.Cut) {
                return events;
            }
            stopReason = "end_turn";
        }
        events.add(event(
                "content_block_stop",
                JSON.createObjectNode().put("type", "content_block_stop").put("index", 0)));
        ObjectNode messageDelta = JSON.createObjectNode().put("type", "message_delta");
        messageDelta.putObject("delta").put("stop_reason", stopReason).putNull("stop_sequence");
        messageDelta.putObject("usage").put("output_tokens", 5);
        events.add(event("message_delta", messageDelta));
        events.add(event("message_stop", JSON.createObjectNode().put("type", "message_stop")));
        return events;
    }

    private static ObjectNode messageHead(String id, String model) {
        return JSON.createObjectNode()
                .put("id", id)
                .put("type", "message")
                .put("role", "assistant")
                .put("model", model);
    }

    private static String toolUseId(String messageId) {
        return "toolu_" + messageId.substring("msg_".length());
    }

    private static SseEvent blockStart(ObjectNode block) {
        ObjectNode start =
                JSON.createObjectNode().put("type", "content_block_start").put("index", 0);
        start.set("content_block", block);
        return event("content_block_start", start);
    }

    private static SseEvent delta(ObjectNode delta) {
        ObjectNode event =
                JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
        event.set("delta", delta);
        return event("content_block_delta", event);
    }

    private static SseEvent event(String name, ObjectNode data) {
        return new SseEvent(name, data.toString());
    }
}
