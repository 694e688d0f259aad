package dev.tether.gateway.worker;

import static java.util.Objects.requireNonNull;

/**
 * How a worker ended: its exit code, or the signal that killed it, and a short description for
 * notices and logs ("exit code 3", "killed by signal 9 (SIGKILL)").
 *
 * @param code the exit status as Java reports it (128 + n for a process killed by signal n)
 * @param signal the signal number when the process was killed by a signal, else 0
 * @param description human-readable summary
 * @param memoryLimit the kernel killed it (or a process of its tree) at the memory limit of its
 *     control group ({@code limits.rss_hard_limit} enforced by the kernel)
 * @param peakBytes with {@code memoryLimit}: the most memory its group used, in bytes (-1: unknown)
 */
public record WorkerExit(int code, int signal, String description, boolean memoryLimit, long peakBytes) {
    public WorkerExit {
        requireNonNull(description, "description");
    }

    /** An exit that was not the kernel's doing at a memory limit. */
    public WorkerExit(int code, int signal, String description) {
        this(code, signal, description, false, -1);
    }
}
