package dev.tether.gateway.config;

import java.nio.file.Path;

/**
 * One entry of {@code auth.public_keys}: a PEM public key used to verify RS256 or ES256 tokens.
 * Validated by {@link AuthConfig}, which knows the entry's position and so can name it
 * ({@code auth.public_keys[1].algorithm}); {@link ConfigLoader} checks that the file exists.
 * Immutable and thread-safe.
 *
 * @param kid key id matched against a token's {@code kid} header; optional ({@code null} = any token
 *     of this algorithm may be tried with this key)
 * @param algorithm {@code RS256} or {@code ES256}
 * @param file path of the PEM file, relative to the working directory unless absolute
 */
public record PublicKeyConfig(String kid, String algorithm, Path file) {}
