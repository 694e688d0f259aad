package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.RequestOutcome;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Claude Code's CLI as a worker ({@code worker.process.protocol: claude-stream-json}), run as
 * {@code claude -p --input-format stream-json --output-format stream-json --verbose
 * --permission-prompt-tool stdio}. The formats are those of the CLI's stream-json mode as the Claude
 * Agent SDKs speak it (anthropics/claude-agent-sdk-python and -typescript; docs/workers.md):
 * <ul>
 * <li>On start the adapter sends the SDK's {@code initialize} control request; its
 *     {@code control_response} makes the worker ready.
 * <li>A client message becomes a {@code user} line; every output line is forwarded verbatim as an
 *     event; {@code result} ends the turn.
 * <li>A {@code control_request} {@code can_use_tool} becomes a request to the user (contract 7.3)
 *     of the shape of contract 8.10; the answer becomes its {@code control_response} ({@code
 *     behavior} allow with the tool's input, or deny with a message); a timeout or cancel is a deny.
 *     Other control requests of the CLI (hooks, MCP) are answered with an error, so it never waits.
 * <li>An interrupt is the CLI's {@code interrupt} control request.
 * <li>The CLI's {@code session_id} is the checkpoint ({@code {"claude_session_id":...}}), sent when
 *     it first appears and again at every {@code result}, so that an idle session can sleep
 *     (contract 8.9) and a fork starts from the end of the last turn; a worker
 *     that continues the session is started with {@code --resume=<id>} (a cold start: the CLI
 *     resumes only from its command line), in the working directory the conversation was held in
 *     (the checkpoint's {@code cwd}: the CLI keeps conversations by directory).
 * <li>A fork (contract 1.2, 8.2) is started with {@code --resume=<id> --fork-session} in a fresh
 *     directory: the CLI copies the conversation into a new session, whose new {@code session_id}
 *     becomes the fork's checkpoint; the forked session's own conversation is not touched.
 * </ul>
 */
final class ClaudeStreamJsonProtocol implements WorkerProtocol {

    static final String NAME = "claude-stream-json";
    /** The checkpoint field with the CLI's session id. */
    static final String SESSION_FIELD = "claude_session_id";
    /** The checkpoint field with the working directory the conversation is kept under. */
    static final String CWD_FIELD = "cwd";

    private static final Pattern WORK_DIR_NAME = Pattern.compile("w-[A-Za-z0-9_.-]{1,64}");
    private static final String INIT_ID = "tether-initialize";
    private static final Pattern SESSION_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Peer peer;
    /** The CLI session this process was started to resume ({@code --resume}), or null. */
    private final String startedFor;
    /** Whether it was started to fork that session ({@code --fork-session}) rather than resume it. */
    private final boolean startedToFork;
    /** The input of each tool approval waiting, by request id: an allow sends it back unchanged. */
    private final Map<String, JsonNode> approvals = new HashMap<>();

    private boolean ready;
    private Path workDir;
    private String checkpointed;
    private long interrupts;

    ClaudeStreamJsonProtocol(Peer peer, JsonNode resume) {
        this(peer, resume, false);
    }

    /** @param fork started to fork {@code resume}'s conversation ({@code --fork-session}) */
    ClaudeStreamJsonProtocol(Peer peer, JsonNode resume, boolean fork) {
        this.peer = requireNonNull(peer, "peer");
        this.startedFor = sessionOf(resume);
        this.startedToFork = fork && startedFor != null;
    }

    /** What the command gets to continue from {@code resume}: {@code --resume=<id>}, or nothing. */
    static List<String> startArguments(JsonNode resume) {
        return startArguments(resume, false);
    }

    /**
     * What the command gets to continue from {@code resume}: {@code --resume=<id>}, followed by
     * {@code --fork-session} for a fork; nothing without a checkpoint.
     */
    static List<String> startArguments(JsonNode resume, boolean fork) {
        String id = sessionOf(resume);
        if (id == null) {
            return List.of();
        }
        return fork ? List.of("--resume=" + id, "--fork-session") : List.of("--resume=" + id);
    }

    /**
     * The directory of {@code resume}'s conversation: the CLI keeps conversations by working
     * directory, so a worker that resumes one runs where it was held. Only a worker directory
     * directly under {@code workRoot} is taken; anything else, or none, starts in a fresh one.
     */
    static Path startDirectory(Path workRoot, JsonNode resume) {
        if (sessionOf(resume) == null) {
            return null;
        }
        String cwd = resume.path(CWD_FIELD).textValue();
        if (cwd == null) {
            return null;
        }
        Path dir = Path.of(cwd).normalize();
        Path root = workRoot.toAbsolutePath().normalize();
        return dir.isAbsolute()
                        && root.equals(dir.getParent())
                        && WORK_DIR_NAME.matcher(dir.getFileName().toString()).matches()
                ? dir
                : null;
    }

    /** The CLI session id in a checkpoint, if it has a well-formed one (it is put on a command line). */
    private static String sessionOf(JsonNode resume) {
        if (resume == null) {
            return null;
        }
        String id = resume.path(SESSION_FIELD).textValue();
        return id != null && SESSION_ID.matcher(id).matches() ? id : null;
    }

    @Override
    public boolean canContinue(JsonNode resume) {
        return canContinue(resume, false);
    }

    @Override
    public boolean canContinue(JsonNode resume, boolean fork) {
        String wanted = sessionOf(resume);
        return Objects.equals(startedFor, wanted) && startedToFork == (fork && wanted != null);
    }

    @Override
    public void started() {
        ObjectNode init = JSON.objectNode().put("type", "control_request").put("request_id", INIT_ID);
        init.putObject("request").put("subtype", "initialize");
        peer.write(init);
    }

    @Override
    public void output(ObjectNode line) {
        String type = line.path("type").textValue();
        if ("control_response".equals(type)) {
            JsonNode response = line.path("response");
            if (!ready && INIT_ID.equals(response.path("request_id").textValue())) {
                ready = true;
                peer.ready();
            }
            return; // answers to the adapter's own requests: not the client's business
        }
        if (!ready) {
            peer.event(line); // dropped (and logged) before ready
            return;
        }
        if ("control_request".equals(type)) {
            controlRequest(line);
            return;
        }
        String session = line.path("session_id").textValue();
        // Again at every result: the turn's state is what a new worker must continue (contract 8.9:
        // a session sleeps only with a checkpoint newer than its last turn's start).
        boolean turnEnded = "result".equals(type);
        if (session != null && SESSION_ID.matcher(session).matches() && (turnEnded || !session.equals(checkpointed))) {
            checkpointed = session;
            ObjectNode checkpoint = JSON.objectNode().put(SESSION_FIELD, session);
            if (workDir != null) {
                checkpoint.put(CWD_FIELD, workDir.toAbsolutePath().toString());
            }
            peer.checkpoint(checkpoint);
        }
        peer.event(line);
    }

    private void controlRequest(ObjectNode line) {
        String id = line.path("request_id").textValue();
        JsonNode request = line.path("request");
        if (id == null || id.isEmpty() || id.length() > ClientMessage.MAX_ID_LENGTH) {
            peer.problem(WorkerOutputHandler.PROTOCOL_ERROR, "a control_request without a usable request_id: ignored");
            return;
        }
        if (!"can_use_tool".equals(request.path("subtype").textValue())) {
            ObjectNode refusal = JSON.objectNode().put("type", "control_response");
            refusal.putObject("response")
                    .put("subtype", "error")
                    .put("request_id", id)
                    .put(
                            "error",
                            "not supported by this client: "
                                    + request.path("subtype").asText("?"));
            peer.write(refusal);
            return;
        }
        JsonNode input = request.path("input");
        approvals.put(id, input);
        ObjectNode approval = JSON.objectNode()
                .put("kind", "approval")
                .put("tool", request.path("tool_name").asText(""));
        approval.set("input", input.isMissingNode() ? JSON.objectNode() : input);
        approval.set("detail", line);
        peer.request(id, approval);
    }

    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume) {
        this.workDir = workDir;
    }

    @Override
    public void send(String id, JsonNode data) {
        String text = data.isTextual()
                ? data.textValue()
                : data.path("text").isTextual() ? data.path("text").textValue() : data.toString();
        ObjectNode user = JSON.objectNode().put("type", "user");
        user.putObject("message").put("role", "user").put("content", text);
        user.putNull("parent_tool_use_id");
        user.put("session_id", "default");
        peer.write(user);
    }

    @Override
    public void interrupt() {
        ObjectNode interrupt =
                JSON.objectNode().put("type", "control_request").put("request_id", "tether-interrupt-" + ++interrupts);
        interrupt.putObject("request").put("subtype", "interrupt");
        peer.write(interrupt);
    }

    @Override
    public String checkAnswer(String requestId, JsonNode data) {
        return Approvals.check(data);
    }

    @Override
    public void respond(String requestId, RequestOutcome outcome, JsonNode data) {
        JsonNode input = approvals.remove(requestId);
        boolean allow = outcome == RequestOutcome.ANSWERED && Approvals.allows(data);
        ObjectNode decision = JSON.objectNode().put("behavior", allow ? "allow" : "deny");
        if (allow) {
            decision.set("updatedInput", input == null || input.isMissingNode() ? JSON.objectNode() : input);
        } else {
            decision.put("message", Approvals.denial(outcome, data));
        }
        ObjectNode line = JSON.objectNode().put("type", "control_response");
        ObjectNode response =
                line.putObject("response").put("subtype", "success").put("request_id", requestId);
        response.set("response", decision);
        peer.write(line);
    }

    @Override
    public void shutdown() {}
}
