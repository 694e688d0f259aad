package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a fork ({@code GET /ws?fork=S}, contract 1.2, 8.2) finds of the session it forks: where the
 * new session starts from, or why there is no fork. A session of another user is {@link NotFound},
 * exactly like an unknown one.
 */
public sealed interface ForkSource {

    /**
     * The session is there and its owner's: the fork continues from {@code checkpoint}, its newest
     * worker checkpoint (a copy), taken when its newest seq was {@code seq}; both null when its
     * workers never checkpointed (the fork's worker then starts fresh).
     */
    record Found(JsonNode checkpoint, Long seq) implements ForkSource {
        public Found {
            if ((checkpoint == null) != (seq == null)) {
                throw new IllegalArgumentException("a checkpoint comes with its seq");
            }
        }

        /** A session with no checkpoint. */
        static Found none() {
            return new Found(null, null);
        }
    }

    /** The session ended, for {@code reason} (its wire reason): answered like a resume, {@code session_expired}. */
    record Ended(String reason) implements ForkSource {
        public Ended {
            requireNonNull(reason, "reason");
        }
    }

    /** No such session of this user, here or in the shared store. */
    record NotFound() implements ForkSource {}

    /** It is kept in the shared store in a format this node cannot read (contract 8.8); left as it is. */
    record Incompatible(String format) implements ForkSource {
        public Incompatible {
            requireNonNull(format, "format");
        }
    }
}
