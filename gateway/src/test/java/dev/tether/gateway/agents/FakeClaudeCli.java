package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for Claude Code's CLI in {@code -p --input-format stream-json --output-format
 * stream-json --verbose --permission-prompt-tool stdio} mode, for what the real CLI cannot be made
 * to do on demand (garbage lines, an exit in the middle of a line, a flood of approvals) and for
 * fast adapter tests. Its lines follow the formats of the Claude Agent SDKs
 * (anthropics/claude-agent-sdk-python, {@code _internal/query.py} and
 * {@code _internal/transport/subprocess_cli.py}; the TypeScript SDK's {@code sdk.d.ts}) and what the
 * real CLI printed in docs/agent-clis-observed.md: {@code control_request}/{@code control_response}
 * with {@code subtype} {@code initialize}, {@code interrupt} and {@code can_use_tool};
 * {@code system}/{@code init}, {@code assistant}, {@code user} (tool results) and {@code result}
 * messages carrying {@code session_id}.
 *
 * <p>The user's text is a script: {@code tool:<command>} asks to run Bash {@code <command>} (a
 * {@code touch NAME} creates NAME in the working directory when allowed); {@code tools:N} asks N
 * approvals at once; {@code slow} streams until interrupted; {@code garbage} prints lines that are
 * not JSON; {@code exit-mid-line} prints half a line and exits 3; anything else is echoed. Turns
 * per session are kept under {@code $FAKE_CLAUDE_HOME}, by working directory like the real CLI,
 * so a process started with {@code --resume=<id>} in the same directory continues the count, as
 * the real CLI continues the conversation (and one elsewhere finds nothing, and exits 1).
 */
public final class FakeClaudeCli {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final FakeCliIo io = new FakeCliIo("fake claude");
    private final Path home;
    private final String sessionId;
    private long turns;
    private boolean announced;

    private FakeClaudeCli(String resume) throws IOException {
        String dir = System.getenv("FAKE_CLAUDE_HOME");
        this.home = dir == null ? null : Path.of(dir);
        this.sessionId = resume != null ? resume : UUID.randomUUID().toString();
        if (resume != null) {
            Path saved = saved();
            if (saved == null || !Files.exists(saved)) {
                System.err.println("No conversation found with session ID: " + resume);
                System.exit(1);
            }
            turns = Long.parseLong(Files.readString(saved).strip());
        }
    }

    public static void main(String[] args) throws Exception {
        String resume = null;
        for (String arg : args) {
            if (arg.startsWith("--resume=")) {
                resume = arg.substring("--resume=".length());
            }
        }
        new FakeClaudeCli(resume).run();
    }

    private void run() throws Exception {
        while (true) {
            JsonNode line = next();
            if (line == null) {
                return;
            }
            if ("user".equals(line.path("type").asText())) {
                turn(line.path("message").path("content").asText());
            }
        }
    }

    /** The next line that is not a control request handled on the spot; null at end of input. */
    private JsonNode next() throws Exception {
        while (true) {
            Object item = io.in.take();
            if (item == FakeCliIo.EOF) {
                return null;
            }
            JsonNode line = (JsonNode) item;
            if ("control_request".equals(line.path("type").asText())
                    && "initialize".equals(line.path("request").path("subtype").asText())) {
                ObjectNode response = object("control_response");
                response.putObject("response")
                        .put("subtype", "success")
                        .put("request_id", line.path("request_id").asText())
                        .putObject("response")
                        .putArray("commands");
                io.print(response);
                continue;
            }
            return line;
        }
    }

    private void turn(String text) throws Exception {
        if (!announced) {
            announced = true;
            ObjectNode init = object("system")
                    .put("subtype", "init")
                    .put("session_id", sessionId)
                    .put("cwd", Path.of("").toAbsolutePath().toString())
                    .put("permissionMode", "default");
            init.putArray("tools").add("Bash");
            io.print(init);
        }
        if (text.startsWith("tool:")) {
            toolTurn(text.substring("tool:".length()), 1);
        } else if (text.startsWith("tools:")) {
            toolTurn("echo many", Integer.parseInt(text.substring("tools:".length())));
        } else if (text.equals("slow")) {
            slowTurn();
        } else if (text.equals("garbage")) {
            io.out.println("this is not json");
            io.out.println("[1,2,3]");
            io.out.flush();
            result("garbage printed", false);
        } else if (text.equals("exit-mid-line")) {
            io.out.print("{\"type\":\"assistant\",\"mess");
            io.out.flush();
            System.exit(3);
        } else {
            assistant("You said: " + text);
            result("You said: " + text, false);
        }
    }

