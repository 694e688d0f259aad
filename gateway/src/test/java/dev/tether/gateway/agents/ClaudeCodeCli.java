package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How to run the pinned Claude Code offline against an {@link AnthropicStandIn}, and the lines of
 * its stream-json protocol that a client writes (docs/agent-clis-observed.md has the lines it
 * reads). Stateless.
 */
public final class ClaudeCodeCli {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClaudeCodeCli() {}

    /**
     * {@code claude -p --input-format stream-json --output-format stream-json --verbose
     * --permission-prompt-tool stdio}, then {@code extraArgs} (such as {@code --resume=<session_id>}).
     */
    public static List<String> command(String... extraArgs) {
        List<String> command = new ArrayList<>(List.of(
                AgentClis.claude().toString(),
                "-p",
                "--input-format",
                "stream-json",
                "--output-format",
                "stream-json",
                "--verbose",
                "--permission-prompt-tool",
                "stdio"));
        command.addAll(List.of(extraArgs));
        return command;
    }

    /**
     * The whole environment of an offline run: {@code PATH} (the test's), {@code HOME} (Claude Code
     * keeps {@code ~/.claude}, with its sessions, there), the stand-in's URL, any API key, and no
     * non-essential traffic or auto-update.
     */
    public static Map<String, String> environment(AnthropicStandIn standIn, Path home) {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv("PATH"));
        env.put("HOME", home.toString());
        env.put("ANTHROPIC_BASE_URL", standIn.baseUrl());
        env.put("ANTHROPIC_API_KEY", "sk-ant-stand-in");
        env.put("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        env.put("DISABLE_AUTOUPDATER", "1");
        return env;
    }

    /** {@code {"type":"user","message":{"role":"user","content":text},"parent_tool_use_id":null,"session_id":"default"}}. */
    public static ObjectNode user(String text) {
        ObjectNode line = JSON.createObjectNode().put("type", "user");
        line.putObject("message").put("role", "user").put("content", text);
        line.putNull("parent_tool_use_id");
        line.put("session_id", "default");
        return line;
    }

    /** The answer to a {@code can_use_tool} control request that lets the tool run with its input unchanged. */
    public static ObjectNode allow(JsonNode canUseTool) {
        ObjectNode decision = JSON.createObjectNode().put("behavior", "allow");
        decision.set("updatedInput", canUseTool.path("request").path("input").deepCopy());
        return controlResponse(canUseTool.path("request_id").asText(), decision);
    }

    /** The answer to a {@code can_use_tool} control request that refuses the tool, telling the model {@code message}. */
    public static ObjectNode deny(JsonNode canUseTool, String message) {
        ObjectNode decision = JSON.createObjectNode().put("behavior", "deny").put("message", message);
        return controlResponse(canUseTool.path("request_id").asText(), decision);
    }

    /** {@code {"type":"control_request","request_id":requestId,"request":{"subtype":"interrupt"}}}. */
    public static ObjectNode interrupt(String requestId) {
        ObjectNode line = JSON.createObjectNode().put("type", "control_request").put("request_id", requestId);
        line.putObject("request").put("subtype", "interrupt");
        return line;
    }

    private static ObjectNode controlResponse(String requestId, ObjectNode response) {
        ObjectNode line = JSON.createObjectNode().put("type", "control_response");
        ObjectNode body = line.putObject("response").put("subtype", "success").put("request_id", requestId);
        body.set("response", response);
        return line;
    }
}
