package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for {@code codex app-server}, for what the real one cannot be made to do on demand
 * (garbage lines, an exit in the middle of a line) and for fast adapter tests. Its lines follow the
 * app-server protocol as openai/codex documents it ({@code codex-rs/app-server/README.md}: JSON-RPC
 * without the {@code jsonrpc} member; {@code initialize}/{@code initialized}, {@code thread/start},
 * {@code thread/resume}, {@code turn/start}, {@code turn/interrupt}; notifications
 * {@code thread/started}, {@code turn/started}, {@code item/started}, {@code item/completed},
 * {@code item/agentMessage/delta}, {@code error}, {@code turn/completed}; the server requests
 * {@code item/commandExecution/requestApproval} answered {@code {"decision":"accept"|"decline"}}).
 *
 * <p>The user's text is a script: {@code cmd:<command>} asks approval to run it (a {@code touch
 * NAME} creates NAME in the thread's {@code cwd} when accepted); {@code slow} streams deltas until
 * interrupted; {@code fail} fails the turn as a model error does; {@code ask-user} sends a server
 * request the adapter does not support; {@code garbage} and {@code exit-mid-line} misbehave;
 * anything else is echoed with the thread's turn count, kept under {@code $FAKE_CODEX_HOME} so that
 * {@code thread/resume} continues it.
 */
public final class FakeCodexAppServer {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final FakeCliIo io = new FakeCliIo("fake codex");
    private final Path home =
            Path.of(System.getenv().getOrDefault("FAKE_CODEX_HOME", System.getProperty("java.io.tmpdir")));
    private String threadId;
    private Path cwd;
    private long turns;
    private long serverIds = 100;

    public static void main(String[] args) throws Exception {
        new FakeCodexAppServer().run();
    }

    private void run() throws Exception {
        while (true) {
            JsonNode line = next();
            if (line == null) {
                return;
            }
            String method = line.path("method").asText();
            JsonNode params = line.path("params");
            switch (method) {
                case "initialize" ->
                    answer(
                            line,
                            JSON.createObjectNode()
                                    .put("userAgent", "fake-codex/0")
                                    .put("codexHome", home.toString()));
                case "thread/start" -> {
                    threadId = "thr_" + UUID.randomUUID().toString().substring(0, 8);
                    cwd = Path.of(params.path("cwd").asText("."));
                    answer(line, thread());
                    notify("thread/started", thread());
                }
                case "thread/resume" -> {
                    Path saved = home.resolve(params.path("threadId").asText("none"));
                    if (!Files.exists(saved)) {
                        ObjectNode error = JSON.createObjectNode();
                        error.set("id", line.get("id"));
                        error.putObject("error").put("code", -32600).put("message", "no rollout found for thread id");
                        io.print(error);
                        continue;
                    }
                    threadId = params.path("threadId").asText();
                    cwd = Path.of(params.path("cwd").asText("."));
                    turns = Long.parseLong(Files.readString(saved).strip());
                    answer(line, thread());
                }
                case "turn/start" ->
                    turn(line, params.path("input").path(0).path("text").asText());
                default -> {}
            }
        }
    }

    private JsonNode next() throws InterruptedException {
        Object item = io.in.take();
        return item == FakeCliIo.EOF ? null : (JsonNode) item;
    }

    private void turn(JsonNode request, String text) throws Exception {
        String turnId = "turn_" + (turns + 1);
        ObjectNode turn = JSON.createObjectNode();
        turn.putObject("turn").put("id", turnId).put("status", "inProgress").putArray("items");
        answer(request, turn);
        notify("turn/started", turn);
        String status = "completed";
        if (text.startsWith("cmd:")) {
            status = command(turnId, text.substring("cmd:".length()));
        } else if (text.equals("slow")) {
            status = slow(turnId);
        } else if (text.equals("fail")) {
            ObjectNode error = JSON.createObjectNode();
            error.putObject("error")
                    .put("message", "unexpected status 500 Internal Server Error")
                    .putObject("codexErrorInfo")
                    .putObject("httpConnectionFailed")
                    .put("httpStatusCode", 500);
            notify("error", error);
            status = "failed";
        } else if (text.equals("ask-user")) {
            ObjectNode ask = JSON.createObjectNode().put("id", ++serverIds).put("method", "item/tool/requestUserInput");
            ask.putObject("params").put("threadId", threadId).put("turnId", turnId);
            io.print(ask);
            JsonNode reply = next();
            agentMessage(
                    turnId,
                    "the client said: "
                            + (reply.has("error")
                                    ? "error "
                                            + reply.path("error").path("code").asInt()
                                    : reply.path("result").toString()));
        } else if (text.equals("garbage")) {
            io.out.println("not json at all");
            io.out.flush();
        } else if (text.equals("exit-mid-line")) {
            io.out.print("{\"method\":\"item/sta");
            io.out.flush();
            System.exit(3);
        } else {
            agentMessage(turnId, "turn " + (turns + 1) + ": " + text);
        }
        turns++;
        Files.writeString(home.resolve(threadId), Long.toString(turns));
        ObjectNode completed = JSON.createObjectNode();
        completed.putObject("turn").put("id", turnId).put("status", status).putArray("items");
        notify("turn/completed", completed);
    }

