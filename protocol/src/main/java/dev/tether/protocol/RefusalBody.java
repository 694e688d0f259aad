package dev.tether.protocol;

import static java.util.Objects.requireNonNull;

/** The JSON body of a refused upgrade: {@code {"error":"<code>","message":"..."}}. */
public record RefusalBody(String error, String message) {
    public RefusalBody {
        requireNonNull(error, "error");
        requireNonNull(message, "message");
    }

    /** The body for a refusal, with a human-readable message. */
    public static RefusalBody of(UpgradeRefusal refusal, String message) {
        return new RefusalBody(refusal.code(), message);
    }
}
