package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.agents.StandInServer.Answer;
import dev.tether.gateway.agents.StandInServer.SseEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for Anthropic's Messages API that Claude Code talks to offline
 * ({@code ANTHROPIC_BASE_URL=}{@link #baseUrl()}): an HTTP server on {@code 127.0.0.1:0} serving
 * {@code POST /v1/messages} (with any query string, Claude Code adds {@code ?beta=true}) from a
 * queue of scripted {@link Reply replies}, one per request, as server-sent events
 * ({@code message_start}, {@code content_block_start}, {@code content_block_delta} with
 * {@code text_delta} or {@code input_json_delta}, {@code content_block_stop}, {@code message_delta}
 * with the {@code stop_reason}, {@code message_stop}), or as one JSON message when the request
 * asks for no stream (Claude Code's fallback after a broken stream). A tool call is a
 * {@code tool_use} block; an error has Anthropic's body
 * {@code {"type":"error","error":{"type":..,"message":..}}}; a {@link Reply.Cut cut} reply drops a
 * non-streaming request without an answer. {@code count_tokens} is answered with a small count and
 * does not take a reply; any other path gets Anthropic's 404 error body. The queue, the recording
 * and the threads are {@link ModelApiStandIn}'s.
 */
public final class AnthropicStandIn extends ModelApiStandIn {

    private static final ObjectMapper JSON = new ObjectMapper();

    private AnthropicStandIn() {
        super("anthropic-stand-in", "/v1/messages");
    }

    /** Starts a stand-in on a free loopback port. Close it when done. */
    public static AnthropicStandIn start() {
        return new AnthropicStandIn();
    }

    /** The value for {@code ANTHROPIC_BASE_URL}: {@code http://127.0.0.1:<port>}, no trailing slash. */
    public String baseUrl() {
        return origin();
    }

    /** A {@code Bash} tool use running {@code command}. */
    public static Reply bash(String command) {
        return toolCall("Bash", Map.of("command", command, "description", "stand-in command"));
    }

    /** Anthropic's {@code 529 overloaded_error}. */
    public static Reply overloaded() {
        return error(529, "overloaded_error", "Overloaded");
    }

    @Override
    Answer routeOther(RecordedRequest request) {
        if (request.method().equals("POST") && request.path().equals("/v1/messages/count_tokens")) {
            return new Answer.Json(200, "{\"input_tokens\":1}");
        }
        return new Answer.Json(
                404, errorBody("not_found_error", "stand-in: no route " + request.method() + " " + request.path()));
    }

    @Override
    String errorBody(String type, String message) {
        ObjectNode body = JSON.createObjectNode().put("type", "error");
        body.putObject("error").put("type", type).put("message", message);
        return body.toString();
    }

    @Override
    Answer answer(RecordedRequest request, Reply reply, int number, ServedReply served) {
        JsonNode body = request.json();
        String model = body.path("model").asText("claude-stand-in");
        String id = "msg_standin_" + number;
        if (!body.path("stream").asBoolean(false)) {
            if (reply instanceof Reply.Cut) {
                return new Answer.Drop(served);
            }
            return new Answer.Json(200, message(id, model, reply).toString(), served);
        }
        return new Answer.Stream(events(id, model, reply), reply.gap(), reply instanceof Reply.Cut, served);
    }

    /** The non-streaming answer: the whole message at once. */
    private static ObjectNode message(String id, String model, Reply reply) {
        ObjectNode message = messageHead(id, model);
        ArrayNode content = message.putArray("content");
        if (reply instanceof Reply.ToolCall tool) {
            content.addObject()
                    .put("type", "tool_use")
                    .put("id", toolUseId(id))
                    .put("name", tool.name())
                    .set("input", tool.input());
            message.put("stop_reason", "tool_use");
        } else {
            content.addObject().put("type", "text").put("text", String.join("", parts(reply)));
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
        if (reply instanceof Reply.ToolCall tool) {
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
            events.add(blockStart(JSON.createObjectNode().put("type", "text").put("text", "")));
            for (String part : parts(reply)) {
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
