package dev.tether.gateway.agents;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Where the real agent CLIs that the offline tests run are: the versions pinned in
 * {@code .ci/agent-clis} (the only place they are written), installed by {@code .ci/install-agent-clis}
 * (which {@code .ci/run} calls) into
 * {@code ${TETHER_AGENT_CLIS_HOME:-$HOME/.cache/tether/agent-clis}/claude-code-<version>_codex-<version>}.
 * A CLI that is missing, or installed at another version, fails the test with a message naming the
 * version and the install step: these tests never skip.
 */
public final class AgentClis {

    /** The pins, relative to the repository root. */
    public static final String PINS_FILE = ".ci/agent-clis";

    /** The install step, relative to the repository root. */
    public static final String INSTALL_STEP = ".ci/install-agent-clis";

    private static final ObjectMapper JSON = new ObjectMapper();

    private AgentClis() {}

    /** The pinned versions: {@code CLAUDE_CODE_VERSION} and {@code CODEX_VERSION} of {@code .ci/agent-clis}. */
    public record Pins(String claudeCode, String codex) {}

    /** Reads the pins from {@code .ci/agent-clis} in the repository this test runs from. */
    public static Pins pins() {
        Path file = repositoryRoot().resolve(PINS_FILE);
        Map<String, String> values = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String trimmed = line.strip();
                int eq = trimmed.indexOf('=');
                if (trimmed.isEmpty() || trimmed.startsWith("#") || eq < 0) {
                    continue;
                }
                values.put(
                        trimmed.substring(0, eq),
                        trimmed.substring(eq + 1).replace("\"", "").replace("'", ""));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        String claude = values.get("CLAUDE_CODE_VERSION");
        String codex = values.get("CODEX_VERSION");
        if (claude == null || codex == null) {
            fail(file + " must set CLAUDE_CODE_VERSION and CODEX_VERSION; it has " + values);
        }
        return new Pins(claude, codex);
    }

    /** The directory the pinned CLIs are installed in (an npm prefix: {@code node_modules/.bin/} holds them). */
    public static Path installDir() {
        Pins pins = pins();
        String base = System.getenv("TETHER_AGENT_CLIS_HOME");
        Path root = base != null && !base.isEmpty() ? Path.of(base) : Path.of(home(), ".cache", "tether", "agent-clis");
        return root.resolve("claude-code-" + pins.claudeCode() + "_codex-" + pins.codex());
    }

    /** Claude Code's {@code claude} binary at the pinned version. */
    public static Path claude() {
        return binary("claude", "@anthropic-ai/claude-code", "Claude Code", pins().claudeCode());
    }

    /** Codex's {@code codex} launcher (a Node script that runs the native binary) at the pinned version. */
    public static Path codex() {
        return binary("codex", "@openai/codex", "Codex", pins().codex());
    }

    private static Path binary(String name, String npmPackage, String product, String version) {
        Path dir = installDir();
        Path binary = dir.resolve("node_modules").resolve(".bin").resolve(name);
        Path manifest = dir.resolve("node_modules").resolve(npmPackage).resolve("package.json");
        String installed = null;
        if (Files.isRegularFile(manifest)) {
            try {
                installed = JSON.readTree(manifest.toFile()).path("version").asText(null);
            } catch (IOException e) {
                installed = "unreadable (" + e.getMessage() + ")";
            }
        }
        if (!Files.isExecutable(binary) || !version.equals(installed)) {
            fail(product + " " + version + " (" + npmPackage + ", pinned in " + PINS_FILE + ") is not installed at "
                    + binary + (installed == null ? "" : " (found version " + installed + ")")
                    + ": run " + INSTALL_STEP + " from the repository root (.ci/run does)");
        }
        return binary;
    }

    private static String home() {
        String home = System.getenv("HOME");
        return home != null && !home.isEmpty() ? home : System.getProperty("user.home");
    }

    /** The first directory from the working directory up that holds {@code .ci/agent-clis}. */
    static Path repositoryRoot() {
        Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(PINS_FILE))) {
                return dir;
            }
        }
        throw new IllegalStateException("no " + PINS_FILE + " in " + start + " or above");
    }
}
