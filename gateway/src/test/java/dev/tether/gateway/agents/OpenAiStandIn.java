package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
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
 * A stand-in for OpenAI's Responses API that Codex talks to offline: an HTTP server on
 * {@code 127.0.0.1:0} that turns down the WebSocket upgrade at {@code /v1/responses} at once
 * ({@code 426}, so Codex falls back to HTTP without its reconnect attempts), and serves
 * {@code POST /v1/responses} from a queue of scripted {@link Reply replies}, one per request, as
 * server-sent events: {@code response.created}, {@code response.output_item.added}, for text
 * {@code response.output_text.delta} per part, {@code response.output_item.done} (an assistant
 * {@code message} with {@code output_text}, or a {@code function_call}), {@code response.completed}
 * with usage. {@code GET /v1/models} gets an empty list; any other path a 404. Every request is
 * recorded ({@link #requests()}).
 *
 * <p>Codex runs a command through its {@code exec_command} function tool (models without
 * {@code code_mode_only} in Codex's catalogue, such as {@code gpt-5.5}); with the thread's
 * {@code approvalPolicy: untrusted} a command that is not known to be safe, such as one that
 * writes a file, makes the app server send {@code item/commandExecution/requestApproval}.
 *
 * <p>A request that finds the queue empty is answered with the text {@link #UNSCRIPTED} and counted.
 * Threads: replies are queued from the test thread and served on the stand-in's event loop.
 */
public final class OpenAiStandIn implements AutoCloseable {

    /** The text of the reply to a request for which nothing was scripted. */
    public static final String UNSCRIPTED = "(stand-in: no reply scripted)";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Queue<Scripted> replies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger unscripted = new AtomicInteger();
    private final StandInServer server;

    private OpenAiStandIn() {
        this.server = StandInServer.start("openai-stand-in", this::route);
    }

    /** Starts a stand-in on a free loopback port. Close it when done. */
    public static OpenAiStandIn start() {
        return new OpenAiStandIn();
    }

    /** The API base, {@code http://127.0.0.1:<port>/v1}: Codex's {@code openai_base_url} or a provider's {@code base_url}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.port() + "/v1";
    }

    /** Queues {@code reply} for the next {@code POST /v1/responses} that finds no earlier one queued. */
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

    /** Every request so far, in arrival order, the refused upgrades included. */
    public List<RecordedRequest> requests() {
        return server.requests();
    }

    /** The {@code POST /v1/responses} requests so far, in arrival order. */
    public List<RecordedRequest> responseRequests() {
        return requests().stream()
                .filter(r -> r.method().equals("POST") && r.path().equals("/v1/responses"))
                .toList();
    }

    /** The WebSocket upgrades asked for (and refused) so far. */
    public List<RecordedRequest> refusedUpgrades() {
        return requests().stream().filter(OpenAiStandIn::isUpgrade).toList();
    }

    /** How many response requests found no scripted reply. */
    public int unscripted() {
        return unscripted.get();
    }

    @Override
    public void close() {
        server.close();
    }

    /** One scripted answer to a {@code POST /v1/responses}. */
    public sealed interface Reply {
        /** An assistant message, streamed as one {@code response.output_text.delta} per part, {@code gap} between events. */
        record Text(List<String> parts, Duration gap) implements Reply {
            public Text {
                parts = List.copyOf(parts);
                requireNonNull(gap, "gap");
            }
        }

        /** One {@code function_call} item: {@code name} with its JSON {@code arguments} string. */
        record FunctionCall(String name, String arguments) implements Reply {
            public FunctionCall {
                requireNonNull(name, "name");
                requireNonNull(arguments, "arguments");
            }
        }

        /** An HTTP error with OpenAI's error body {@code {"error":{"message":..,"type":..,"param":null,"code":..}}}. */
        record Failure(int status, String type, String message) implements Reply {}

        /** A stream that starts (created, a message item, a delta per part) and then loses its connection. */
        record Cut(List<String> partsBeforeCut) implements Reply {
            public Cut {
                partsBeforeCut = List.copyOf(partsBeforeCut);
            }
        }
    }

    /** An assistant message in one or more streamed parts, at once. */
    public static Reply text(String... parts) {
        return new Reply.Text(List.of(parts), Duration.ZERO);
    }

    /** An assistant message whose events come {@code gap} apart. */
    public static Reply slowText(Duration gap, String... parts) {
        return new Reply.Text(List.of(parts), gap);
    }

    /** A {@code function_call} of {@code name} with {@code arguments} (serialised to its JSON string). */
    public static Reply functionCall(String name, Map<String, ?> arguments) {
        return new Reply.FunctionCall(name, JSON.valueToTree(arguments).toString());
    }

    /** Codex's {@code exec_command} tool running {@code cmd} in the turn's working directory. */
    public static Reply execCommand(String cmd) {
        return functionCall("exec_command", Map.of("cmd", cmd, "yield_time_ms", 2000));
    }

    /** An HTTP error status with OpenAI's error body. */
    public static Reply error(int status, String type, String message) {
        return new Reply.Failure(status, type, message);
    }

    /** A stream cut off after {@code partsBeforeCut}. */
    public static Reply cut(String... partsBeforeCut) {
        return new Reply.Cut(List.of(partsBeforeCut));
    }

    private record Scripted(Reply reply, ServedReply served) {}

    private static boolean isUpgrade(RecordedRequest request) {
        return "websocket".equalsIgnoreCase(request.headers().get("upgrade"));
    }

    private Answer route(RecordedRequest request) {
        if (isUpgrade(request)) {
            return new Answer.RefuseUpgrade();
        }
        String path = request.path();
        if (request.method().equals("GET") && path.equals("/v1/models")) {
            return new Answer.Json(200, "{\"object\":\"list\",\"data\":[]}");
        }
        if (!request.method().equals("POST") || !path.equals("/v1/responses")) {
            return new Answer.Json(
                    404, errorBody("invalid_request_error", "stand-in: no route " + request.method() + " " + path));
        }
        Scripted next = replies.poll();
        if (next == null) {
            unscripted.incrementAndGet();
            next = new Scripted(text(UNSCRIPTED), new ServedReply());
        }
        int n = served.incrementAndGet();
        Reply reply = next.reply();
        if (reply instanceof Reply.Failure error) {
            return new Answer.Json(error.status(), errorBody(error.type(), error.message()), next.served());
        }
        Duration gap = reply instanceof Reply.Text text ? text.gap() : Duration.ZERO;
        return new Answer.Stream(events(n, reply), gap, reply instanceof Reply.Cut, next.served());
    }

    private static String errorBody(String type, String message) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("error")
                .put("message", message)
                .put("type", type)
                .putNull("param")
                .putNull("code");
        return body.toString();
    }

    private static List<SseEvent> events(int n, Reply reply) {
        String responseId = "resp_standin_" + n;
        List<SseEvent> events = new ArrayList<>();
        ObjectNode created = JSON.createObjectNode().put("type", "response.created");
        created.putObject("response").put("id", responseId).put("status", "in_progress");
        events.add(event(created));
        if (reply instanceof Reply.FunctionCall call) {
            ObjectNode item = JSON.createObjectNode()
                    .put("type", "function_call")
                    .put("id", "fc_standin_" + n)
                    .put("call_id", "call_standin_" + n)
                    .put("name", call.name())
                    .put("arguments", call.arguments())
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
            List<String> parts = reply instanceof Reply.Cut cut ? cut.partsBeforeCut() : ((Reply.Text) reply).parts();
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
