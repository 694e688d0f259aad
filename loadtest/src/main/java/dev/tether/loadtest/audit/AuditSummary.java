package dev.tether.loadtest.audit;

import java.util.ArrayList;
import java.util.List;

/**
 * The audits of every virtual user of a run added up: what the report's {@code audit} section
 * shows. Built once, after the run, on the scenario's thread.
 */
public record AuditSummary(int sessions, long events, long duplicatesDropped, long duplicatesDelivered,
                           long lost, long gaps, long crashedTurns, long violationCount, List<Violation> violations) {

    private static final int MAX_LISTED = 200;

    public AuditSummary {
        violations = List.copyOf(violations);
    }

    /** Whether no virtual user found a violation. */
    public boolean passed() {
        return violationCount == 0;
    }

    /** Adds up {@code audits} (each already {@link StreamAudit#finish() finished}). */
    public static AuditSummary of(List<StreamAudit> audits) {
        long events = 0;
        long dropped = 0;
        long duplicated = 0;
        long lost = 0;
        long gaps = 0;
        long crashed = 0;
        long count = 0;
        List<Violation> listed = new ArrayList<>();
        for (StreamAudit audit : audits) {
            events += audit.delivered();
            dropped += audit.duplicatesDropped();
            duplicated += audit.duplicatesDelivered();
            lost += audit.lost();
            gaps += audit.gaps();
            crashed += audit.crashedTurns();
            count += audit.violationCount();
            for (Violation v : audit.violations()) {
                if (listed.size() < MAX_LISTED) {
                    listed.add(v);
                }
            }
        }
        return new AuditSummary(audits.size(), events, dropped, duplicated, lost, gaps, crashed, count, listed);
    }
}
