package dev.tether.gateway.worker.process;

import dev.tether.gateway.worker.WorkerExit;

/**
 * Turns the exit status Java reports for a process into a {@link WorkerExit}. On Linux Java reports
 * a process killed by signal n as 128 + n, which cannot be told apart from a process that called
 * {@code exit(128 + n)} (a JVM that got SIGTERM does just that: it exits 143): both read as the
 * signal, which is what an operator wants to see. Stateless.
 */
final class ExitStatus {

    private static final String[] NAMES = new String[32];

    static {
        NAMES[1] = "SIGHUP";
        NAMES[2] = "SIGINT";
        NAMES[3] = "SIGQUIT";
        NAMES[4] = "SIGILL";
        NAMES[5] = "SIGTRAP";
        NAMES[6] = "SIGABRT";
        NAMES[7] = "SIGBUS";
        NAMES[8] = "SIGFPE";
        NAMES[9] = "SIGKILL";
        NAMES[10] = "SIGUSR1";
        NAMES[11] = "SIGSEGV";
        NAMES[12] = "SIGUSR2";
        NAMES[13] = "SIGPIPE";
        NAMES[14] = "SIGALRM";
        NAMES[15] = "SIGTERM";
        NAMES[24] = "SIGXCPU";
        NAMES[25] = "SIGXFSZ";
        NAMES[31] = "SIGSYS";
    }

    private ExitStatus() {}

    /** The exit for a status as {@link Process#exitValue()} returns it. */
    static WorkerExit decode(int code) {
        int signal = code > 128 && code <= 128 + 64 ? code - 128 : 0;
        if (signal == 0) {
            return new WorkerExit(code, 0, "exit code " + code);
        }
        return new WorkerExit(code, signal, "killed by signal " + signal + " (" + name(signal) + ")");
    }

    /**
     * The exit for a status as {@code waitpid(2)} returns it (what {@code tether-spawn} reports): a
     * process killed by a signal is told apart from one that exited by itself; an exit code over
     * 128 still reads as the signal it stands for, as in {@link #decode(int)}.
     */
    static WorkerExit fromWaitStatus(int status) {
        int signal = status & 0x7f;
        if (signal == 0) {
            return decode((status >> 8) & 0xff);
        }
        return new WorkerExit(128 + signal, signal, "killed by signal " + signal + " (" + name(signal) + ")");
    }

    /** "SIGKILL" for 9, "SIG34" for a signal without a common name. */
    static String name(int signal) {
        if (signal > 0 && signal < NAMES.length && NAMES[signal] != null) {
            return NAMES[signal];
        }
        return "SIG" + signal;
    }
}
