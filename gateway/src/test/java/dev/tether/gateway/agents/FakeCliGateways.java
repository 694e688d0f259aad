package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Gateways whose workers are a fake agent CLI run as a Java subprocess ({@link FakeClaudeCli} for
 * {@link ClaudeAdapterIT}, {@link FakeCodexAppServer} for {@link CodexAdapterIT}), all sharing one
 * home directory for the fake's conversations, so that a restarted worker finds them. One per test
 * class; immutable.
 */
final class FakeCliGateways {

    private final String name;
    private final String protocol;
    private final Class<?> fake;
    private final String homeVariable;
    private final Path home;

    /**
     * Fake {@code fake} (its processes marked {@code name}) as the worker for {@code protocol}, its
     * home, a new temporary directory, given in the environment variable {@code homeVariable}.
     */
    FakeCliGateways(String name, String protocol, Class<?> fake, String homeVariable) {
        this.name = requireNonNull(name, "name");
        this.protocol = requireNonNull(protocol, "protocol");
        this.fake = requireNonNull(fake, "fake");
        this.homeVariable = requireNonNull(homeVariable, "homeVariable");
        try {
            this.home = Files.createTempDirectory("fake-" + name + "-home");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Removed when the test JVM exits if empty.
        home.toFile().deleteOnExit();
    }

    /** A gateway marked {@code marker} with the fake as its worker and approvals that time out after {@code requestTimeout}. */
    GatewayExtension gateway(String marker, String requestTimeout) {
        return DemoWorkers.gateway(marker, """
                worker:
                  process:
                    protocol: %s
                    command: %s
                    env:
                      %s: %s
                limits:
                  request_timeout: %s
                """.formatted(
                        protocol, DemoWorkers.javaCommand(name, fake.getName()), homeVariable, home, requestTimeout));
    }
}
