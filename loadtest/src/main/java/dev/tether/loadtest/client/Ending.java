package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * How the sessions of a run were left when it finished, for the report's {@code sessions_end}
 * section: each ended with {@code end} (the default: the gateway stops its worker at once), or all
 * left detached for a later resume ({@code --leave-sessions}), where they wait out the gateway's
 * reconnect window. The same for both clients' fleets. Immutable.
 *
 * @param leave         the sessions were left, not ended
 * @param sessions      sessions open at the end of the run (the fleet's connected users)
 * @param ended         sessions the gateway ended on {@code end} (close 1000 after {@code status ended client_end})
 * @param alreadyEnded  sessions that had ended before (a resume refused, a worker that failed): nothing to end
 * @param failed        sessions whose end failed, by what happened ({@code timeout}, {@code close_4011}, ...)
 */
public record Ending(boolean leave, int sessions, int ended, int alreadyEnded, Map<String, Long> failed) {

    /** What to do with the sessions at the end: leave them, or end each and wait at most {@code timeout} for all. */
    public record Policy(boolean leave, Duration timeout) {
        public Policy {
            requireNonNull(timeout, "timeout");
        }
    }

    public Ending {
        failed = Map.copyOf(new TreeMap<>(failed));
    }

    /** {@code sessions} sessions left detached. */
    public static Ending left(int sessions) {
        return new Ending(true, sessions, 0, 0, Map.of());
    }

    /**
     * Waits (together at most {@code timeout}) for the {@code ends} of every session, and counts what
     * failed in the stats' errors ({@code end_<kind>}).
     */
    public static Ending of(List<CompletableFuture<EndOutcome>> ends, Duration timeout, RunStats stats)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int ended = 0;
        int alreadyEnded = 0;
        Map<String, Long> failed = new TreeMap<>();
        for (CompletableFuture<EndOutcome> end : ends) {
            EndOutcome outcome = EndOutcome.await(end, deadline);
            if (outcome.ended()) {
                ended++;
            } else if (EndOutcome.ALREADY_ENDED.equals(outcome)) {
                alreadyEnded++;
            } else {
                failed.merge(outcome.detail(), 1L, Long::sum);
                stats.error("end_" + outcome.detail());
            }
        }
        return new Ending(false, ends.size(), ended, alreadyEnded, failed);
    }

    /** Sessions whose end failed, of every kind. */
    public long failures() {
        return failed.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * The report section; {@code liveAfter} is the gateway's own count of live sessions afterwards
     * ({@code tether_sessions} on its {@code /metrics}), when it could be read.
     */
    public ObjectNode toJson(OptionalLong liveAfter) {
        ObjectNode node = ReportBuilder.object().put("left", leave).put("sessions", sessions);
        if (!leave) {
            node.put("ended", ended).put("already_ended", alreadyEnded).put("failed", failures());
            ObjectNode kinds = node.putObject("failures");
            failed.forEach(kinds::put);
        }
        if (liveAfter.isPresent()) {
            node.put("gateway_live_sessions", liveAfter.getAsLong());
        }
        return node;
    }
}
