package dev.tether.gateway.agents;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.Yaml;
import dev.tether.gateway.worker.process.ProcessWorker;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;

/**
 * What the end-to-end tests of the real agent CLIs ({@link RealClaudeIT}, {@link RealCodexIT})
 * share: gateways whose workers are the pinned CLIs (marked like {@link DemoWorkers}' gateways, so
 * every process they start can be found by its environment), a {@code HOME} shared by all the
 * workers of a test class (the CLIs keep their conversations there, and a restarted worker must
 * find them), and the check, after the class, that no CLI process and no working directory is left.
 */
public final class RealCliGateways {

    private static final ObjectMapper JSON = new ObjectMapper();

    private RealCliGateways() {}

    /**
     * A gateway marked {@code marker} running {@code protocol} workers with {@code command} and
     * exactly {@code env} (plus {@code PATH} from the test's environment, which the CLIs need for
     * {@code node} and for the shell of their tools), one warm worker, then {@code yaml} over that.
     * The config is computed when the gateway starts, so a missing CLI fails the class there with
     * {@link AgentClis}' message.
     */
    public static GatewayExtension gateway(
            String marker,
            String protocol,
            Supplier<List<String>> command,
            Supplier<Map<String, String>> env,
            String yaml) {
        // Merged, not appended: a worker section in yaml adds to this one rather than replacing it.
        return GatewayExtension.withConfig(() -> DemoWorkers.config(
                marker, Yaml.merge("""
                        worker:
                          process:
                            protocol: %s
                            command: %s
                            env_allow: [PATH]
                            env: %s
                        pool:
                          min_idle: 1
                          init_timeout: 30s
                        """.formatted(protocol, json(command.get()), json(env.get())), yaml)));
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A new directory for {@code HOME}, never under the temporary directory, where Codex refuses to
     * create the helper its sandbox runs commands through (stderr "could not create PATH aliases:
     * Refusing to create helper binaries under temporary dir"), so that every sandboxed command fails
     * with {@code bwrap: execvp codex-linux-sandbox: No such file or directory}: under the build's
     * {@code target}, unless the checkout itself is under the temporary directory (a fresh clone in
     * {@code /tmp}), then under {@code ~/.cache/tether/test-homes}.
     */
    public static Path tempHome(String prefix) {
        try {
            return Files.createTempDirectory(Files.createDirectories(homesBase()), prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where {@link #tempHome} creates its directories. */
    static Path homesBase() {
        Path temporary =
                Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
        Path target = Path.of("target").toAbsolutePath().normalize();
        return target.startsWith(temporary) || target.startsWith(Path.of("/tmp"))
                ? Path.of(System.getProperty("user.home"), ".cache", "tether", "test-homes")
                : target;
    }

    /**
     * Run after the gateways of {@code markers} have stopped (register it before them): waits until
     * no process started by their workers runs anywhere and their working directories are gone, then
     * removes {@code home}.
     */
    public static AfterAllCallback noneLeft(Path home, String... markers) {
        return context -> {
            for (String marker : markers) {
                Poll.until(
                        "no process or working directory of " + marker + " left",
                        Duration.ofSeconds(20),
                        () -> List.<Collection<?>>of(DemoWorkers.anywhere(marker), DemoWorkers.workDirs(marker)),
                        left -> left.stream().allMatch(Collection::isEmpty));
            }
            try (Stream<Path> files = Files.walk(home)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            assertTrue(Files.notExists(home), "HOME removed: " + home);
        };
    }

    /** The working directory of {@code session}'s current worker. */
    public static Path workDir(Session session) {
        return ((ProcessWorker) session.currentWorker()).workDir();
    }

    /** The text of {@code file} (a file a CLI's tool wrote). */
    public static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }

    /** The pid of {@code session}'s current worker. */
    public static long pid(Session session) {
        return session.currentWorker().pid().orElseThrow();
    }
}
