package dev.tether.loadtest.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * The audits of every virtual user of a run added up: what the report's {@code audit} section
 * shows. Built once, after the run, on the scenario's thread.
 *
 * @param sessions              sessions audited (a user whose session expired and who started another counts two)
 * @param events                numbered messages delivered for the first time
 * @param replayedNew           of those, delivered by a resume's replay: events that crossed a cut
 * @param replayedSeen          events replayed again after the client had seen them (resumes below what it had
 *                              processed), each compared with its first delivery
 * @param resumes               resumes answered with {@code session_ready}
 * @param resumesReplayingNew   resumes whose replay carried at least one new event
 * @param lost                  events announced lost by {@code replay_gap} that the client had not seen
 * @param gaps                  {@code replay_gap}s received
 * @param gapsWithoutLoss       of those, gaps over seqs the client had all seen already (it resumed below them)
 * @param lostRanges            the gaps that cost events, with the messages they hit (at most 200 listed)
 * @param messages              message ids sent (resends not counted again)
 * @param answered              turns that ended with their result (content checked unless unpredictable)
 * @param deltasChecked         deltas compared with their expected text
 * @param unpredictableTurns    turns whose messages asked for something the model cannot foresee: counted, not checked
 * @param crashedTurns          turns lost with their worker (a {@code worker_crashed} notice names them)
 * @param interruptedTurns      turns answered with an interrupted result (while their client was away)
 * @param refusedMessages       messages refused by an error naming them (queue_full ...; the error fails the run)
 * @param expiredSessions       sessions that came back {@code session_expired} on a resume
 * @param expiredMessages       messages whose answers went with an expired session
 * @param gapHitMessages        messages whose turns a replay_gap hit
 * @param duplicatesAcknowledged {@code accepted} with {@code duplicate: true}: resends recognised
 * @param violationCount        violations found, all kinds
 * @param violationKinds        violations by kind
 * @param violations            the first 200 violations, with their details
 * @param turnCountsChecked     results whose {@code turn} count (demo worker) was checked for continuity
 */
public record AuditSummary(
        int sessions,
        long events,
        long replayedNew,
        long replayedSeen,
        long resumes,
        long resumesReplayingNew,
        long lost,
        long gaps,
        long gapsWithoutLoss,
        List<LostRange> lostRanges,
        long messages,
        long answered,
        long deltasChecked,
        long unpredictableTurns,
        long crashedTurns,
        long interruptedTurns,
        long refusedMessages,
        long expiredSessions,
        long expiredMessages,
        long gapHitMessages,
        long duplicatesAcknowledged,
        long violationCount,
        Map<String, Long> violationKinds,
        List<Violation> violations,
        long turnCountsChecked) {

    private static final int MAX_LISTED = 200;

    public AuditSummary {
        lostRanges = List.copyOf(lostRanges);
        violationKinds = Map.copyOf(violationKinds);
        violations = List.copyOf(violations);
    }

    /** Whether no virtual user found a violation. */
    public boolean passed() {
        return violationCount == 0;
    }

    /** Adds up {@code audits} (each already {@link StreamAudit#finish() finished}). */
    public static AuditSummary of(List<StreamAudit> audits) {
        List<SessionAudit> all = new ArrayList<>();
        audits.forEach(a -> all.addAll(a.sessions()));
        List<LostRange> ranges = new ArrayList<>();
        List<Violation> listed = new ArrayList<>();
        Map<String, Long> kinds = new TreeMap<>();
        for (SessionAudit s : all) {
            s.violationKinds().forEach((k, v) -> kinds.merge(k, v, Long::sum));
            s.lostRanges().stream().limit(MAX_LISTED - ranges.size()).forEach(ranges::add);
            s.violations().stream().limit(MAX_LISTED - listed.size()).forEach(listed::add);
        }
        return new AuditSummary(
                all.size(),
                sum(all, SessionAudit::events),
                sum(all, SessionAudit::replayedNew),
                sum(all, SessionAudit::replayedSeen),
                sum(all, SessionAudit::resumes),
                sum(all, SessionAudit::resumesReplayingNew),
                sum(all, SessionAudit::lost),
                sum(all, SessionAudit::gaps),
                sum(all, SessionAudit::gapsOnlySeen),
                ranges,
                sum(all, SessionAudit::messagesSent),
                sum(all, SessionAudit::answeredTurns),
                sum(all, SessionAudit::deltasChecked),
                sum(all, SessionAudit::unpredictableTurns),
                sum(all, SessionAudit::crashedTurns),
                sum(all, SessionAudit::interruptedTurns),
                sum(all, SessionAudit::refusedMessages),
                sum(all, s -> s.expired() ? 1 : 0),
                sum(all, SessionAudit::expiredMessages),
                sum(all, SessionAudit::gapHitMessages),
                sum(all, SessionAudit::duplicatesAcknowledged),
                sum(all, SessionAudit::violationCount),
                kinds,
                listed,
                sum(all, SessionAudit::turnsChecked));
    }

    private static long sum(List<SessionAudit> sessions, ToLongFunction<SessionAudit> figure) {
        return sessions.stream().mapToLong(figure).sum();
    }
}
