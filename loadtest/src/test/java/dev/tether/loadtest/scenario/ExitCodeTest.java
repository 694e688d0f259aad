package dev.tether.loadtest.scenario;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.Main;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The exit codes: 0 passed, 1 audit violations or unexpected errors, 2 usage or setup errors. */
class ExitCodeTest {

    private static JsonNode json(String text) throws Exception {
        return new ObjectMapper().readTree(text);
    }

    @Test
    void aRunPassesOnlyWithAPassedAuditAndNoErrors() throws Exception {
        assertTrue(ScenarioCommand.passed(json("{\"audit\":{\"passed\":true},\"errors\":{}}")));
        assertFalse(ScenarioCommand.passed(json("{\"audit\":{\"passed\":false},\"errors\":{}}")));
        assertFalse(ScenarioCommand.passed(json("{\"audit\":{\"passed\":true},\"errors\":{\"close_1006\":1}}")));
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertEquals(2, Main.run("steady", "--no-such-option"));
        assertEquals(2, Main.run("steady", "--rate", "-1"));
        assertEquals(2, Main.run("steady", "--duration", "ten seconds"));
        assertEquals(2, Main.run("chaos", "--abrupt-ratio", "2"));
        assertEquals(2, Main.run("nonsense"));
        assertEquals(2, Main.run("steady", "--batch", "0"));
        assertEquals(2, Main.run("chaos", "--batch", "1001"));
    }

    @Test
    void aTargetThatCannotBeReachedIsASetupError(@TempDir Path out) {
        assertEquals(
                2,
                Main.run(
                        "steady",
                        "--launch-gateway",
                        "--gateway-jar",
                        out.resolve("missing.jar").toString(),
                        "--out",
                        out.toString(),
                        "--no-progress"));
    }

    @Test
    void helpIsAvailableForEveryScenario() {
        for (String scenario : new CommandLine(new Main()).getSubcommands().keySet()) {
            assertEquals(0, Main.run(scenario, "--help"), scenario);
        }
    }

    /**
     * Picocli formats every description with {@link String#format}; a bare {@code %} (as in "1%
     * active") makes it print a warning and show the text unformatted, so a test reads each one.
     */
    @Test
    void everyDescriptionIsAValidFormat() {
        for (Map.Entry<String, CommandLine> command :
                new CommandLine(new Main()).getSubcommands().entrySet()) {
            CommandLine.Model.CommandSpec spec = command.getValue().getCommandSpec();
            List<String> texts = new ArrayList<>(List.of(spec.usageMessage().description()));
            spec.options().forEach(option -> texts.addAll(List.of(option.description())));
            for (String text : texts) {
                assertDoesNotThrow(() -> String.format(Locale.ROOT, text), command.getKey() + ": " + text);
            }
        }
    }
}
