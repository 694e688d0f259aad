package dev.tether.testkit;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;

/**
 * An immutable run of bytes with value equality, for records of test data that carry a payload (a
 * record with a {@code byte[]} component would compare it by identity). Copies in and out.
 */
public final class Bytes {

    private static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] bytes;

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A copy of {@code bytes}. */
    public static Bytes of(byte[] bytes) {
        requireNonNull(bytes, "bytes");
        return bytes.length == 0 ? EMPTY : new Bytes(bytes.clone());
    }

    /** A new array with these bytes. */
    public byte[] toArray() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Bytes that && Arrays.equals(bytes, that.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The bytes as {@link Arrays#toString(byte[])} writes them. */
    @Override
    public String toString() {
        return Arrays.toString(bytes);
    }
}
