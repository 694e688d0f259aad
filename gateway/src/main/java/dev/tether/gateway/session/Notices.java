package dev.tether.gateway.session;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.worker.WorkerExit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The notices a session shows in its history (docs/protocol.md, "Notices"): each one's code, text
 * and details, in one place. Pure functions: {@link Session} decides when a notice is due and
 * numbers it. {@code turnId} is the running turn's id, or null when none runs; it is then left out.
 */
final class Notices {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** A notice before it is numbered. */
    record Notice(String code, String message, ObjectNode details) {}

    private Notices() {}

    static Notice endedByOperator() {
        return new Notice(EndReason.ENDED_BY_OPERATOR.wire(), "an operator ended the session", null);
    }

    /** The session continued here from {@code fromNode}; {@code lostTurnId} ran there and was lost. */
    static Notice sessionMoved(String fromNode, String lostTurnId) {
        return new Notice(
                "session_moved",
                lostTurnId == null
                        ? "the session moved to another gateway node"
                        : "the session moved to another gateway node; the running turn was lost",
                withTurnId(JSON.objectNode().put("from_node", fromNode), lostTurnId));
    }

    static Notice workerRestarted(String reason) {
        return new Notice(
                "worker_restarted", "a new worker took over", JSON.objectNode().put("reason", reason));
    }

    static Notice workerCrashed(WorkerExit exit, String turnId) {
        return new Notice(
                "worker_crashed",
                "the worker stopped unexpectedly (" + exit.description() + ")",
                withTurnId(JSON.objectNode().put("exit_code", exit.code()).put("signal", exit.signal()), turnId));
    }

    static Notice overRssHardLimit(long rssBytes, long limitBytes, String turnId) {
        return new Notice(
                "worker_killed",
                "the worker used more memory than the hard limit and was stopped",
                withTurnId(JSON.objectNode().put("rss_bytes", rssBytes).put("limit_bytes", limitBytes), turnId));
    }

    /**
     * The kernel killed the worker at its control group's memory limit ({@code limits.rss_hard_limit});
     * {@code peakBytes} is the most its group used (left out when unknown).
     */
    static Notice killedAtMemoryLimit(long peakBytes, long limitBytes, String turnId) {
        ObjectNode details = JSON.objectNode().put("reason", "memory_limit");
        if (peakBytes >= 0) {
            details.put("rss_bytes", peakBytes);
        }
        return new Notice(
                "worker_killed",
                "the worker reached the memory limit and the kernel stopped it",
                withTurnId(details.put("limit_bytes", limitBytes), turnId));
    }

    static Notice overRssSoftLimit(long rssBytes, long limitBytes) {
        return new Notice(
                "restart_scheduled",
                "the worker uses more memory than the soft limit and will be replaced " + "when the current turn ends",
                JSON.objectNode().put("rss_bytes", rssBytes).put("limit_bytes", limitBytes));
    }

    /** The worker's directory holds at least {@code bytes}, over {@code worker.process.disk_soft_limit}. */
    static Notice diskWarning(long bytes, long limitBytes) {
        return new Notice(
                "disk_warning",
                "the worker's working directory uses more disk than the soft limit",
                JSON.objectNode().put("disk_bytes", bytes).put("limit_bytes", limitBytes));
    }

    /** Over {@code worker.process.disk_hard_limit}: the worker is killed and replaced. */
    static Notice diskLimit(long bytes, long limitBytes, String turnId) {
        return new Notice(
                "disk_limit",
                "the worker's working directory used more disk than the hard limit: the worker was stopped",
                withTurnId(JSON.objectNode().put("disk_bytes", bytes).put("limit_bytes", limitBytes), turnId));
    }

    /** The running turn's worker said nothing for {@code timeout} ({@code limits.turn_stall_timeout}). */
    static Notice turnStalled(String turnId, Duration timeout) {
        return new Notice(
                "turn_stalled",
                "the worker has said nothing about this turn for " + timeout.toSeconds() + " s",
                JSON.objectNode().put("turn_id", turnId).put("silent_seconds", timeout.toSeconds()));
    }

    /** The running turn's worker said nothing for {@code silent}, even after an interrupt: replaced. */
    static Notice stalledWorkerReplaced(Duration silent, String turnId) {
        return new Notice(
                "worker_killed",
                "the worker said nothing for " + silent.toSeconds() + " s, even after an interrupt, and was replaced",
                withTurnId(JSON.objectNode().put("reason", "stalled"), turnId));
    }

    static Notice durationWarning(Instant endsAt) {
        return new Notice(
                "duration_warning",
                "the session will end at its maximum duration",
                JSON.objectNode().put("ends_at", endsAt.getEpochSecond()));
    }

    /** A granted {@code extend}: the session now ends at {@code endsAt}; {@code left} more may be granted. */
    static Notice durationExtended(Instant endsAt, int left) {
        return new Notice(
                "duration_extended",
                "the session's end moved later",
                JSON.objectNode().put("ends_at", endsAt.getEpochSecond()).put("extensions_left", left));
    }

    /** The owner's token, refreshed, carries other values for the forwarded claims {@code names}. */
    static Notice claimsChanged(List<String> names) {
        ObjectNode details = JSON.objectNode();
        names.forEach(details.putArray("claims")::add);
        return new Notice("claims_changed", "the worker was given the refreshed token's claims", details);
    }

    /** The names whose values differ between {@code before} (null: none) and {@code after}, sorted. */
    static List<String> changedClaims(ObjectNode before, ObjectNode after) {
        Set<String> names = new TreeSet<>();
        after.fieldNames().forEachRemaining(names::add);
        if (before != null) {
            before.fieldNames().forEachRemaining(names::add);
        }
        List<String> changed = new ArrayList<>();
        for (String name : names) {
            if (before == null || !java.util.Objects.equals(before.get(name), after.get(name))) {
                changed.add(name);
            }
        }
        return changed;
    }

    static Notice durationLimit(Duration grace) {
        return new Notice(
                "duration_limit",
                "maximum duration reached: the running turn may finish",
                JSON.objectNode().put("grace_seconds", grace.toSeconds()));
    }

    static Notice requestRepeated(String requestId) {
        return new Notice(
                "worker_protocol_error",
                "the worker sent request " + requestId + " again: ignored",
                JSON.objectNode().put("request_id", requestId));
    }

    static Notice requestRefused(String requestId, int maxPending) {
        return new Notice(
                "request_refused",
                "the worker asked more than " + maxPending + " questions at once: one was refused",
                JSON.objectNode().put("request_id", requestId).put("max_pending_requests", maxPending));
    }

    static Notice storeUnavailable() {
        return new Notice(
                "store_unavailable",
                "the session store cannot be reached: the session goes on here and its "
                        + "history is written when the store is back",
                null);
    }

    static Notice storeAvailable() {
        return new Notice(
                "store_available", "the session store is reachable again: the session's history is stored", null);
    }

    /** Names the turn a lost worker took with it, so the client knows which message got no result. */
    private static ObjectNode withTurnId(ObjectNode details, String turnId) {
        if (turnId != null) {
            details.put("turn_id", turnId);
        }
        return details;
    }
}
