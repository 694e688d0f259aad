package dev.tether.gateway.agents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The pins of {@code .ci/agent-clis}, the directory derived from them, and README's word on them. */
class AgentClisTest {

    @Test
    void pinsAreExactVersions() {
        AgentClis.Pins pins = AgentClis.pins();
        assertTrue(pins.claudeCode().matches("\\d+\\.\\d+\\.\\d+"), pins.toString());
        assertTrue(pins.codex().matches("\\d+\\.\\d+\\.\\d+"), pins.toString());
    }

    @Test
    void installDirectoryIsStampedWithBothPins() {
        AgentClis.Pins pins = AgentClis.pins();
        assertEquals(
                "claude-code-" + pins.claudeCode() + "_codex-" + pins.codex(),
                AgentClis.installDir().getFileName().toString());
    }

    @Test
    void readmeNamesThePinnedVersions() throws IOException {
        String readme = Files.readString(AgentClis.repositoryRoot().resolve("README.md"), StandardCharsets.UTF_8);
        AgentClis.Pins pins = AgentClis.pins();
        assertTrue(
                readme.contains("| `@anthropic-ai/claude-code` | " + pins.claudeCode() + " |"),
                "README's table of tested CLI versions must show Claude Code " + pins.claudeCode());
        assertTrue(
                readme.contains("| `@openai/codex` | " + pins.codex() + " |"),
                "README's table of tested CLI versions must show Codex " + pins.codex());
    }
}