    private String command(String turnId, String command) throws Exception {
        String itemId = "call_" + UUID.randomUUID().toString().substring(0, 8);
        ObjectNode item = JSON.createObjectNode();
        item.putObject("item")
                .put("type", "commandExecution")
                .put("id", itemId)
                .put("command", command)
                .put("cwd", cwd.toString())
                .put("status", "inProgress");
        notify("item/started", item);
        long approvalId = ++serverIds;
        ObjectNode ask =
                JSON.createObjectNode().put("id", approvalId).put("method", "item/commandExecution/requestApproval");
        ask.putObject("params")
                .put("threadId", threadId)
                .put("turnId", turnId)
                .put("itemId", itemId)
                .put("command", command)
                .put("cwd", cwd.toString());
        io.print(ask);
        while (true) {
            JsonNode reply = next();
            if (reply == null) {
                System.exit(0);
            }
            if ("turn/interrupt".equals(reply.path("method").asText())) {
                answer(reply, JSON.createObjectNode());
                return "interrupted";
            }
            if (reply.path("id").asLong(-1) != approvalId || reply.has("method")) {
                continue;
            }
            boolean accept =
                    "accept".equals(reply.path("result").path("decision").asText());
            if (accept && command.startsWith("touch ")) {
                Files.writeString(cwd.resolve(command.substring("touch ".length())), "made by codex\n");
            }
            ObjectNode done = JSON.createObjectNode();
            done.putObject("item")
                    .put("type", "commandExecution")
                    .put("id", itemId)
                    .put("command", command)
                    .put("status", accept ? "completed" : "declined");
            notify("item/completed", done);
            agentMessage(turnId, accept ? "ran " + command : "not allowed to run " + command);
            return "completed";
        }
    }

    private String slow(String turnId) throws Exception {
        for (int i = 0; ; i++) {
            ObjectNode delta = JSON.createObjectNode()
                    .put("threadId", threadId)
                    .put("turnId", turnId)
                    .put("itemId", "msg")
                    .put("delta", "tick " + i + " ");
            notify("item/agentMessage/delta", delta);
            Object item = io.in.poll(100, TimeUnit.MILLISECONDS);
            if (item == FakeCliIo.EOF) {
                System.exit(0);
            }
            if (item instanceof JsonNode line
                    && "turn/interrupt".equals(line.path("method").asText())) {
                if (!turnId.equals(line.path("params").path("turnId").asText())) {
                    throw new IllegalStateException("interrupt for another turn: " + line);
                }
                answer(line, JSON.createObjectNode());
                return "interrupted";
            }
        }
    }

    private void agentMessage(String turnId, String text) {
        ObjectNode item = JSON.createObjectNode().put("threadId", threadId).put("turnId", turnId);
        item.putObject("item")
                .put("type", "agentMessage")
                .put("id", "msg_" + turnId)
                .put("text", text);
        notify("item/completed", item);
    }

    private ObjectNode thread() {
        ObjectNode result = JSON.createObjectNode();
        result.putObject("thread").put("id", threadId).put("preview", "").put("modelProvider", "openai");
        return result;
    }

    private void answer(JsonNode request, ObjectNode result) {
        ObjectNode answer = JSON.createObjectNode();
        answer.set("id", request.get("id"));
        answer.set("result", result);
        io.print(answer);
    }

    private void notify(String method, ObjectNode params) {
        ObjectNode line = JSON.createObjectNode().put("method", method);
        line.set("params", params);
        io.print(line);
    }
}
