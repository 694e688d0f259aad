package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

/**
 * A server frame already encoded to UTF-8 JSON, written as-is. History messages are encoded once,
 * kept in the replay buffer in this form and written from it on every (re)delivery. A class, not a
 * record: a record's equals and hashCode would compare the array by identity anyway, and a copy per
 * frame is what this type exists to avoid.
 */
public final class EncodedFrame {

    private final byte[] json;

    /** Takes {@code json} as it is, without a copy: whoever made it never changes it again. */
    public EncodedFrame(byte[] json) {
        this.json = requireNonNull(json, "json");
    }

    /**
     * The encoded frame itself, not a copy (it is written once per delivery, to many connections):
     * never to be changed. Equality is identity: two frames are the same only if they are one.
     */
    public byte[] json() {
        return json;
    }
}
