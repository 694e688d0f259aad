package dev.tether.gateway.worker;

import static java.util.Objects.requireNonNull;

/**
 * How a worker ended: an exit code, or the signal that killed it (as reported by the OS, code
 * 128+n), and a short description for notices and logs.
 */
public record WorkerExit(int code, String description) {
    public WorkerExit {
        requireNonNull(description, "description");
    }
}
