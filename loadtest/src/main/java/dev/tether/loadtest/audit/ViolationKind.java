package dev.tether.loadtest.audit;

/**
 * Every broken promise the audit can name, with its name in reports ({@link #wire()}) and what it
 * means. The first group is about the numbered stream (contract sections 2 and 3), checked without
 * trusting the gateway's numbering: each seq's content is remembered and every later delivery of
 * it compared. The second is about turns: each message asks its worker for a stream the audit can
 * predict ({@link TurnModel}), and every delta and result is checked against it.
 */
public enum ViolationKind {
    // ---- the numbered stream ----
    /** A connection skipped seqs that no {@code replay_gap} announced. */
    SEQ_GAP("seq_gap", "seqs skipped on a connection without a replay_gap"),
    /** The same seq twice on one connection. */
    SEQ_REPEATED("seq_repeated", "a seq delivered twice on one connection"),
    /** A seq lower than one already delivered on the same connection. */
    SEQ_OUT_OF_ORDER("seq_out_of_order", "a seq below one already delivered on the same connection"),
    /**
     * The gateway numbered new output with a seq it had used before: {@code session_ready.last_seq}
     * (or a refused resume, 4009) below a seq already delivered, or live output under a seq seen before.
     */
    SEQ_REUSED("seq_reused", "a seq used again for other output, or the newest seq going backwards"),
    /** A replayed seq whose content differs from what that seq carried when it was first seen. */
    REPLAY_MISMATCH("replay_mismatch", "a replay of a seq with different content"),
    /** A resume replayed seqs at or below the {@code last_seq} it was given. */
    IGNORED_LAST_SEQ("ignored_last_seq", "a resume replayed seqs at or below its last_seq"),
    /** A connection answered a later request ({@code pong}) before it had delivered every seq up to its {@code session_ready.last_seq}. */
    SHORT_TAIL("short_tail", "a stream that ended short of session_ready.last_seq"),
    /** A {@code replay_gap} that does not start right after {@code last_seq}, is empty, lies beyond {@code session_ready.last_seq} or comes after the replay began. */
    BAD_REPLAY_GAP("bad_replay_gap", "a replay_gap that does not match the resume"),
    /** Events the gateway reported lost ({@code replay_gap}), in a run not started with {@code --allow-gaps}. */
    REPLAY_GAP("replay_gap", "events reported lost by replay_gap without --allow-gaps"),
    /** A resume answered with another session's id. */
    SESSION_CHANGED("session_changed", "a resume answered with another session id"),
    /** A resume answered {@code resumed: false}, or a new session {@code resumed: true}. */
    NOT_RESUMED("not_resumed", "resumed: false on a resume (or true on a new session)"),
    /** A session this user held, resumed well within the reconnect window, came back {@code session_expired}. */
    PREMATURE_EXPIRY("premature_expiry", "session_expired on a resume well within the reconnect window"),
    /** A session resumed although its client stayed away clearly longer than the reconnect window. */
    OUTLIVED_WINDOW("outlived_window", "a resume succeeded after the reconnect window had clearly passed"),
    /** A resume of a session this user held was answered {@code session_not_found}. */
    SESSION_NOT_FOUND("session_not_found", "a session this user held was not found"),
    /** Two connections of one session both got the same seq as live output: two owners at once. */
    TWO_OWNERS("two_owners", "two connections owning one session at once"),

    // ---- turns ----
    /** A delta of the expected stream never came, while later ones did. */
    DELTA_MISSING("delta_missing", "a delta missing from a turn"),
    /** A delta came twice. */
    DELTA_DUPLICATED("delta_duplicated", "a delta delivered twice"),
    /** Two deltas came in the wrong order. */
    DELTA_REORDERED("delta_reordered", "two deltas in the wrong order"),
    /** A delta whose text is not the expected one at its place. */
    DELTA_CORRUPT("delta_corrupt", "a delta with the wrong text"),
    /** The deltas of a turn differ from the expected stream in some other way. */
    DELTA_MISMATCH("delta_mismatch", "the deltas of a turn differ from the expected stream"),
    /** A result that came before all of its turn's deltas. */
    RESULT_WITHOUT_DELTAS("result_without_deltas", "a result without all its deltas"),
    /** A result whose text is not the message's. */
    RESULT_MISMATCH("result_mismatch", "a result with the wrong text"),
    /** A second result for one message id: the turn ran, or was delivered, twice. */
    RESULT_DUPLICATED("result_duplicated", "a second result for one message"),
    /** An event for a message id this session never sent, or after its turn was over. */
    EVENT_UNEXPECTED("event_unexpected", "an event for a message never sent, or after its turn ended"),
    /** A result marked {@code interrupted} for a turn nobody had reason to interrupt. */
    UNEXPECTED_INTERRUPT("unexpected_interrupt", "an interrupted result nobody asked for"),
    /** A message id taken as new twice ({@code accepted} with {@code duplicate: false} again). */
    RESEND_NOT_DUPLICATE("resend_not_duplicate", "a resent message id accepted as new again"),
    /** A result's {@code turn} count (demo worker, checkpointed) at or below an earlier result's: a turn counted twice. */
    TURN_REPEATED("turn_repeated", "a worker's turn count went back"),
    /** A result's {@code turn} count more than one above the last, with no turn reported lost and no gap. */
    TURN_SKIPPED("turn_skipped", "a worker's turn count skipped a turn nobody reported lost"),
    /** A message that got neither a result nor any other account of its fate. */
    UNANSWERED("unanswered", "a message without a result");

    private final String wire;
    private final String meaning;

    ViolationKind(String wire, String meaning) {
        this.wire = wire;
        this.meaning = meaning;
    }

    /** The name in reports. */
    public String wire() {
        return wire;
    }

    /** What it means, in a few words. */
    public String meaning() {
        return meaning;
    }
}
