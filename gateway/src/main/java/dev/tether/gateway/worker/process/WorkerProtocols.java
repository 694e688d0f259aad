package dev.tether.gateway.worker.process;

import dev.tether.gateway.config.ProcessWorkerConfig;

/** Makes the {@link WorkerProtocol} that {@code worker.process.protocol} names. */
final class WorkerProtocols {

    private WorkerProtocols() {}

    static WorkerProtocol create(ProcessWorkerConfig config, WorkerProtocol.Peer peer, LinesProtocol.Stdin stdin) {
        return switch (config.protocol()) {
            case ProcessWorkerConfig.TETHER -> new TetherProtocol(peer);
            case ProcessWorkerConfig.LINES -> new LinesProtocol(peer, stdin);
            default -> throw new IllegalArgumentException("unknown worker protocol: " + config.protocol());
        };
    }
}
