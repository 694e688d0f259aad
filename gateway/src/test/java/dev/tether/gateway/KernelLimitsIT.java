package dev.tether.gateway;

import static dev.tether.gateway.SupervisionIT.workerPid;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.ByteSizes;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.LimitProbeWorker;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.process.ControlGroups;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The limits the kernel enforces on workers (worker.process oom_score_adj, max_open_files,
 * max_processes, core_dumps, and limits.rss_hard_limit in a control group per worker tree), with
 * real worker processes doing what the limits are there for: allocating far past the memory limit,
 * forking until refused, opening files until refused.
 *
 * <p>The control-group tests need a machine where the gateway can make groups below its own (cgroup
 * v1 memory and pids, or delegated v2). Where it cannot, they are skipped with the reason, except as
 * root (this project's CI), where they fail instead: there they must run.
 */
class KernelLimitsIT {

    private static final long LIMIT = 256 * ByteSizes.MIB;

    /**
     * Demo workers with room for 1 GiB of heap, in groups of 256 MiB. The RSS sampler is too slow
     * to matter (every hour): what stops a worker here is the kernel.
     */
    @RegisterExtension
    static final GatewayExtension memory = DemoWorkers.gateway("kernel-memory", """
            limits:
              rss_poll_interval: 1h
              rss_soft_limit: 250MiB
              rss_hard_limit: 256MiB
            worker:
              process:
                command: ["${java}", "-Dtether.it=kernel-memory", "-Xms16m", "-Xmx1200m", "-XX:+UseSerialGC",
                          "-XX:TieredStopAtLevel=1", "-Xss512k", "-cp", "${classpath}", "dev.tether.demo.DemoWorker"]
                limit_enforcement: auto
            """);

    /** Hostile line workers: at most 64 processes and threads per tree, 256 open files per process. */
    @RegisterExtension
    static final GatewayExtension probes = DemoWorkers.gateway(
            "kernel-probes", """
            worker:
              process:
                protocol: lines
                command: %s
                max_processes: 64
                max_open_files: 256
                limit_enforcement: auto
            """.formatted(DemoWorkers.javaCommand("kernel-probes", LimitProbeWorker.class.getName())));

    @Test
    void aWorkerRunsWithItsOomScoreAndResourceLimitsInAGroupOfItsOwnThatGoesWithIt() throws IOException {
        requireControlGroups();
        String sessionId;
        long pid;
        Path group;
        try (SessionClient c = SessionClient.openIdle(memory, "limits")) {
            sessionId = c.sessionId();
            pid = workerPid(memory, sessionId);
            assertEquals(
                    "500",
                    Files.readString(Path.of("/proc", Long.toString(pid), "oom_score_adj"))
                            .strip());
            String limits = Files.readString(Path.of("/proc", Long.toString(pid), "limits"));
            assertEquals(List.of("0", "0"), limit(limits, "Max core file size"), limits);
            assertEquals(List.of("4096", "4096"), limit(limits, "Max open files"), limits);
            assertEquals(List.of("1073741824", "1073741824"), limit(limits, "Max file size"), limits);

            group = ControlGroups.groupOf(pid, "memory").orElseThrow();
            assertTrue(
                    group.getFileName()
                            .toString()
                            .startsWith("tether-" + ProcessHandle.current().pid() + "-"),
                    group::toString);
            assertEquals(LIMIT, memoryLimit(group), group::toString);
            Path pids = ControlGroups.groupOf(pid, "pids").orElseThrow();
            assertEquals(group.getFileName(), pids.getFileName());
            assertEquals("1024", Files.readString(pids.resolve("pids.max")).strip());
            memory.server().registry().get(sessionId).orElseThrow().endByOperator();
            Poll.until("worker " + pid + " of the ended session is gone", () -> !ProcessTree.running(pid));
            Poll.until(
                    "its groups " + group + " and " + pids + " are removed",
                    () -> !Files.exists(group) && !Files.exists(pids));
        }
    }

    @Test
    void aWorkerAllocatingFarPastItsMemoryLimitIsStoppedByTheKernelNearItAndReplacedWhileAnotherSessionGoesOn() {
        requireControlGroups();
        try (SessionClient other = SessionClient.openIdle(memory, "bystander");
                SessionClient c = SessionClient.openIdle(memory, "greedy")) {
            long old = workerPid(memory, c.sessionId());
            Path group = ControlGroups.groupOf(old, "memory").orElseThrow();

            c.sendAccepted("big", "{\"allocate_mb\":1024,\"deltas\":0,\"hang\":true}", 0);
            List<ServerMessage> seen = c.untilTag("status:idle");
            assertEquals(
                    List.of(
                            "status:processing",
                            "notice:worker_killed",
                            "status:restarting:memory_limit",
                            "notice:worker_restarted",
                            "status:idle"),
                    historyTags(seen));
            JsonNode killed = notice(seen, "worker_killed").details();
            assertEquals("memory_limit", killed.path("reason").asText(), killed::toString);
            assertEquals("big", killed.path("turn_id").asText(), killed::toString);
            assertEquals(LIMIT, killed.path("limit_bytes").asLong(), killed::toString);
            long peak = killed.path("rss_bytes").asLong();
            assertTrue(peak > LIMIT - 32 * ByteSizes.MIB && peak <= LIMIT, () -> "stopped near the limit: " + killed);
            assertEquals(
                    "memory_limit",
                    notice(seen, "worker_restarted").details().path("reason").asText());

            long replacement = workerPid(memory, c.sessionId());
            assertNotEquals(old, replacement);
            Poll.until("killed worker " + old + " is gone", () -> !ProcessTree.running(old));
            Poll.until("its group " + group + " is removed", () -> !Files.exists(group));
            other.roundTrip("still", "{\"text\":\"here\",\"deltas\":1,\"delay_ms\":0}");
            c.roundTrip("next", "{\"text\":\"fresh\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    @Test
    void aWorkerForkingUntilItsProcessLimitIsRefusedWhileItAndAnotherSessionGoOn() {
        requireControlGroups();
        try (SessionClient other = SessionClient.openIdle(probes, "bystander");
                SessionClient c = SessionClient.openIdle(probes, "forker")) {
            long pid = workerPid(probes, c.sessionId());
            c.send("f", "\"fork\"");
            Matcher forked = line(c, Pattern.compile("forked (\\d+): (.*)"));
            int count = Integer.parseInt(forked.group(1));
            assertTrue(count > 0 && count < 64, forked.group());
            assertTrue(
                    forked.group(2).contains("error=11") || forked.group(2).contains("OutOfMemoryError"),
                    forked.group());
            c.send("p", "\"ping\"");
            line(c, Pattern.compile("pong"));
            other.send("p", "\"ping\"");
            line(other, Pattern.compile("pong"));
            assertEquals(pid, workerPid(probes, c.sessionId()), "the same worker goes on");
        }
    }

    @Test
    void aWorkerOpeningFilesPastItsLimitIsRefusedAndGoesOn() throws IOException {
        try (SessionClient c = SessionClient.openIdle(probes, "opener")) {
            long pid = workerPid(probes, c.sessionId());
            String limits = Files.readString(Path.of("/proc", Long.toString(pid), "limits"));
            assertEquals(List.of("256", "256"), limit(limits, "Max open files"), limits);
            c.send("f", "\"files\"");
            Matcher opened = line(c, Pattern.compile("opened (\\d+): (.*)"));
            int count = Integer.parseInt(opened.group(1));
            assertTrue(count > 0 && count < 256, opened.group());
            assertTrue(opened.group(2).contains("Too many open files"), opened.group());
            c.send("p", "\"ping\"");
            line(c, Pattern.compile("pong"));
        }
    }

    /**
     * limit_enforcement: poll: the start-up line says so; workers are in no group of their own, and
     * RLIMIT_NPROC stands for max_processes.
     */
    @Test
    void pollingIsLoggedAtStartUpAndItsWorkersGetRlimitNprocInsteadOfAGroup() throws Exception {
        GatewayConfig config = ConfigLoader.parse(DemoWorkers.config("kernel-poll", """
                worker:
                  process:
                    limit_enforcement: poll
                    max_processes: 2000
                """), Map.of());
        GatewayServer server;
        try (LogCapture log = LogCapture.of(GatewayServer.class.getName())) {
            server = new GatewayServer(config, Clock.systemUTC());
            ILoggingEvent line = log.await(e -> e.getFormattedMessage().startsWith("worker limits: "));
            assertTrue(
                    line.getFormattedMessage()
                            .startsWith("worker limits: polled, limits.rss_hard_limit by the RSS "
                                    + "sampler every 5s and worker.process.max_processes as RLIMIT_NPROC (worker.process."
                                    + "limit_enforcement is poll)"),
                    line::getFormattedMessage);
        }
        try {
            InetSocketAddress address = server.start();
            TokenMinter minter = new TokenMinter(
                    config.auth().hmacSecret().getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());
            try (SessionClient c = SessionClient.openIdle(
                    URI.create("ws://127.0.0.1:" + address.getPort() + "/ws"),
                    minter.mint("polled", Duration.ofHours(1), Map.of()))) {
                long pid = Poll.present(
                        "a worker",
                        () -> server.registry()
                                .get(c.sessionId())
                                .flatMap(s -> Optional.ofNullable(s.currentWorker()))
                                .map(w -> w.pid().getAsLong()));
                Path proc = Path.of("/proc", Long.toString(pid));
                assertFalse(Files.readString(proc.resolve("cgroup")).contains("tether-"), "in no group of its own");
                String limits = Files.readString(proc.resolve("limits"));
                assertEquals(List.of("2000", "2000"), limit(limits, "Max processes"), limits);
                assertEquals(
                        "500", Files.readString(proc.resolve("oom_score_adj")).strip());
            }
        } finally {
            server.close();
        }
    }

    /** The next line event matching {@code pattern} (a lines worker's output), matched. */
    private static Matcher line(SessionClient c, Pattern pattern) {
        while (true) {
            if (c.next() instanceof ServerMessage.Event e) {
                Matcher m = pattern.matcher(e.event().path("text").asText());
                if (m.matches()) {
                    return m;
                }
            }
        }
    }

    /** The soft and hard value of {@code name} in a {@code /proc/<pid>/limits} text. */
    private static List<String> limit(String limits, String name) {
        for (String row : limits.split("\n", -1)) {
            if (row.startsWith(name + " ")) {
                String[] values = row.substring(name.length()).strip().split("\\s+", -1);
                return List.of(values[0], values[1]);
            }
        }
        return List.of();
    }

    private static long memoryLimit(Path group) throws IOException {
        Path v1 = group.resolve("memory.limit_in_bytes");
        return Long.parseLong(Files.readString(Files.exists(v1) ? v1 : group.resolve("memory.max"))
                .strip());
    }

    /** Skips where control groups cannot be made, saying why; fails instead as root, where they must work. */
    private static void requireControlGroups() {
        ControlGroups.Choice choice = ControlGroups.choose("auto", () -> LIMIT);
        if (choice.groups() != null) {
            return;
        }
        String why = "control groups cannot be made here, so the kernel-enforced memory and process limits are not "
                + "tested: " + choice.why();
        if ("root".equals(System.getProperty("user.name"))) {
            fail(why + " (running as root, as in CI: they must work)");
        }
        assumeTrue(false, why);
    }
}
