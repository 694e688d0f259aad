package dev.tether.loadtest.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.client.ClientSettings;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.ScenarioUser;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code resume} (benchmark figure 4): a user sends a message whose turn produces {@code --missed}
 * events (the demo worker's {@code deltas} command, no delay), disconnects at once, stays away for
 * {@code --detach-wait} while the worker produces them into the replay buffer, then resumes with
 * its {@code last_seq}; the figure is the time from the resume request to the last missed event
 * (the seq that {@code session_ready} named as newest). Repeated {@code --repeats} times.
 */
@Command(
        name = "resume",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Disconnect while the worker produces --missed events, resume with last_seq; time to the last missed event.",
            "Defaults: --sessions 1 --repeats 20 --missed 1000; --launch-gateway uses config/bench/demo.yaml (demo worker)."
        })
public final class ResumeCommand extends ScenarioCommand {

    @Mixin
    ClientOptions client;

    @Option(
            names = "--repeats",
            defaultValue = "20",
            description = "disconnect/resume cycles per session (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(
            names = "--missed",
            defaultValue = "1000",
            description =
                    "events the worker produces while the client is away (demo worker deltas) (default: ${DEFAULT-VALUE})")
    int missed;

    @Option(
            names = "--detach-wait",
            converter = Durations.class,
            defaultValue = "2s",
            description = "time away before resuming, long enough for the worker to finish (default: ${DEFAULT-VALUE})")
    Duration detachWait;

    @Override
    void validate() {
        client.validate();
        if (repeats < 1 || missed < 1) {
            throw new IllegalArgumentException("--repeats and --missed: expected >= 1");
        }
    }

    @Override
    ObjectNode execute() throws Exception {
        RunStats stats = new RunStats();
        Instant startedAt = Instant.now();
        int n = common.sessions(1);
        try (Target target = Target.gateway(common, "config/bench/demo.yaml", Duration.ofSeconds(1), 10)) {
            ClientSettings settings = clientSettings(target, stats, 0, Duration.ofSeconds(60));
            try (Clients.Users fleet = Clients.open(client, settings, common.subjectPrefix, !common.noProgress)) {
                WarmStart warm = WarmStart.prepare(fleet, target, common.clientWarmup, System.err);
                long start = System.nanoTime();
                Traffic.countRefusals(fleet.connect(n, common.connectRate(200), Duration.ofSeconds(60)), stats);
                List<? extends ScenarioUser> users = fleet.connected();
                if (users.isEmpty()) {
                    throw new SetupException("no session could be opened at " + target.uri());
                }
                awaitWorkers(users);
                JsonNode data = JsonNodeFactory.instance
                        .objectNode()
                        .put("text", "resume")
                        .put("deltas", missed)
                        .put("delay_ms", 0);
                Progress progress = Progress.count(!common.noProgress, "resume", repeats, "rounds");
                for (int round = 0; round < repeats; round++) {
                    for (ScenarioUser user : users) {
                        user.send(user.newId(), data, System.nanoTime());
                        user.cut(false, detachWait);
                    }
                    long deadline = System.nanoTime() + detachWait.toNanos() + common.drainTimeout.toNanos();
                    for (ScenarioUser user : users) {
                        if (!user.awaitCaughtUp(deadline)) {
                            stats.error("resume_unanswered");
                        }
                    }
                    progress.step("resumes " + stats.counter("resumes") + " | missed events replayed "
                            + stats.counter("missed_events") + " | errors " + stats.errorCount());
                }
                progress.close();
                double elapsedS = (System.nanoTime() - start) / 1e9;
                Fleet.Finish finish = fleet.finish(common.drainTimeout, common.ending());
                ObjectNode section = ReportBuilder.object()
                        .put("repeats", repeats)
                        .put("sessions", users.size())
                        .put("missed_per_resume", missed)
                        .put("detach_wait_s", Durations.seconds(detachWait))
                        .put("resumes", stats.counter("resumes"))
                        .put("missed_events_replayed", stats.counter("missed_events"));
                return report("resume", target, startedAt, elapsedS, stats, finish, section, warm);
            }
        }
    }

    /** Waits (up to a minute) for cold workers, so that the first round measures resume, not start-up. */
    private static void awaitWorkers(List<? extends ScenarioUser> users) {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (System.nanoTime() < deadline && !users.stream().allMatch(ScenarioUser::workerReady)) {
            LockSupport.parkNanos(10_000_000);
        }
    }
}
