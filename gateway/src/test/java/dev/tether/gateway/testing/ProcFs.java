package dev.tether.gateway.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;

/** What Linux's {@code /proc} says about a worker process, for tests about back-pressure. Any thread. */
public final class ProcFs {

    private ProcFs() {}

    /** Whether a thread of {@code pid} sleeps in the kernel sending on a Unix socket (its buffer is full). */
    public static boolean blockedOnSocketWrite(long pid) {
        File[] tasks = new File("/proc/" + pid + "/task").listFiles();
        if (tasks == null) {
            return false;
        }
        for (File task : tasks) {
            try {
                String wchan = Files.readString(task.toPath().resolve("wchan")).strip();
                if (wchan.contains("unix_stream")
                        || wchan.contains("sock_alloc_send")
                        || wchan.contains("wait_for_wmem")) {
                    return true;
                }
            } catch (IOException e) {
                // the thread is gone
            }
        }
        return false;
    }
}
