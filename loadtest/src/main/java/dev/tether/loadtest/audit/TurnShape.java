package dev.tether.loadtest.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Compares the deltas a turn delivered with the ones its message asked for and names the
 * difference: one missing, one twice, two swapped, one with the wrong text, a result that came
 * before the last ones, or something else. Pure functions.
 */
final class TurnShape {

    /**
     * What was wrong; {@code kind} null means nothing, and then {@code holeAt} (when not -1) is where,
     * among the deltas received, a run of them a replay_gap explains is missing (before the
     * {@code holeAt}-th one received), described by {@code detail}.
     */
    record Finding(ViolationKind kind, String detail, int holeAt) {
        static final Finding OK = new Finding(null, null, -1);

        Finding(ViolationKind kind, String detail) {
            this(kind, detail, -1);
        }

        boolean ok() {
            return kind == null;
        }
    }

    private TurnShape() {}

    /**
     * The deltas {@code got} of a turn whose result came, against the {@code expected} ones.
     *
     * @param holeAllowed a replay_gap hit the turn: one run of missing deltas is accounted for
     */
    static Finding complete(List<String> expected, List<String> got, boolean holeAllowed) {
        if (expected.equals(got)) {
            return Finding.OK;
        }
        if (holeAllowed) {
            int[] hole = hole(expected, got);
            if (hole != null) {
                return new Finding(
                        null,
                        "deltas " + (hole[0] + 1) + ".." + hole[1] + " of " + expected.size() + " lost in a replay_gap",
                        hole[0]);
            }
        }
        if (got.size() < expected.size() && isPrefix(got, expected)) {
            return new Finding(
                    ViolationKind.RESULT_WITHOUT_DELTAS,
                    "result after " + got.size() + " of " + expected.size() + " deltas; missing "
                            + quote(expected.subList(got.size(), expected.size())));
        }
        return differences(expected, got);
    }

    /**
     * The deltas {@code got} of a turn that ended without its result (a worker crash, an interrupt):
     * they must be the first ones of {@code expected}.
     */
    static Finding prefix(List<String> expected, List<String> got, boolean holeAllowed) {
        if (got.size() <= expected.size() && isPrefix(got, expected)) {
            return Finding.OK;
        }
        if (holeAllowed) {
            int[] hole = hole(expected, got);
            if (hole != null) {
                return new Finding(null, "deltas " + (hole[0] + 1) + ".." + hole[1] + " lost in a replay_gap", hole[0]);
            }
        }
        return differences(expected.subList(0, Math.min(expected.size(), got.size())), got);
    }

    /** A single run of deltas missing from {@code got} ({@code [from, to)} in {@code expected}), or null. */
    private static int[] hole(List<String> expected, List<String> got) {
        if (got.size() > expected.size()) {
            return null;
        }
        int p = 0;
        while (p < got.size() && Objects.equals(got.get(p), expected.get(p))) {
            p++;
        }
        int s = 0;
        while (s < got.size() - p
                && Objects.equals(got.get(got.size() - 1 - s), expected.get(expected.size() - 1 - s))) {
            s++;
        }
        return p + s == got.size() ? new int[] {p, expected.size() - s} : null;
    }

    private static Finding differences(List<String> expected, List<String> got) {
        int n = expected.size();
        if (got.size() == n - 1) {
            for (int i = 0; i < n; i++) {
                if (without(expected, i).equals(got)) {
                    return new Finding(
                            ViolationKind.DELTA_MISSING,
                            "delta " + (i + 1) + " of " + n + " " + quote(expected.get(i)) + " never came; got "
                                    + quote(got));
                }
            }
        }
        if (got.size() == n + 1) {
            for (int i = 0; i < got.size(); i++) {
                if (without(got, i).equals(expected) && expected.contains(got.get(i))) {
                    return new Finding(
                            ViolationKind.DELTA_DUPLICATED,
                            "delta " + quote(got.get(i)) + " came twice; got " + quote(got));
                }
            }
        }
        if (got.size() == n) {
            List<Integer> differ = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (!Objects.equals(expected.get(i), got.get(i))) {
                    differ.add(i);
                }
            }
            if (differ.size() == 2
                    && differ.get(1) == differ.get(0) + 1
                    && Objects.equals(expected.get(differ.get(0)), got.get(differ.get(1)))
                    && Objects.equals(expected.get(differ.get(1)), got.get(differ.get(0)))) {
                return new Finding(
                        ViolationKind.DELTA_REORDERED,
                        "deltas " + (differ.get(0) + 1) + " and " + (differ.get(1) + 1) + " of " + n + " swapped; got "
                                + quote(got));
            }
            if (differ.size() == 1) {
                int i = differ.get(0);
                return new Finding(
                        ViolationKind.DELTA_CORRUPT,
                        "delta " + (i + 1) + " of " + n + " was " + quote(got.get(i)) + ", expected "
                                + quote(expected.get(i)));
            }
        }
        return new Finding(ViolationKind.DELTA_MISMATCH, "expected " + quote(expected) + ", got " + quote(got));
    }

    private static boolean isPrefix(List<String> prefix, List<String> of) {
        return prefix.equals(of.subList(0, prefix.size()));
    }

    private static List<String> without(List<String> list, int index) {
        List<String> copy = new ArrayList<>(list);
        copy.remove(index);
        return copy;
    }

    /** A short, quoted form for violation details. */
    static String quote(Object value) {
        String s = value instanceof String text ? "\"" + text + "\"" : String.valueOf(value);
        return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }
}
