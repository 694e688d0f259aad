package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Codex's app-server as a worker ({@code worker.process.protocol: codex-app-server}), run as
 * {@code codex app-server}: JSON-RPC 2.0 over stdio without the {@code jsonrpc} member, as
 * documented in openai/codex {@code codex-rs/app-server/README.md} (docs/workers.md):
 * <ul>
 * <li>On start the adapter sends {@code initialize}; its answer, followed by the adapter's
 *     {@code initialized} notification, makes the worker ready.
 * <li>Bound to a session it opens a thread: {@code thread/start} with the worker's working
 *     directory as {@code cwd}, or {@code thread/resume} with the thread id of the checkpoint
 *     ({@code {"codex_thread_id":...}}, kept from the thread's id, and sent again at every
 *     {@code turn/completed} so that an idle session can sleep, contract 8.9). Messages wait for
 *     the thread.
 * <li>A client message is {@code turn/start} with its text as input; every notification is
 *     forwarded verbatim as an event; {@code turn/completed} ends the turn (after being forwarded),
 *     and so does a {@code turn/start} the server refuses (its error is forwarded).
 * <li>The server's approval requests ({@code item/commandExecution/requestApproval},
 *     {@code item/fileChange/requestApproval}) become requests to the user in the shape of contract
 *     8.10 (request ids {@code codex-<process>-<JSON-RPC id>}: the server numbers its requests
 *     from 0 in every process), answered {@code {"decision":"accept"|"decline"}}; a timeout or
 *     cancel declines. Any other
 *     request of the server is answered with a JSON-RPC error, so it never waits.
 * <li>An interrupt is {@code turn/interrupt} for the running turn.
 * <li>A fork (contract 1.2, 8.2) opens its thread with {@code thread/fork} and the checkpoint's thread
 *     id instead of {@code thread/resume}: Codex copies the thread into a new one, whose id becomes
 *     the fork's checkpoint; the forked session's thread is not touched. A thread Codex cannot fork
 *     is answered as one it cannot resume: a new thread, said out loud.
 * </ul>
 */
final class CodexAppServerProtocol implements WorkerProtocol {

    static final String NAME = "codex-app-server";
    /** The checkpoint field with the thread id. */
    static final String THREAD_FIELD = "codex_thread_id";

    private static final String INIT_ID = "tether-initialize";
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Peer peer;
    /**
     * Tells this process's requests from those of the session's other workers: the server numbers
     * its requests from 0 in every process, and a request id must be unique for the whole session.
     */
    private final String instance;
    /** What each request of the adapter was, by its id: answers are matched to them. */
    private final Map<String, String> asked = new HashMap<>();
    /** The JSON-RPC id of each approval waiting, by the request id the client sees. */
    private final Map<String, JsonNode> approvals = new HashMap<>();
    /** Messages that came before the thread was open, in order. */
    private final Queue<ObjectNode> waiting = new ArrayDeque<>();

    private boolean ready;
    private String threadId;
    private String turnId;
    private String resumed;
    private Path workDir;
    private long next;

    CodexAppServerProtocol(Peer peer) {
        this(peer, Long.toString(ThreadLocalRandom.current().nextLong(36L * 36 * 36 * 36 * 36 * 36), 36));
    }

    /** @param instance what this process's request ids carry ({@code codex-<instance>-<JSON-RPC id>}) */
    CodexAppServerProtocol(Peer peer, String instance) {
        this.peer = requireNonNull(peer, "peer");
        this.instance = requireNonNull(instance, "instance");
    }

    @Override
    public void started() {
        ObjectNode params = JSON.objectNode();
        params.putObject("clientInfo")
                .put("name", "tether")
                .put("title", "Tether session gateway")
                .put("version", "1");
        ObjectNode init = JSON.objectNode().put("id", INIT_ID).put("method", "initialize");
        init.set("params", params);
        peer.write(init);
    }

    @Override
    public void output(ObjectNode line) {
        JsonNode id = line.get("id");
        boolean hasMethod = line.path("method").isTextual();
        if (id != null && !hasMethod) {
            answer(id.asText(), line);
        } else if (!ready) {
            peer.event(line); // dropped (and logged) before ready
        } else if (id != null) {
            serverRequest(id, line);
        } else if (hasMethod) {
            notification(line);
        } else {
            peer.problem(
                    WorkerOutputHandler.PROTOCOL_ERROR,
                    "a line that is neither a JSON-RPC request, answer nor notification: ignored");
        }
    }

