package dev.tether.loadtest.scenario;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.loadtest.report.ReportBuilder;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * How the sessions of a run were left when it finished, for the report's {@code sessions_end}
 * section: each ended with {@code end} (the default: the gateway stops its worker at once), or all
 * left detached for a later resume ({@code --leave-sessions}), where they wait out the gateway's
 * reconnect window. Immutable.
 *
 * @param leave         the sessions were left, not ended
 * @param sessions      sessions open at the end of the run (the fleet's connected users)
 * @param ended         sessions the gateway ended on {@code end} (close 1000 after {@code status ended client_end})
 * @param alreadyEnded  sessions that had ended before (a resume refused, a worker that failed): nothing to end
 * @param failed        sessions whose end failed, by what happened ({@code timeout}, {@code close_4011}, ...)
 */
record Ending(boolean leave, int sessions, int ended, int alreadyEnded, Map<String, Long> failed) {

    /** What to do with the sessions at the end: leave them, or end each and wait at most {@code timeout} for all. */
    record Policy(boolean leave, Duration timeout) {
        Policy {
            requireNonNull(timeout, "timeout");
        }
    }

    Ending {
        failed = Map.copyOf(new TreeMap<>(failed));
    }

    /** Sessions whose end failed, of every kind. */
    long failures() {
        return failed.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * The report section; {@code liveAfter} is the gateway's own count of live sessions afterwards
     * ({@code tether_sessions} on its {@code /metrics}), when it could be read.
     */
    ObjectNode toJson(OptionalLong liveAfter) {
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
