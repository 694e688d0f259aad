package dev.tether.gateway.worker.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import java.nio.file.Path;

/**
 * What a worker process's stdin and stdout mean ({@code worker.process.protocol}): Tether's own
 * worker protocol, or an adapter for a program that speaks another one (a line program, an agent
 * CLI). The {@link ProcessWorker} owns the process and its sockets; the protocol turns the
 * session's calls into lines for stdin and the lines of stdout into what the session gets, through
 * its {@link Peer}. One instance per worker, called on its stdio channel's loop only, so it may
 * keep state without locks.
 */
interface WorkerProtocol {

    /** What a protocol hands on: to the worker's stdin, and to its session. */
    interface Peer {
        /** Writes one line (the object as JSON) to the worker's stdin. */
        void write(ObjectNode line);

        /** The worker can take its first message. */
        void ready();

        /** An event for the client; one of type {@code result} ends the running turn. */
        void event(ObjectNode event);

        /** The worker's newest state, kept with the session (checked against {@code max_checkpoint_bytes}). */
        void checkpoint(JsonNode state);

        /** The worker asks the user something (contract 7.3). */
        void request(String requestId, JsonNode request);

        /** The running turn ended by the worker's own protocol (no {@code result} event). */
        void turnEnded();

        /** The worker broke its protocol: notice {@code code} to the client, the session goes on. */
        void problem(String code, String message);
    }

    /** The process was started: a protocol that must greet it first writes its greeting now. */
    void started();

    /** One line of the worker's stdout: a JSON object, or for {@link #rawLines()} protocols {@code {"type":"line","text":...}}. */
    void output(ObjectNode line);

    /** The worker is bound to its session; {@code resume} is the session's newest checkpoint, or null. */
    void bind(String sessionId, String subject, Path workDir, JsonNode resume);

    /**
     * Like {@link #bind(String, String, Path, JsonNode)}, with the owner's forwarded token claims
     * (contract 1.2, 8.5), or null when none are forwarded. Only the tether protocol passes them on;
     * the agent-CLI adapters and line programs have nowhere to put them and ignore them.
     */
    default void bind(String sessionId, String subject, Path workDir, JsonNode resume, ObjectNode claims) {
        bind(sessionId, subject, workDir, resume);
    }

    /**
     * Like {@link #bind(String, String, Path, JsonNode, ObjectNode)}; {@code fork}: {@code resume} is
     * the checkpoint of the session this one was forked from (contract 1.2, 8.2), to continue as a new
     * conversation. A protocol with no notion of it continues as from a resume.
     */
    default void bind(
            String sessionId, String subject, Path workDir, JsonNode resume, boolean fork, ObjectNode claims) {
        bind(sessionId, subject, workDir, resume, claims);
    }

    /** The owner's forwarded claims changed; ignored unless the protocol has a line for it. */
    default void claims(ObjectNode claims) {}

    /** A client message for the worker. */
    void send(String id, JsonNode data);

    /** The client asks to stop the running turn. */
    void interrupt();

    /** Resolves the worker's request {@code requestId}; {@code data} is the answer when {@code answered}. */
    void respond(String requestId, RequestOutcome outcome, JsonNode data);

    /** Why {@code data} cannot answer {@code requestId}, or null when it can. */
    default String checkAnswer(String requestId, JsonNode data) {
        return null;
    }

    /** The worker is being stopped: a protocol with a goodbye line writes it (stdin is closed next). */
    void shutdown();

    /** Whether this worker can continue a session from {@code resume}; see {@link dev.tether.gateway.worker.Worker#canContinue}. */
    default boolean canContinue(JsonNode resume) {
        return true;
    }

    /** Like {@link #canContinue(JsonNode)}, as a fork (contract 1.2, 8.2) when {@code fork}. */
    default boolean canContinue(JsonNode resume, boolean fork) {
        return canContinue(resume);
    }

    /** Whether the worker works in turns; see {@link dev.tether.gateway.worker.Worker#turns()}. */
    default boolean turns() {
        return true;
    }

    /**
     * Whether stdout is left unread until the worker is bound to its session (a line program prints
     * what it prints whenever it starts, and it is meant for the session), rather than dropped.
     */
    default boolean holdsOutputUntilBound() {
        return false;
    }

    /** Whether stdout is plain text lines rather than JSON objects. */
    default boolean rawLines() {
        return false;
    }
}
