/*
 * tether-spawn: the parent of every worker process of one Tether gateway.
 *
 *   tether-spawn SOCKET_PATH
 *
 * The gateway starts one tether-spawn and listens on SOCKET_PATH, a Unix domain socket in a
 * directory only its user can enter. tether-spawn connects to it (the control connection) and then
 * does three things, in one thread, with poll(2):
 *
 *  - Spawns workers on request. A request is a 4-byte big-endian length, then that many bytes of
 *    NUL-terminated strings: "spawn", ID, CWD, ARGC, ARGV..., ENVC, ENV..., and optionally LIMC,
 *    LIMIT... (see apply_limit). The child leads a new session and process group (setsid), applies
 *    each LIMIT in order (joins control groups, sets oom_score_adj and resource limits), changes to
 *    CWD, connects twice to SOCKET_PATH and writes
 *    "ID stdio\n" and "ID stderr\n" on those connections, makes the first its stdin and stdout and
 *    the second its stderr, and executes ARGV with exactly ENV (ARGV[0] found on PATH). The answer
 *    is a line on the control connection: "spawned ID PID" once the program runs, or
 *    "failed ID ERRNO STEP" when it could not be started.
 *  - Reaps. It is the parent of every worker and the subreaper of their descendants: each process
 *    that ends is reaped at once and reported as "exit PID WAITSTATUS", workers and orphaned
 *    descendants alike (the gateway ignores pids it does not know).
 *  - Cleans up. When the control connection ends (the gateway has gone, even by SIGKILL), every
 *    process group it started gets SIGKILL, then every process still its child, and it exits.
 *
 * Only libc; Linux (signalfd, PR_SET_CHILD_SUBREAPER). Built by the gateway's Maven build.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST (4 * 1024 * 1024)
#define MAX_WORKERS 65536

static const char *socket_path;
static int control = -1;
static pid_t workers[MAX_WORKERS];
static int worker_count;

static void die(const char *what) {
    fprintf(stderr, "tether-spawn: %s: %s\n", what, strerror(errno));
    exit(1);
}

/*
 * Moves all `length` bytes between `data` and `fd`, reading or writing, going on after interrupted
 * and partial calls. -1 on an error, or on an end of file before the last byte.
 */
