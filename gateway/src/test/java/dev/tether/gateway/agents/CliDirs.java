package dev.tether.gateway.agents;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * Where one offline run of an agent CLI lives: a fresh home directory (its config and sessions), the
 * working directory it may write to, and the transcript file named after the test. Immutable.
 */
record CliDirs(Path home, Path work, String testClass, String testName) {

    /** Creates {@code home} and {@code work} under {@code temp} for the test {@code info} describes. */
    static CliDirs create(Path temp, TestInfo info) throws IOException {
        return new CliDirs(
                Files.createDirectories(temp.resolve("home")),
                Files.createDirectories(temp.resolve("work")),
                info.getTestClass().orElseThrow().getSimpleName(),
                info.getTestMethod().orElseThrow().getName());
    }

    /**
     * Makes a test's {@code @TempDir} where {@link RealCliGateways#tempHome} makes a home, never under
     * the temporary directory, where Codex cannot set up its sandbox (see there); JUnit removes it
     * after the test as usual.
     */
    static final class OutsideTmp implements TempDirFactory {
        @Override
        public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext extension)
                throws IOException {
            return Files.createTempDirectory(Files.createDirectories(RealCliGateways.homesBase()), "cli-dirs");
        }
    }

    /** The transcript of the CLI started with {@code suffix}, under {@code target/agent-transcripts/}. */
    Path transcript(String suffix) {
        return Path.of("target", "agent-transcripts", testClass, testName + suffix + ".log");
    }
}
