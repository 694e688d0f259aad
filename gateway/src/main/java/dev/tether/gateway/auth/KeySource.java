package dev.tether.gateway.auth;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where some token verification keys come from: a PEM file, PEM text from the configuration, or a
 * JWK Set file. One per entry of {@code auth.public_keys}; {@link KeyRing} reads them all at
 * start-up and re-reads the files when they change.
 *
 * <p>A PEM source holds one key with the kid and algorithm the configuration gives it; a JWK Set
 * holds any number, each with its own kid and algorithm (see {@link JwkSets}). Immutable and
 * thread-safe; {@link #toString()} never shows inline PEM text.
 *
 * @param name      what messages call this source, e.g. {@code auth.public_keys[2]}
 * @param format    how the text is read
 * @param kid       for PEM: the key id tokens name to pick this key, or {@code null}; for a JWK Set
 *                  always {@code null} (the kids are in the set)
 * @param algorithm for PEM: {@code RS256} or {@code ES256}; for a JWK Set always {@code null}
 * @param file      the file to read, or {@code null} for inline PEM
 * @param pem       inline PEM text, or {@code null} when read from {@code file}
 */
public record KeySource(String name, Format format, String kid, String algorithm, Path file, String pem) {

    /** Key files larger than this are refused unread: a JWK Set of a few keys is a few KiB. */
    static final int MAX_FILE_BYTES = 1024 * 1024;

    /** How a source's text is read. */
    public enum Format {
        /** One {@code -----BEGIN PUBLIC KEY-----} block. */
        PEM,
        /** A JWK Set: {@code {"keys": [...]}}. */
        JWKS
    }

    public KeySource {
        requireNonNull(name, "name");
        requireNonNull(format, "format");
        if ((file == null) == (pem == null)) {
            throw new IllegalArgumentException(name + ": exactly one of file and pem expected");
        }
        if (format == Format.PEM) {
            requireNonNull(algorithm, "algorithm");
        } else if (kid != null || algorithm != null || pem != null) {
            throw new IllegalArgumentException(
                    name + ": a JWK Set is read from a file and names its own kids " + "and algorithms");
        }
    }

    /** A PEM file holding one public key. */
    public static KeySource pemFile(String name, String kid, String algorithm, Path file) {
        return new KeySource(name, Format.PEM, kid, algorithm, requireNonNull(file, "file"), null);
    }

    /** A public key given as PEM text in the configuration itself. */
    public static KeySource inlinePem(String name, String kid, String algorithm, String pem) {
        return new KeySource(name, Format.PEM, kid, algorithm, null, requireNonNull(pem, "pem"));
    }

    /** A JWK Set file. */
    public static KeySource jwksFile(String name, Path file) {
        return new KeySource(name, Format.JWKS, null, null, requireNonNull(file, "file"), null);
    }

    /** Whether this source is read from a file (and so may change while the gateway runs). */
    public boolean isFile() {
        return file != null;
    }

    /**
     * Reads this source's keys now: the file from disk, or the inline PEM.
     *
     * @param algorithms the enabled JWA names; JWKs for others are skipped
     * @param skipped    told about each JWK that was left out, and why
     * @throws IllegalArgumentException if the text holds no usable key (the message says why, without
     *                                  the text itself)
     * @throws UncheckedIOException     if the file cannot be read
     */
    public List<PublicKeyEntry> read(Set<String> algorithms, Consumer<String> skipped) {
        String text = file == null ? pem : new String(readFile(file), StandardCharsets.UTF_8);
        return parse(text, algorithms, skipped);
    }

    /** Parses text read from this source (the file's content, or the inline PEM). */
    List<PublicKeyEntry> parse(String text, Set<String> algorithms, Consumer<String> skipped) {
        requireNonNull(text, "text");
        requireNonNull(algorithms, "algorithms");
        requireNonNull(skipped, "skipped");
        if (format == Format.JWKS) {
            return JwkSets.parse(text, algorithms, skipped);
        }
        PublicKey key = PemKeys.readPublicKey(text, algorithm);
        return List.of(new PublicKeyEntry(kid, algorithm, key));
    }

    /**
     * The bytes of a key file, refusing files over {@link #MAX_FILE_BYTES}.
     *
     * @throws UncheckedIOException if it cannot be read or is too large; the message says why, and
     *                              leaves naming the file to the caller
     */
    static byte[] readFile(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new IOException("larger than " + MAX_FILE_BYTES / 1024 + " KiB (expected: a key file)");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot be read: " + e.getMessage(), e);
        }
    }

    /** Names the source and its file; inline PEM is shown by its length only. */
    @Override
    public String toString() {
        String from = file != null ? "file=" + file : "pem=<inline, " + pem.length() + " chars>";
        return "KeySource[" + name + ", " + format + ", kid=" + kid + ", algorithm=" + algorithm + ", " + from + "]";
    }
}
