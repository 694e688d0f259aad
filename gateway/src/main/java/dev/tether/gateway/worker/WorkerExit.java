package dev.tether.gateway.worker;

import static java.util.Objects.requireNonNull;

/**
 * How a worker ended: its exit code, or the signal that killed it, and a short description for
 * notices and logs ("exit code 3", "killed by signal 9 (SIGKILL)").
 *
 * @param code the exit status as Java reports it (128 + n for a process killed by signal n)
 * @param signal the signal number when the process was killed by a signal, else 0
 * @param description human-readable summary
 */
public record WorkerExit(int code, int signal, String description) {
    public WorkerExit {
        requireNonNull(description, "description");
    }
}