    private void toolTurn(String command, int count) throws Exception {
        String[] ids = new String[count];
        for (int i = 0; i < count; i++) {
            ids[i] = "toolu_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            ObjectNode assistant = object("assistant").put("session_id", sessionId);
            ObjectNode message = assistant.putObject("message").put("role", "assistant");
            ObjectNode use = message.putArray("content")
                    .addObject()
                    .put("type", "tool_use")
                    .put("id", ids[i])
                    .put("name", "Bash");
            use.putObject("input").put("command", command);
            assistant.putNull("parent_tool_use_id");
            io.print(assistant);
        }
        for (int i = 0; i < count; i++) {
            ObjectNode ask = object("control_request").put("request_id", "req_" + i + "_" + ids[i]);
            ObjectNode request =
                    ask.putObject("request").put("subtype", "can_use_tool").put("tool_name", "Bash");
            request.putObject("input").put("command", command);
            request.put("tool_use_id", ids[i]);
            io.print(ask);
        }
        int allowed = 0;
        int answered = 0;
        ArrayNode denials = JSON.createArrayNode();
        while (answered < count) {
            JsonNode line = next();
            if (line == null) {
                return;
            }
            if ("control_request".equals(line.path("type").asText())
                    && "interrupt".equals(line.path("request").path("subtype").asText())) {
                interrupted(line);
                return;
            }
            if (!"control_response".equals(line.path("type").asText())) {
                continue;
            }
            JsonNode response = line.path("response");
            String requestId = response.path("request_id").asText();
            int index = Integer.parseInt(requestId.substring(4, requestId.indexOf('_', 4)));
            answered++;
            JsonNode decision = response.path("response");
            boolean allow = "allow".equals(decision.path("behavior").asText());
            String content;
            if (allow) {
                allowed++;
                String run = decision.path("updatedInput").path("command").asText();
                if (run.startsWith("touch ")) {
                    Files.writeString(Path.of(run.substring("touch ".length())).toAbsolutePath(), "made by the tool\n");
                }
                content = "ran: " + run;
            } else {
                content = decision.path("message").asText("denied");
                denials.addObject().put("tool_name", "Bash").put("tool_use_id", ids[index]);
            }
            ObjectNode user = object("user").put("session_id", sessionId);
            user.putObject("message")
                    .put("role", "user")
                    .putArray("content")
                    .addObject()
                    .put("type", "tool_result")
                    .put("tool_use_id", ids[index])
                    .put("content", content)
                    .put("is_error", !allow);
            io.print(user);
        }
        assistant(allowed + " of " + count + " allowed");
        ObjectNode result = resultLine(allowed + " of " + count + " allowed", false);
        result.set("permission_denials", denials);
        finish(result);
    }

    private void slowTurn() throws Exception {
        for (int i = 0; ; i++) {
            ObjectNode delta = object("stream_event").put("session_id", sessionId);
            delta.putObject("event")
                    .put("type", "content_block_delta")
                    .putObject("delta")
                    .put("type", "text_delta")
                    .put("text", "tick " + i + " ");
            io.print(delta);
            Object item = io.in.poll(100, TimeUnit.MILLISECONDS);
            if (item == FakeCliIo.EOF) {
                return;
            }
            if (item instanceof JsonNode line
                    && "control_request".equals(line.path("type").asText())
                    && "interrupt".equals(line.path("request").path("subtype").asText())) {
                interrupted(line);
                return;
            }
        }
    }

    private void interrupted(JsonNode request) throws IOException {
        ObjectNode response = object("control_response");
        response.putObject("response")
                .put("subtype", "success")
                .put("request_id", request.path("request_id").asText());
        io.print(response);
        ObjectNode result = resultLine("", true);
        result.put("subtype", "error_during_execution");
        finish(result);
    }

    private void assistant(String text) {
        ObjectNode assistant = object("assistant").put("session_id", sessionId);
        assistant
                .putObject("message")
                .put("role", "assistant")
                .putArray("content")
                .addObject()
                .put("type", "text")
                .put("text", text);
        assistant.putNull("parent_tool_use_id");
        io.print(assistant);
    }

    private void result(String text, boolean error) throws IOException {
        finish(resultLine(text, error));
    }

    private ObjectNode resultLine(String text, boolean error) {
        return object("result")
                .put("subtype", "success")
                .put("is_error", error)
                .put("result", text)
                .put("session_id", sessionId);
    }

    /** Counts the turn (kept for --resume), then prints the result with the count. */
    private void finish(ObjectNode result) throws IOException {
        turns++;
        Path saved = saved();
        if (saved != null) {
            Files.writeString(saved, Long.toString(turns));
        }
        io.print(result.put("num_turns", turns));
    }

    /** Where a conversation is kept: by working directory, as the real CLI keeps {@code ~/.claude/projects/<cwd>/<id>.jsonl}. */
    private Path saved() {
        if (home == null) {
            return null;
        }
        Path project = home.resolve(Path.of("").toAbsolutePath().toString().replace('/', '-'));
        try {
            Files.createDirectories(project);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return project.resolve(sessionId);
    }

    private ObjectNode object(String type) {
        return JSON.createObjectNode().put("type", type);
    }
}
