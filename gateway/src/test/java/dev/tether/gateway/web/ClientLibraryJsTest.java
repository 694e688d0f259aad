package dev.tether.gateway.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Runs the client library's JavaScript unit tests ({@code src/test/js/*.test.js}) with Node's
 * built-in test runner, so that {@code mvn verify} fails when they do. Needs {@code node} 18 or
 * later on the PATH ({@code .ci/run} installs it); without it this test fails, it does not skip.
 */
class ClientLibraryJsTest {

    /** Surefire runs in the gateway module's directory. */
    private static final Path TESTS = Path.of("src", "test", "js");

    private static final long TIMEOUT_SECONDS = 120;

    @Test
    void nodeTestsOfTheClientLibraryPass() throws Exception {
        String version = nodeVersion();
        int major = Integer.parseInt(version.replaceFirst("^v", "").split("\\.", -1)[0]);
        assertTrue(major >= 18, "node " + version + " is too old for node --test: 18 or later is needed");

        List<String> command = new ArrayList<>(List.of("node", "--test"));
        command.addAll(testFiles());
        Path output = Files.createDirectories(Path.of("target")).resolve("client-library-js-tests.txt");
        Process node = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!node.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            node.destroyForcibly().waitFor();
            fail("node --test did not finish within " + TIMEOUT_SECONDS + "s:\n" + Files.readString(output));
        }
        String report = Files.readString(output, StandardCharsets.UTF_8);
        assertEquals(0, node.exitValue(), "node --test failed:\n" + report);
        assertTrue(report.contains("# fail 0"), "no failure count in node's output:\n" + report);
        assertFalse(report.contains("# pass 0\n"), "node ran no test:\n" + report);
    }

    private static List<String> testFiles() throws IOException {
        try (Stream<Path> files = Files.list(TESTS)) {
            List<String> tests = files.filter(f -> f.getFileName().toString().endsWith(".test.js"))
                    .map(Path::toString)
                    .sorted()
                    .toList();
            assertFalse(tests.isEmpty(), "no *.test.js under " + TESTS.toAbsolutePath());
            return tests;
        }
    }

    private static String nodeVersion() throws InterruptedException {
        try {
            Process process = new ProcessBuilder("node", "--version")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                fail("node --version failed: " + out);
            }
            return out;
        } catch (IOException e) {
            return fail("node is not installed (or not on the PATH): the client library's JavaScript tests need "
                    + "Node.js 18+. Run .ci/run, which installs it, or: apt-get install nodejs (" + e.getMessage()
                    + ")");
        }
    }
}
