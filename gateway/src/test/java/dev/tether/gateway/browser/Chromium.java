package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's Chromium and its chromedriver, at the fixed paths their packages install, set up so that
 * nothing is ever downloaded: the driver service is given the chromedriver executable and the
 * options the browser binary, so Selenium Manager is never consulted; and Chromium starts with the
 * flags that keep it off the (closed) network.
 *
 * <p>A missing browser or driver <em>fails</em> the test with what to install: CI runs these tests,
 * and a skipped browser suite would look green while testing nothing.
 */
final class Chromium {

    static final Path BROWSER = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    private Chromium() {}

    /** Fails (never skips) unless both executables are present. */
    static void requireInstalled() {
        for (Path executable : new Path[] {BROWSER, DRIVER}) {
            if (!Files.isExecutable(executable)) {
                fail(executable + " is missing: the browser tests need Debian's Chromium and its driver. Run .ci/run, "
                        + "or install them with `apt-get install chromium chromium-driver`.");
            }
        }
    }

    /** A chromedriver on a free loopback port, logging to {@code logFile}. */
    static ChromeDriverService driverService(Path logFile) {
        return new ChromeDriverService.Builder()
                .usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort()
                .withLogFile(logFile.toFile())
                .build();
    }

    /**
     * Options for a headless Chromium with the empty profile {@code userDataDir}, keeping its console
     * log, with {@code extraArguments} after the usual ones.
     */
    static ChromeOptions options(Path userDataDir, java.util.List<String> extraArguments) {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(new File(BROWSER.toString()));
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                "--user-data-dir=" + userDataDir);
        options.addArguments(extraArguments);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        return options;
    }
}
