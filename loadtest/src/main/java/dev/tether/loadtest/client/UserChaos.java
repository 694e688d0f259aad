package dev.tether.loadtest.client;

import java.time.Duration;

/**
 * What a virtual user does on its own to test the gateway, beyond the disruptions it is given
 * ({@link Disruption}). Immutable.
 *
 * @param ackLag          acks trail the processed seq by this much, so that a resume may go back that far
 *                        ({@link Disruption#rewind()}) without asking for acknowledged seqs
 * @param resendSame      share of messages sent a second time under the same id once their {@code accepted}
 *                        came: the gateway must answer {@code duplicate: true} and not run them again
 * @param resendFresh     share of messages sent again under a fresh id: a new message, to be run again
 * @param reconnectWindow the gateway's {@code sessions.reconnect_window}, to judge a {@code session_expired};
 *                        null when unknown
 * @param seed            of the user's own random choices (its index is added)
 */
public record UserChaos(int ackLag, double resendSame, double resendFresh, Duration reconnectWindow, long seed) {

    /** Nothing beyond the given disruptions. */
    public static final UserChaos NONE = new UserChaos(0, 0, 0, null, 1);

    public UserChaos {
        if (ackLag < 0) {
            throw new IllegalArgumentException("ackLag: " + ackLag + " (expected: >= 0)");
        }
        if (resendSame < 0 || resendSame > 1 || resendFresh < 0 || resendFresh > 1) {
            throw new IllegalArgumentException(
                    "resend shares: " + resendSame + ", " + resendFresh + " (expected: 0 to 1)");
        }
    }
}
