package dev.tether.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.config.LoggingConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Logback files of {@code config/}, loaded into a private {@link LoggerContext} (the tests'
 * own logging is left alone), and how {@code logging.format} picks one.
 */
class LoggingSetupTest {

    /** The repository's config directory, relative to the gateway module. */
    private static final Path CONFIG = Path.of("..", "config");

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonFormatWritesOneObjectPerLineWithTheKeyValuePairs() throws Exception {
        List<String> lines = logThrough(LoggingSetup.source(new LoggingConfig("json"), CONFIG));

        assertEquals(2, lines.size(), lines.toString());
        JsonNode attached = JSON.readTree(lines.get(0));
        assertTrue(attached.isObject(), lines.get(0));
        assertEquals("INFO", attached.path("level").asText());
        assertEquals(
                "dev.tether.gateway.session.Session",
                attached.path("loggerName").asText());
        assertEquals(
                "attached (resumed, replayed 3)",
                attached.path("formattedMessage").asText());
        assertEquals(Map.of("session", "s-1", "subject", "alice"), kvs(attached));

        JsonNode failed = JSON.readTree(lines.get(1));
        assertEquals("WARN", failed.path("level").asText());
        assertEquals(Map.of("session", "s-1", "subject", "alice", "worker", "4242"), kvs(failed));
        assertTrue(failed.path("throwable").toString().contains("broken pipe"), failed.toString());
    }

    @Test
    void textFormatKeepsTheKeyValuePairsOnTheLine() throws Exception {
        List<String> lines = logThrough(LoggingSetup.source(new LoggingConfig("text"), CONFIG));

        assertTrue(
                lines.get(0).contains("attached (resumed, replayed 3) session=\"s-1\" subject=\"alice\""),
                lines.get(0));
        assertFalse(lines.get(0).startsWith("{"));
    }

    @Test
    void filesInTheConfigDirectoryWinAndTheBuiltInCopiesAreTheFallback(@TempDir Path dir) throws Exception {
        URL builtIn = LoggingSetup.source(new LoggingConfig("json"), dir);
        assertTrue(builtIn.toString().endsWith("/" + LoggingSetup.JSON_FILE), builtIn.toString());
        assertEquals(
                Files.readString(CONFIG.resolve(LoggingSetup.JSON_FILE)),
                new String(builtIn.openStream().readAllBytes(), StandardCharsets.UTF_8),
                "the jar carries config/'s file");

        Path own = dir.resolve(LoggingSetup.TEXT_FILE);
        Files.writeString(own, "<configuration/>");
        assertEquals(own.toUri().toURL(), LoggingSetup.source(new LoggingConfig("text"), dir));
    }

    /** Configures a private context from {@code source}, logs two session events, returns the lines written. */
    private static List<String> logThrough(URL source) {
        LoggerContext context = new LoggerContext();
        context.setName("logging-setup-test");
        context.setMDCAdapter(new LogbackMDCAdapter());
        LoggingSetup.configure(context, source);
        for (Status status : context.getStatusManager().getCopyOfStatusList()) {
            assertTrue(status.getLevel() < Status.WARN, "config problem: " + status);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStreamAppender<?> stdout = (OutputStreamAppender<?>)
                context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDOUT");
        stdout.setOutputStream(out);

        org.slf4j.Logger log = context.getLogger("dev.tether.gateway.session.Session");
        log.atInfo()
                .addKeyValue("session", "s-1")
                .addKeyValue("subject", "alice")
                .log("attached ({}, replayed {})", "resumed", 3);
        log.atWarn()
                .addKeyValue("session", "s-1")
                .addKeyValue("subject", "alice")
                .addKeyValue("worker", 4242)
                .setCause(new IOException("broken pipe"))
                .log("stdin write failed");
        context.stop();
        for (Status status : context.getStatusManager().getCopyOfStatusList()) {
            assertTrue(status.getLevel() < Status.WARN, "logging problem: " + status);
        }
        return out.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(line -> !line.isBlank())
                .toList();
    }

    /** JsonEncoder's {@code kvpList} ({@code [{"k": "v"}, ...]}) as a map. */
    private static Map<String, String> kvs(JsonNode event) {
        Map<String, String> kvs = new HashMap<>();
        for (JsonNode pair : event.path("kvpList")) {
            pair.fields().forEachRemaining(e -> kvs.put(e.getKey(), e.getValue().asText()));
        }
        return kvs;
    }
}
