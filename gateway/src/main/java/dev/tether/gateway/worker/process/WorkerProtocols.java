package dev.tether.gateway.worker.process;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.config.ProcessWorkerConfig;
import java.nio.file.Path;
import java.util.List;

/** Makes the {@link WorkerProtocol} that {@code worker.process.protocol} names. */
final class WorkerProtocols {

    private WorkerProtocols() {}

    /**
     * @param resume the checkpoint the worker was started to continue from, or null
     * @param fork whether it was started to continue it as a fork (contract 1.2, 8.2)
     */
    static WorkerProtocol create(
            ProcessWorkerConfig config,
            WorkerProtocol.Peer peer,
            LinesProtocol.Stdin stdin,
            JsonNode resume,
            boolean fork) {
        return switch (config.protocol()) {
            case ProcessWorkerConfig.TETHER -> new TetherProtocol(peer);
            case ProcessWorkerConfig.LINES -> new LinesProtocol(peer, stdin);
            case ProcessWorkerConfig.CLAUDE_STREAM_JSON -> new ClaudeStreamJsonProtocol(peer, resume, fork);
            case ProcessWorkerConfig.CODEX_APP_SERVER -> new CodexAppServerProtocol(peer);
            default -> throw new IllegalArgumentException("unknown worker protocol: " + config.protocol());
        };
    }

    /**
     * The directory a worker continuing a session from {@code resume} must run in, or null for a
     * fresh one: Claude Code finds a conversation by the working directory it was held in.
     */
    static Path startDirectory(ProcessWorkerConfig config, JsonNode resume) {
        return ProcessWorkerConfig.CLAUDE_STREAM_JSON.equals(config.protocol())
                ? ClaudeStreamJsonProtocol.startDirectory(config.workRoot(), resume)
                : null;
    }

    /**
     * What the command gets to continue a session from {@code resume} (as a fork of it when {@code
     * fork}): nothing unless the protocol resumes only from its command line.
     */
    static List<String> startArguments(ProcessWorkerConfig config, JsonNode resume, boolean fork) {
        return ProcessWorkerConfig.CLAUDE_STREAM_JSON.equals(config.protocol())
                ? ClaudeStreamJsonProtocol.startArguments(resume, fork)
                : List.of();
    }
}
