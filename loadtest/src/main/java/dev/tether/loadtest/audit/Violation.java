package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

/**
 * One broken promise found by the audit: which session, what {@code kind} (the {@link
 * ViolationKind#wire()} name) and the seqs, message ids or contents involved.
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
