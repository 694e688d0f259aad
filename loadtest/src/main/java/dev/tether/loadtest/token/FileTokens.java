package dev.tether.loadtest.token;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Tokens read from a file, one per line (blank lines and lines starting with {@code #} skipped):
 * virtual user {@code i} uses line {@code i mod n}. For gateways whose tokens the tool cannot mint
 * (RS256, an identity provider). Immutable and thread-safe.
 */
public final class FileTokens implements TokenSource {

    private final List<String> tokens;

    private FileTokens(List<String> tokens) {
        this.tokens = List.copyOf(tokens);
    }

    /** Reads {@code file}; fails when it holds no token. */
    public static FileTokens read(Path file) throws IOException {
        requireNonNull(file, "file");
        List<String> tokens = Files.readAllLines(file).stream()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .toList();
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException("--tokens-file " + file + ": no token in it (expected: one per line)");
        }
        return new FileTokens(tokens);
    }

    /** How many tokens the file held. */
    public int size() {
        return tokens.size();
    }

    @Override
    public String token(int index, String subject) {
        return tokens.get(Math.floorMod(index, tokens.size()));
    }

    @Override
    public boolean canMint() {
        return false;
    }
}