static int transfer_all(int fd, char *data, size_t length, int reading) {
    while (length > 0) {
        ssize_t n = reading ? read(fd, data, length) : write(fd, data, length);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        data += n;
        length -= (size_t) n;
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t length) {
    return transfer_all(fd, (char *) data, length, 0);
}

static int read_all(int fd, char *data, size_t length) {
    return transfer_all(fd, data, length, 1);
}

static void answer(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void answer(const char *format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0 || (size_t) n >= sizeof line || write_all(control, line, (size_t) n) < 0) {
        /* The gateway is gone or the line is broken: the poll loop sees the end. */
    }
}

static int connect_back(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, socket_path, sizeof address.sun_path - 1);
    if (connect(fd, (struct sockaddr *) &address, sizeof address) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Writes `text` to the existing file `path` (a /proc or control-group file); -1 with errno on failure. */
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    int result = write_all(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

/* A decimal number, or "unlimited" (RLIM_INFINITY); -1 with EINVAL when it is neither. */
static int parse_rlimit(const char *text, rlim_t *value) {
    if (strcmp(text, "unlimited") == 0) {
        *value = RLIM_INFINITY;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        errno = EINVAL;
        return -1;
    }
    *value = (rlim_t) parsed;
    return 0;
}

/*
 * Applies one LIMIT of a spawn request to this process (the child, before exec), "NAME=VALUE":
 *   cgroup=PATH         writes our pid to PATH (a control group's cgroup.procs): we and every
 *                       process we start are in that group
 *   oom_score_adj=N     writes N to /proc/self/oom_score_adj
 *   rlimit_nofile=N, rlimit_nproc=N, rlimit_fsize=N, rlimit_cpu=N, rlimit_core=N
 *                       setrlimit, soft and hard limit both N ("unlimited" for RLIM_INFINITY)
 * On failure: -1 with errno, and *step names the limit.
 */
static int apply_limit(const char *limit, const char **step) {
    static const struct {
        const char *name;
        int resource;
    } rlimits[] = {
        {"rlimit_nofile", RLIMIT_NOFILE},
        {"rlimit_nproc", RLIMIT_NPROC},
        {"rlimit_fsize", RLIMIT_FSIZE},
        {"rlimit_cpu", RLIMIT_CPU},
        {"rlimit_core", RLIMIT_CORE},
    };
    *step = "limit";
    const char *equals = strchr(limit, '=');
    if (equals == NULL) {
        errno = EINVAL;
        return -1;
    }
    size_t name_length = (size_t) (equals - limit);
    const char *value = equals + 1;
    if (name_length == 6 && strncmp(limit, "cgroup", 6) == 0) {
        *step = "cgroup";
        /* Our pid in decimal, by hand: only async-signal-safe calls in the child. */
        char pid[24];
        char *digit = pid + sizeof pid - 1;
        *digit = '\0';
        *--digit = '\n';
        for (unsigned long n = (unsigned long) getpid(); n > 0 || digit == pid + sizeof pid - 2; n /= 10) {
            *--digit = (char) ('0' + n % 10);
        }
        return write_file(value, digit);
    }
    if (name_length == 13 && strncmp(limit, "oom_score_adj", 13) == 0) {
        *step = "oom_score_adj";
        return write_file("/proc/self/oom_score_adj", value);
    }
    for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
        if (strlen(rlimits[i].name) == name_length && strncmp(limit, rlimits[i].name, name_length) == 0) {
            *step = rlimits[i].name;
            rlim_t wanted;
            if (parse_rlimit(value, &wanted) < 0) {
                return -1;
            }
            struct rlimit both = {.rlim_cur = wanted, .rlim_max = wanted};
            return setrlimit(rlimits[i].resource, &both);
        }
    }
    errno = EINVAL;
    return -1;
}

/* In the child, after fork: only async-signal-safe calls until execve. Never returns. */
static void become_worker(int report, const char *id, const char *cwd, char **argv, char **envp, char **limits,
        int limit_count) {
    const char *step = "setsid";
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (setsid() < 0) {
        goto fail;
    }
    for (int i = 0; i < limit_count; i++) {
        if (apply_limit(limits[i], &step) < 0) {
            goto fail;
        }
    }
    step = "chdir";
    if (chdir(cwd) < 0) {
        goto fail;
    }
    step = "connect";
    int stdio = connect_back();
    int stderr_fd = stdio < 0 ? -1 : connect_back();
    if (stdio < 0 || stderr_fd < 0) {
        goto fail;
    }
    step = "hello";
    char hello[256];
    size_t id_length = strlen(id);
    if (id_length > sizeof hello - 16) {
        errno = EINVAL;
        goto fail;
    }
    memcpy(hello, id, id_length);
    memcpy(hello + id_length, " stdio\n", 7);
    if (write_all(stdio, hello, id_length + 7) < 0) {
        goto fail;
    }
    memcpy(hello + id_length, " stderr\n", 8);
    if (write_all(stderr_fd, hello, id_length + 8) < 0) {
        goto fail;
    }
    step = "dup2";
    if (dup2(stdio, 0) < 0 || dup2(stdio, 1) < 0 || dup2(stderr_fd, 2) < 0) {
        goto fail;
    }
    if (stdio > 2) {
        close(stdio);
    }
    if (stderr_fd > 2) {
        close(stderr_fd);
    }
    step = "exec";
    execvpe(argv[0], argv, envp);
fail:;
    int saved = errno;
    char message[64];
    int n = snprintf(message, sizeof message, "%d %s", saved, step);
    if (n > 0) {
        (void) write_all(report, message, (size_t) n);
    }
    _exit(127);
}

static void spawn(char *payload, uint32_t length) {
    /* "spawn\0ID\0CWD\0ARGC\0ARGV...\0ENVC\0ENV...\0" then optionally "LIMC\0LIMIT...\0" */
    char *fields[8 + 4096 * 2 + 64];
    int count = 0;
    for (uint32_t start = 0, i = 0; i < length && count < (int) (sizeof fields / sizeof fields[0]); i++) {
        if (payload[i] == '\0') {
            fields[count++] = payload + start;
            start = i + 1;
        }
    }
    if (count < 5 || strcmp(fields[0], "spawn") != 0) {
        answer("failed ? %d request\n", EINVAL);
        return;
    }
    const char *id = fields[1];
    const char *cwd = fields[2];
    int argc = atoi(fields[3]);
    if (argc < 1 || 4 + argc >= count) {
        answer("failed %s %d request\n", id, EINVAL);
        return;
    }
    char **argv = &fields[4];
    int envc = atoi(fields[4 + argc]);
    if (envc < 0 || 5 + argc + envc > count) {
        answer("failed %s %d request\n", id, EINVAL);
        return;
    }
    char **envp = &fields[5 + argc];
    char **limits = NULL;
    int limit_count = 0;
    if (5 + argc + envc < count) {
        limit_count = atoi(fields[5 + argc + envc]);
        limits = &fields[6 + argc + envc];
        if (limit_count < 0 || limit_count > count || 6 + argc + envc + limit_count != count) {
            answer("failed %s %d request\n", id, EINVAL);
            return;
        }
    }
    char *saved_arg = argv[argc];
    char *saved_env = envp[envc];
    argv[argc] = NULL;
    envp[envc] = NULL;

    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) {
        answer("failed %s %d pipe\n", id, errno);
        goto restore;
    }
    if (worker_count >= MAX_WORKERS) {
        answer("failed %s %d limit\n", id, EAGAIN);
        close(report[0]);
        close(report[1]);
        goto restore;
    }
    pid_t pid = fork();
    if (pid < 0) {
        answer("failed %s %d fork\n", id, errno);
        close(report[0]);
        close(report[1]);
        goto restore;
    }
    if (pid == 0) {
        close(report[0]);
        become_worker(report[1], id, cwd, argv, envp, limits, limit_count);
    }
    close(report[1]);
    char failure[64] = {0};
    ssize_t n;
    do {
        n = read(report[0], failure, sizeof failure - 1);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n > 0) {
        /* It never ran: the SIGCHLD handling reaps it, and its exit is reported like any other. */
        answer("failed %s %s\n", id, failure);
    } else {
        workers[worker_count++] = pid;
        answer("spawned %s %d\n", id, (int) pid);
    }
restore:
    argv[argc] = saved_arg;
    envp[envc] = saved_env;
}

static void forget(pid_t pid) {
    for (int i = 0; i < worker_count; i++) {
        if (workers[i] == pid) {
            workers[i] = workers[--worker_count];
            return;
        }
    }
}

static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        forget(pid);
        answer("exit %d %d\n", (int) pid, status);
    }
}

