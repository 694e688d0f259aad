package dev.tether.gateway.config;

import java.nio.file.Path;

/**
 * One entry of {@code auth.public_keys}: where token verification keys for RS256/ES256 come from.
 * Three forms:
 * <ul>
 *   <li>{@code {kid?, algorithm, file}}: a PEM public key file (format {@code pem}, the default);</li>
 *   <li>{@code {kid?, algorithm, pem}}: the PEM text inline in the configuration;</li>
 *   <li>{@code {format: jwks, file}}: a JWK Set file, whose JWKs carry their own kids and
 *       algorithms.</li>
 * </ul>
 * Files are re-read when they change ({@code auth.key_reload_interval}). Validated by
 * {@link AuthConfig}, which knows the entry's position and so can name it
 * ({@code auth.public_keys[1].algorithm}); {@link ConfigLoader} reads each file and inline PEM once
 * at start-up, so a missing or unusable key fails start-up naming its entry. Immutable and
 * thread-safe; {@link #toString()} shows inline PEM by its length only.
 *
 * @param kid key id matched against a token's {@code kid} header; optional ({@code null} = any token
 *     of this algorithm may be tried with this key); not allowed for {@code jwks}
 * @param algorithm {@code RS256} or {@code ES256}; required for {@code pem}, not allowed for
 *     {@code jwks}
 * @param file path of the PEM or JWK Set file, relative to the working directory unless absolute;
 *     exactly one of {@code file} and {@code pem}
 * @param pem inline PEM text ({@code -----BEGIN PUBLIC KEY-----}); only for format {@code pem}
 * @param format {@link #FORMAT_PEM} (when not given) or {@link #FORMAT_JWKS}
 */
public record PublicKeyConfig(String kid, String algorithm, Path file, String pem, String format) {

    public static final String FORMAT_PEM = "pem";
    public static final String FORMAT_JWKS = "jwks";

    public PublicKeyConfig {
        if (format == null) {
            format = FORMAT_PEM;
        }
    }

    /** A PEM file entry, the form every earlier configuration used. */
    public PublicKeyConfig(String kid, String algorithm, Path file) {
        this(kid, algorithm, file, null, FORMAT_PEM);
    }

    /** Whether this entry is a JWK Set file. */
    public boolean readsJwkSet() {
        return FORMAT_JWKS.equals(format);
    }

    /** The record's string with inline PEM replaced by its length: a log line is no place for key text. */
    @Override
    public String toString() {
        return "PublicKeyConfig[kid=" + kid + ", algorithm=" + algorithm + ", file=" + file + ", pem="
                + describePem(pem) + ", format=" + format + "]";
    }

    /** How messages show inline PEM text: by its length, never its content. */
    static String describePem(String pem) {
        return pem == null ? "null" : "<inline PEM, " + pem.length() + " chars>";
    }
}
