package dev.tether.protocol;

import static java.util.Objects.requireNonNull;

/** A client frame that cannot be decoded; carries the error code to answer it with. */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public ProtocolException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = requireNonNull(code, "code");
    }

    /** The code of the {@code error} reply. */
    public ErrorCode code() {
        return code;
    }
}
