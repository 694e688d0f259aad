package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How to run the pinned Codex app server offline against an {@link OpenAiStandIn}, and the
 * JSON-RPC lines a client writes (docs/agent-clis-observed.md has what it answers). Stateless.
 */
public final class CodexCli {

    /**
     * The model the tests ask for: in Codex's catalogue and not {@code code_mode_only}, so its
     * tools include {@code exec_command} (the catalogue's default model runs commands through a
     * JavaScript {@code exec} tool instead).
     */
    public static final String MODEL = "gpt-5.5";

    private static final ObjectMapper JSON = new ObjectMapper();

    private CodexCli() {}

    /** {@code codex app-server}, then {@code config} (pairs of {@code -c key=value}). */
    public static List<String> appServer(List<String> config) {
        List<String> command = new ArrayList<>(List.of(AgentClis.codex().toString(), "app-server"));
        command.addAll(config);
        return command;
    }

    /**
     * The built-in {@code openai} provider pointed at the stand-in: {@code openai_base_url},
     * {@code model_provider="openai"}, {@link #MODEL}. It tries a WebSocket first (refused by the
     * stand-in) and retries a failing request several times with back-off (seconds).
     */
    public static List<String> openAiProvider(OpenAiStandIn standIn) {
        return List.of(
                "-c", "openai_base_url=\"" + standIn.baseUrl() + "\"",
                "-c", "model_provider=\"openai\"",
                "-c", "model=\"" + MODEL + "\"");
    }

    /**
     * A provider of its own ({@code model_providers.standin}) at the stand-in, with the given retry budgets
     * ({@code request_max_retries}, {@code stream_max_retries}; the built-in provider's cannot be
     * changed): no WebSocket attempt at all, and errors surface at once with 0 retries.
     */
    public static List<String> standInProvider(OpenAiStandIn standIn, int requestRetries, int streamRetries) {
        String provider = "{name=\"stand-in\",base_url=\"" + standIn.baseUrl() + "\",env_key=\"OPENAI_API_KEY\","
                + "wire_api=\"responses\",request_max_retries=" + requestRetries
                + ",stream_max_retries=" + streamRetries + "}";
        return List.of(
                "-c", "model_providers.standin=" + provider,
                "-c", "model_provider=\"standin\"",
                "-c", "model=\"" + MODEL + "\"");
    }

    /**
     * The whole environment of an offline run: {@code PATH}, {@code HOME}, {@code CODEX_HOME} (its
     * {@code .codex}, created here: Codex keeps its threads there) and any API key.
     */
    public static Map<String, String> environment(Path home) {
        try {
            Files.createDirectories(home.resolve(".codex"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> env = new HashMap<>();
        env.put("PATH", System.getenv("PATH"));
        env.put("HOME", home.toString());
        env.put("CODEX_HOME", home.resolve(".codex").toString());
        env.put("OPENAI_API_KEY", "sk-stand-in");
        return env;
    }

    /** A JSON-RPC request line (Codex omits {@code "jsonrpc":"2.0"} in what it writes and accepts it in what it reads). */
    public static ObjectNode request(long id, String method, JsonNode params) {
        ObjectNode line =
                JSON.createObjectNode().put("jsonrpc", "2.0").put("id", id).put("method", method);
        line.set("params", params);
        return line;
    }

    /** A JSON-RPC notification line without params ({@code initialized}). */
    public static ObjectNode notification(String method) {
        return JSON.createObjectNode().put("jsonrpc", "2.0").put("method", method);
    }

    /** The answer to a server request (an approval): {@code {"id":<its id>,"result":result}}. */
    public static ObjectNode response(JsonNode serverRequest, JsonNode result) {
        ObjectNode line = JSON.createObjectNode().put("jsonrpc", "2.0");
        line.set("id", serverRequest.get("id"));
        line.set("result", result);
        return line;
    }

    /** The result of {@code item/commandExecution/requestApproval}: {@code {"decision": decision}} (accept, decline, cancel). */
    public static ObjectNode decision(String decision) {
        return JSON.createObjectNode().put("decision", decision);
    }
}
