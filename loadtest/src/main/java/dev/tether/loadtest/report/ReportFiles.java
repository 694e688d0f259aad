package dev.tether.loadtest.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a run's {@code report.json}, {@code report.txt} and {@code report.html} into one directory. */
public final class ReportFiles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ReportFiles() {}

    /** Writes the three files into {@code dir} (created when missing) and returns the text summary. */
    public static String write(JsonNode report, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(
                dir.resolve("report.json"),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report),
                StandardCharsets.UTF_8);
        String text = TextReport.render(report);
        Files.writeString(dir.resolve("report.txt"), text, StandardCharsets.UTF_8);
        HtmlReport.render(report, dir.resolve("report.html"));
        return text;
    }
}
