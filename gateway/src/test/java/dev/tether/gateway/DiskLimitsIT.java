package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.gateway.worker.process.ProcessWorker;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The disk limits of a worker's working directory (contract 8.6) end to end: real demo-worker
 * subprocesses that write files, behind a real gateway measuring their directories.
 */
class DiskLimitsIT {

    /** Directories measured every 50 ms, 1,000 entries a step; warning over 8 MiB, replaced over 32 MiB. */
    @RegisterExtension
    static final GatewayExtension disk = DemoWorkers.gateway("disk", """
            worker:
              process:
                disk_soft_limit: 8MiB
                disk_hard_limit: 32MiB
                disk_poll_interval: 50ms
                disk_scan_entries: 1000
            """);

    @Test
    void aWorkerFillingItsDirectoryIsWarnedThenReplacedAndOthersGoOn() {
        try (SessionClient c = SessionClient.openIdle(disk, "disk-filler");
                SessionClient other = SessionClient.openIdle(disk, "disk-bystander")) {
            ProcessWorker first = worker(c.sessionId());

            c.sendAccepted("some", "{\"write_mb\":12,\"deltas\":0}", 0);
            // The warning may come before or after the turn's end: wait for both.
            List<ServerMessage> firstTurn = new ArrayList<>(c.untilTag("status:idle"));
            if (!historyTags(firstTurn).contains("notice:disk_warning")) {
                firstTurn.addAll(c.untilTag("notice:disk_warning"));
            }
            JsonNode warning = notice(firstTurn, "disk_warning").details();
            assertTrue(warning.path("disk_bytes").asLong() > 8L << 20, warning::toString);
            assertEquals(8L << 20, warning.path("limit_bytes").asLong());
            other.roundTrip("still", "{\"text\":\"fine\",\"deltas\":1,\"delay_ms\":0}");

            c.sendAccepted("more", "{\"write_mb\":40,\"deltas\":0,\"hang\":true}", 0);
            List<ServerMessage> seen = c.untilTag("status:idle");
            List<String> history = historyTags(seen).stream()
                    .filter(t -> !t.startsWith("event:"))
                    .toList();
            assertEquals(
                    List.of(
                            "status:processing",
                            "notice:disk_limit",
                            "status:restarting:disk_limit",
                            "notice:worker_restarted",
                            "status:idle"),
                    history.subList(history.indexOf("status:processing"), history.size()));
            JsonNode limit = notice(seen, "disk_limit").details();
            assertEquals("more", limit.path("turn_id").asText());
            assertTrue(limit.path("disk_bytes").asLong() > 32L << 20, limit::toString);
            assertEquals(32L << 20, limit.path("limit_bytes").asLong());
            assertEquals(
                    "disk_limit",
                    notice(seen, "worker_restarted").details().path("reason").asText());

            ProcessWorker replacement = worker(c.sessionId());
            assertNotEquals(first.pid(), replacement.pid());
            assertNotEquals(first.workDir(), replacement.workDir(), "the replacement starts in a fresh directory");
            Poll.until(
                    "the replaced worker is gone",
                    () -> !ProcessTree.running(first.pid().getAsLong()));
            Poll.until("its directory is removed", () -> !Files.exists(first.workDir()));
            c.roundTrip("after", "{\"text\":\"fresh\",\"deltas\":1,\"delay_ms\":0}");
            other.roundTrip("still-after", "{\"text\":\"fine\",\"deltas\":1,\"delay_ms\":0}");
        }
    }

    @Test
    void aLinkToABigDirectoryOutsideIsNotFollowed() throws Exception {
        try (SessionClient c = SessionClient.openIdle(disk, "disk-linker")) {
            Path dir = worker(c.sessionId()).workDir();
            Files.createSymbolicLink(dir.resolve("root"), Path.of("/"));
            Files.createSymbolicLink(dir.resolve("usr"), Path.of("/usr"));
            List<ServerMessage> seen = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                seen.addAll(c.roundTrip("turn-" + i, "{\"text\":\"a\",\"deltas\":1,\"delay_ms\":100}"));
            }
            assertFalse(historyTags(seen).contains("notice:disk_warning"), historyTags(seen)::toString);
            assertFalse(historyTags(seen).contains("notice:disk_limit"), historyTags(seen)::toString);
        }
    }

    private static ProcessWorker worker(String sessionId) {
        return Poll.present(
                "session " + sessionId + " has a process worker",
                () -> disk.server()
                        .registry()
                        .get(sessionId)
                        .map(Session::currentWorker)
                        .filter(ProcessWorker.class::isInstance)
                        .map(ProcessWorker.class::cast));
    }
}
