package dev.tether.gateway.browser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.logging.LogType;

/**
 * Headless Chromium for the tests of a class: every test gets a browser of its own (its own
 * chromedriver and Chromium) on a new empty profile, so no session storage, cookie or cache leaks
 * from one test to the next; it is quit and its profile deleted after the test. (A Chromium profile
 * belongs to one browser process, and Selenium stops a driver service when its browser quits, so a
 * fresh profile per test means a fresh browser per test; starting one takes about a second.)
 * Register as a static field:
 * {@code @RegisterExtension static final BrowserExtension browser = new BrowserExtension();}.
 *
 * <p>Artifacts go to {@code target/browser-artifacts/<Class>/<test>/}: the screenshots a test asks
 * for ({@link #screenshot}), chromedriver's log, and when a test fails, a last screenshot, the
 * page's HTML and the browser's console log. Tests run one at a time (JUnit's default); the
 * extension keeps the current test's browser in a field.
 */
final class BrowserExtension
        implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, TestExecutionExceptionHandler {

    /** Chromium arguments beyond {@link Chromium#options}'s (a certificate to trust, say). */
    private final java.util.List<String> extraArguments;

    private ChromeDriverService service;
    private Path classArtifacts;
    private ChromeDriver driver;
    private Path profile;
    private Path artifacts;

    BrowserExtension() {
        this(java.util.List.of());
    }

    /** With {@code extraArguments} on every Chromium's command line. */
    BrowserExtension(java.util.List<String> extraArguments) {
        this.extraArguments = java.util.List.copyOf(extraArguments);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        Chromium.requireInstalled();
        classArtifacts = artifactsRoot().resolve(context.getRequiredTestClass().getSimpleName());
        Files.createDirectories(classArtifacts);
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        artifacts = classArtifacts.resolve(context.getRequiredTestMethod().getName());
        deleteRecursively(artifacts);
        Files.createDirectories(artifacts);
        profile = Files.createTempDirectory("tether-chromium-");
        service = Chromium.driverService(artifacts.resolve("chromedriver.log"));
        driver = new ChromeDriver(service, Chromium.options(profile, extraArguments));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            if (driver != null) {
                driver.quit(); // also stops its chromedriver
            }
        } finally {
            if (service != null) {
                service.stop();
            }
            service = null;
            driver = null;
            try {
                deleteRecursively(profile);
            } catch (UncheckedIOException e) {
                // A browser process still exiting may write into its profile; a stray temp directory is harmless.
            }
        }
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        if (driver != null) {
            // Evidence first; a failure to collect it must not hide the test's own failure.
            try {
                screenshot("failure");
                Files.writeString(artifacts.resolve("page.html"), driver.getPageSource(), StandardCharsets.UTF_8);
                String console = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                        .map(Object::toString)
                        .collect(Collectors.joining("\n"));
                Files.writeString(artifacts.resolve("console.log"), console + "\n", StandardCharsets.UTF_8);
            } catch (RuntimeException | IOException e) {
                failure.addSuppressed(e);
            }
        }
        throw failure;
    }

    /** The current test's browser. */
    WebDriver driver() {
        if (driver == null) {
            throw new IllegalStateException("no browser outside a test");
        }
        return driver;
    }

    /** Saves what the browser shows now as {@code <step>.png} in the test's artifact directory. */
    Path screenshot(String step) {
        Path file = artifacts.resolve(step + ".png");
        try {
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** {@code target/browser-artifacts} of the module under test (Surefire sets {@code basedir}). */
    private static Path artifactsRoot() {
        return Path.of(System.getProperty("basedir", "."), "target", "browser-artifacts")
                .toAbsolutePath();
    }

    private static void deleteRecursively(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