    /** The answer to one of the adapter's own requests. */
    private void answer(String id, ObjectNode line) {
        if (!ready && INIT_ID.equals(id)) {
            ready = true;
            peer.write(JSON.objectNode().put("method", "initialized"));
            peer.ready();
            return;
        }
        String method = asked.remove(id);
        if (method == null) {
            return;
        }
        JsonNode error = line.get("error");
        switch (method) {
            case "thread/start", "thread/resume", "thread/fork" -> {
                if (error != null && !"thread/start".equals(method)) {
                    // The thread is not there (another node's files, or removed): a new one, said out loud.
                    peer.problem(
                            WorkerOutputHandler.PROTOCOL_ERROR,
                            "codex could not " + method.substring("thread/".length()) + " thread " + resumed + " ("
                                    + error.path("message").asText("no reason") + "): a new thread was started");
                    startThread();
                    return;
                }
                if (error != null) {
                    peer.problem(
                            WorkerOutputHandler.PROTOCOL_ERROR,
                            "codex could not start a thread: "
                                    + error.path("message").asText("no reason"));
                    return;
                }
                threadId = line.path("result").path("thread").path("id").asText(null);
                if (threadId != null) {
                    peer.checkpoint(JSON.objectNode().put(THREAD_FIELD, threadId));
                    while (!waiting.isEmpty()) {
                        startTurn(waiting.poll());
                    }
                }
            }
            case "turn/start" -> {
                if (error != null) {
                    checkpoint(); // the thread is as it was, and the session may sleep on it
                    peer.event(line); // the client sees why, and the turn is over
                    peer.turnEnded();
                } else {
                    turnId = line.path("result").path("turn").path("id").asText(turnId);
                }
            }
            default -> {}
        }
    }

    private void serverRequest(JsonNode id, ObjectNode line) {
        String method = line.path("method").asText();
        JsonNode params = line.path("params");
        if ("item/commandExecution/requestApproval".equals(method)
                || "item/fileChange/requestApproval".equals(method)) {
            String requestId = "codex-" + instance + "-" + id.asText();
            approvals.put(requestId, id);
            boolean command = method.startsWith("item/commandExecution");
            ObjectNode approval =
                    JSON.objectNode().put("kind", "approval").put("tool", command ? "commandExecution" : "fileChange");
            approval.set("input", command ? params.path("command") : params);
            approval.set("detail", line);
            peer.request(requestId, approval);
            return;
        }
        ObjectNode refusal = JSON.objectNode();
        refusal.set("id", id);
        refusal.putObject("error").put("code", -32601).put("message", "not supported by this client: " + method);
        peer.write(refusal);
    }

    private void notification(ObjectNode line) {
        String method = line.path("method").asText();
        if ("turn/started".equals(method)) {
            turnId = line.path("params").path("turn").path("id").asText(turnId);
        }
        boolean completed = "turn/completed".equals(method);
        if (completed) {
            checkpoint(); // the thread as the turn left it
        }
        peer.event(line);
        if (completed) {
            turnId = null;
            peer.turnEnded();
        }
    }

    /**
     * The thread again, after a turn: a session sleeps only with a checkpoint newer than its last
     * turn's start (contract 8.9), and Codex keeps the thread's turns on disk as they complete.
     */
    private void checkpoint() {
        if (threadId != null) {
            peer.checkpoint(JSON.objectNode().put(THREAD_FIELD, threadId));
        }
    }

    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume) {
        bind(sessionId, subject, workDir, resume, false, null);
    }

    /** {@code thread/start}, {@code thread/resume} with the checkpoint's thread, or {@code thread/fork} of it for a fork. */
    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume, boolean fork, ObjectNode claims) {
        this.workDir = workDir;
        String thread = resume == null ? null : resume.path(THREAD_FIELD).textValue();
        if (thread == null) {
            startThread();
            return;
        }
        resumed = thread;
        ObjectNode params = JSON.objectNode().put("threadId", thread).put("cwd", workDir.toString());
        request(fork ? "thread/fork" : "thread/resume", params);
    }

    private void startThread() {
        request("thread/start", JSON.objectNode().put("cwd", workDir.toString()));
    }

    @Override
    public void send(String id, JsonNode data) {
        String text = data.isTextual()
                ? data.textValue()
                : data.path("text").isTextual() ? data.path("text").textValue() : data.toString();
        ObjectNode params = JSON.objectNode();
        params.putArray("input").addObject().put("type", "text").put("text", text);
        if (threadId == null) {
            waiting.add(params);
        } else {
            startTurn(params);
        }
    }

    private void startTurn(ObjectNode params) {
        params.put("threadId", threadId);
        request("turn/start", params);
    }

    @Override
    public void interrupt() {
        if (threadId != null && turnId != null) {
            request(
                    "turn/interrupt",
                    JSON.objectNode().put("threadId", threadId).put("turnId", turnId));
        }
    }

    @Override
    public String checkAnswer(String requestId, JsonNode data) {
        return Approvals.check(data);
    }

    @Override
    public void respond(String requestId, RequestOutcome outcome, JsonNode data) {
        JsonNode id = approvals.remove(requestId);
        if (id == null) {
            return;
        }
        boolean accept = outcome == RequestOutcome.ANSWERED && Approvals.allows(data);
        ObjectNode answer = JSON.objectNode();
        answer.set("id", id);
        answer.putObject("result").put("decision", accept ? "accept" : "decline");
        peer.write(answer);
    }

    @Override
    public void shutdown() {}

    private void request(String method, ObjectNode params) {
        String id = "tether-" + ++next;
        asked.put(id, method);
        ObjectNode line = JSON.objectNode().put("id", id).put("method", method);
        line.set("params", params);
        peer.write(line);
    }
}