/* Kills every process whose parent is this one (workers, and orphans re-parented to us); returns how many. */
static int kill_children(void) {
    DIR *proc = opendir("/proc");
    if (proc == NULL) {
        return 0;
    }
    pid_t self = getpid();
    int killed = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0) {
            continue;
        }
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *stat = fopen(path, "re");
        if (stat == NULL) {
            continue;
        }
        char line[1024];
        size_t n = fread(line, 1, sizeof line - 1, stat);
        fclose(stat);
        line[n] = '\0';
        char *close_paren = strrchr(line, ')');
        int parent;
        char state;
        if (close_paren != NULL && sscanf(close_paren + 1, " %c %d", &state, &parent) == 2 && parent == self
                && state != 'Z') {
            kill((pid_t) pid, SIGKILL);
            killed++;
        }
    }
    closedir(proc);
    return killed;
}

static void kill_everything(void) {
    for (int i = 0; i < worker_count; i++) {
        kill(-workers[i], SIGKILL);
        kill(workers[i], SIGKILL);
    }
    /* Orphaned descendants were re-parented to us (subreaper): end them too, and reap everything. */
    for (int round = 0; round < 500; round++) {
        int status;
        while (waitpid(-1, &status, WNOHANG) > 0) {
        }
        if (kill_children() == 0) {
            while (waitpid(-1, &status, WNOHANG) > 0) {
            }
            return;
        }
        usleep(10000);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tether-spawn SOCKET_PATH\n");
        return 2;
    }
    socket_path = argv[1];
    if (strlen(socket_path) >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
        fprintf(stderr, "tether-spawn: socket path too long\n");
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        die("prctl(PR_SET_CHILD_SUBREAPER)");
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &child, NULL) < 0) {
        die("sigprocmask");
    }
    int signals = signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) {
        die("signalfd");
    }
    control = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (control < 0) {
        die("socket");
    }
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, socket_path, sizeof address.sun_path - 1);
    if (connect(control, (struct sockaddr *) &address, sizeof address) < 0) {
        die("connect");
    }
    if (write_all(control, "control\n", 8) < 0) {
        die("write");
    }
    char *request = malloc(MAX_REQUEST);
    if (request == NULL) {
        die("malloc");
    }
    struct pollfd polled[2] = {{.fd = control, .events = POLLIN}, {.fd = signals, .events = POLLIN}};
    while (1) {
        if (poll(polled, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (polled[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {
            }
            reap();
        }
        if (polled[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            unsigned char header[4];
            if (read_all(control, (char *) header, 4) < 0) {
                break;
            }
            uint32_t length = ((uint32_t) header[0] << 24) | ((uint32_t) header[1] << 16) | ((uint32_t) header[2] << 8)
                    | header[3];
            if (length == 0 || length > MAX_REQUEST || read_all(control, request, length) < 0) {
                break;
            }
            spawn(request, length);
            reap();
        }
    }
    kill_everything();
    return 0;
}
