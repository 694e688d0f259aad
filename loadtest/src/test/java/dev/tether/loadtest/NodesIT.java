package dev.tether.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code chaos --nodes}: a real redis-server and three real gateway processes sharing their sessions
 * (config/bench/chaos-nodes.yaml: demo worker subprocesses, a 2 s lease), one node drained and one
 * killed under steady traffic. The audit must find every event once across the nodes, and each
 * session's turn count must go on where it was. The run waits for its two faults
 * ({@code --min-node-faults}), so nothing here depends on how fast the machine is; every process it
 * started is gone when it returns.
 *
 * <p>The users' own cuts stay on (turns then often run back to back, queued behind a cut): a node
 * killed during the second of two back-to-back turns must name that turn in session_moved, which
 * an earlier gateway did not (it stored a turn's id only when the session's status changed).
 */
class NodesIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path GATEWAY_JAR = ROOT.resolve("gateway/target/gateway.jar");

    @BeforeAll
    static void gatewayIsBuilt() {
        assertTrue(
                Files.isRegularFile(GATEWAY_JAR),
                GATEWAY_JAR + " is missing: run with the gateway module,"
                        + " e.g. mvn -pl gateway,loadtest -am verify");
        assertTrue(
                Files.isExecutable(Path.of("/usr/bin/redis-server")),
                "redis-server is missing (Debian's redis-server package)");
    }

    @Test
    void aDrainAndAKillLoseNothingAndTheTurnCountsGoOn(@TempDir Path out) throws Exception {
        Set<Long> before = descendants();
        int exit = Main.run(new String[] {
            "chaos",
            "--out",
            out.toString(),
            "--no-progress",
            "--seed",
            "7",
            "--launch-gateway",
            "--gateway-jar",
            GATEWAY_JAR.toString(),
            "--gateway-config",
            ROOT.resolve("config/bench/chaos-nodes.yaml").toString(),
            "--nodes",
            "3",
            "--node-faults",
            "drain,kill",
            "--min-node-faults",
            "2",
            "--node-fault-interval",
            "1s",
            "--node-down",
            "500ms",
            "--sessions",
            "6",
            "--rate",
            "12",
            "--duration",
            "8s",
            "--warmup",
            "1s"
        });
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        String text = Files.readString(out.resolve("report.txt"));
        assertEquals(0, exit, "exit code; report:\n" + text);
        JsonNode audit = report.path("audit");
        assertTrue(audit.path("passed").asBoolean(), text);
        assertEquals(0, audit.path("violation_count").asLong(), text);
        assertEquals(0, audit.path("lost").asLong(), text);
        assertEquals(0, audit.path("duplicates_delivered").asLong(), text);
        assertEquals(0, report.path("errors").size(), text);
        assertTrue(
                audit.path("turn_counts_checked").asLong() > 0,
                "results carried the demo worker's turn count: " + audit);

        JsonNode nodes = report.path("nodes");
        assertEquals(3, nodes.path("nodes").asInt(), nodes.toString());
        assertTrue(nodes.path("faults_drain").asLong() >= 1, nodes.toString());
        assertTrue(nodes.path("faults_kill").asLong() >= 1, nodes.toString());
        assertTrue(nodes.path("handoffs").asLong() > 0, "sessions moved between nodes: " + nodes);
        assertTrue(nodes.path("notice_session_moved").asLong() > 0, nodes.toString());
        assertEquals(
                6,
                report.path("sessions_end").path("ended").asInt(),
                report.path("sessions_end").toString());

        List<Long> left =
                descendants().stream().filter(pid -> !before.contains(pid)).toList();
        assertEquals(List.of(), left, "processes the run started and left behind");
    }

    /** This JVM's live descendant processes (the run's redis-server, gateways and their workers, while they live). */
    private static Set<Long> descendants() {
        return ProcessHandle.current()
                .descendants()
                .filter(ProcessHandle::isAlive)
                .map(ProcessHandle::pid)
                .collect(Collectors.toSet());
    }
}
