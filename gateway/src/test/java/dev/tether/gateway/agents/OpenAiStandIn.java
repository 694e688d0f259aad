package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.agents.StandInServer.Answer;
import dev.tether.gateway.agents.StandInServer.SseEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for OpenAI's Responses API that Codex talks to offline: an HTTP server on
 * {@code 127.0.0.1:0} that turns down the WebSocket upgrade at {@code /v1/responses} at once
 * ({@code 426}, so Codex falls back to HTTP without its reconnect attempts), and serves
 * {@code POST /v1/responses} from a queue of scripted {@link Reply replies}, one per request, as
 * server-sent events: {@code response.created}, {@code response.output_item.added}, for text
 * {@code response.output_text.delta} per part, {@code response.output_item.done} (an assistant
 * {@code message} with {@code output_text}, or a {@code function_call} for a tool call),
 * {@code response.completed} with usage. An error has OpenAI's body
 * {@code {"error":{"message":..,"type":..,"param":null,"code":..}}}. {@code GET /v1/models} gets an
 * empty list; any other path a 404. The queue, the recording and the threads are
 * {@link ModelApiStandIn}'s.
 *
 * <p>Codex runs a command through its {@code exec_command} function tool (models without
 * {@code code_mode_only} in Codex's catalogue, such as {@code gpt-5.5}); with the thread's
 * {@code approvalPolicy: untrusted} a command that is not known to be safe, such as one that
 * writes a file, makes the app server send {@code item/commandExecution/requestApproval}.
 */
public final class OpenAiStandIn extends ModelApiStandIn {

    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiStandIn() {
        super("openai-stand-in", "/v1/responses");
    }

    /** Starts a stand-in on a free loopback port. Close it when done. */
    public static OpenAiStandIn start() {
        return new OpenAiStandIn();
    }

    /** The API base, {@code http://127.0.0.1:<port>/v1}: Codex's {@code openai_base_url} or a provider's {@code base_url}. */
    public String baseUrl() {
        return origin() + "/v1";
    }

    /** The WebSocket upgrades asked for (and refused) so far. */
    public List<RecordedRequest> refusedUpgrades() {
        return requests().stream().filter(OpenAiStandIn::isUpgrade).toList();
    }

    /** Codex's {@code exec_command} tool running {@code cmd} in the turn's working directory. */
    public static Reply execCommand(String cmd) {
        return toolCall("exec_command", Map.of("cmd", cmd, "yield_time_ms", 2000));
    }

    private static boolean isUpgrade(RecordedRequest request) {
        return "websocket".equalsIgnoreCase(request.headers().get("upgrade"));
    }

    @Override
    Answer routeOther(RecordedRequest request) {
        if (isUpgrade(request)) {
            return new Answer.RefuseUpgrade();
        }
        if (request.method().equals("GET") && request.path().equals("/v1/models")) {
            return new Answer.Json(200, "{\"object\":\"list\",\"data\":[]}");
        }
        return new Answer.Json(
                404,
                errorBody("invalid_request_error", "stand-in: no route " + request.method() + " " + request.path()));
    }

    @Override
    String errorBody(String type, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("error")
                .put("message", message)
                .put("type", type)
                .putNull("param")
                .putNull("code");
        return body.toString();
    }

    @Override
    Answer answer(RecordedRequest request, Reply reply, int number, ServedReply served) {
        return new Answer.Stream(events(number, reply), reply.gap(), reply instanceof Reply.Cut, served);
    }

    private static List<SseEvent> events(int n, Reply reply) {
        String responseId = "resp_standin_" + n;
        List<SseEvent> events = new ArrayList<>();
        ObjectNode created = JSON.createObjectNode().put("type", "response.created");
        created.putObject("response").put("id", responseId).put("status", "in_progress");
        events.add(event(created));
        if (reply instanceof Reply.ToolCall call) {
            ObjectNode item = JSON.createObjectNode()
                    .put("type", "function_call")
                    .put("id", "fc_standin_" + n)
                    .put("call_id", "call_standin_" + n)
                    .put("name", call.name())
                    .put("arguments", call.input().toString())
                    .put("status", "completed");
            events.add(itemEvent("response.output_item.added", item));
            events.add(itemEvent("response.output_item.done", item));
        } else {
            String itemId = "msg_standin_" + n;
            ObjectNode added = JSON.createObjectNode()
                    .put("type", "message")
                    .put("id", itemId)
                    .put("role", "assistant")
                    .put("status", "in_progress");
            added.putArray("content");
            events.add(itemEvent("response.output_item.added", added));
            List<String> parts = parts(reply);
            for (String part : parts) {
                events.add(event(JSON.createObjectNode()
                        .put("type", "response.output_text.delta")
                        .put("item_id", itemId)
                        .put("output_index", 0)
                        .put("content_index", 0)
                        .put("delta", part)));
            }
            if (reply instanceof Reply.Cut) {
                return events;
            }
            ObjectNode done = JSON.createObjectNode()
                    .put("type", "message")
                    .put("id", itemId)
                    .put("role", "assistant")
                    .put("status", "completed");
            done.putArray("content")
                    .addObject()
                    .put("type", "output_text")
                    .put("text", String.join("", parts))
                    .putArray("annotations");
            events.add(itemEvent("response.output_item.done", done));
        }
        ObjectNode completed = JSON.createObjectNode().put("type", "response.completed");
        ObjectNode response =
                completed.putObject("response").put("id", responseId).put("status", "completed");
        ObjectNode usage = response.putObject("usage")
                .put("input_tokens", 10)
                .put("output_tokens", 5)
                .put("total_tokens", 15);
        usage.putObject("input_tokens_details").put("cached_tokens", 0);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        events.add(event(completed));
        return events;
    }

    private static SseEvent itemEvent(String type, ObjectNode item) {
        ObjectNode event = JSON.createObjectNode().put("type", type).put("output_index", 0);
        event.set("item", item);
        return event(event);
    }

    private static SseEvent event(ObjectNode data) {
        return new SseEvent(data.get("type").asText(), data.toString());
    }
}
