package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

/**
 * One broken promise found by a {@link StreamAudit}: which session, what {@code kind} (one of the
 * {@code StreamAudit.*} constants) and the seqs or message ids involved.
 */
public record Violation(String session, String kind, String detail) {
    public Violation {
        requireNonNull(session, "session");
        requireNonNull(kind, "kind");
        requireNonNull(detail, "detail");
    }

    @Override
    public String toString() {
        return "session " + session + ": " + kind + ": " + detail;
    }
}
