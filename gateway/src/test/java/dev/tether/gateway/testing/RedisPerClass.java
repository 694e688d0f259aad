package dev.tether.gateway.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real {@link RedisServer} for all the tests of a class: started before the first, stopped
 * (and its directory removed) after the last. Register it as a static field with
 * {@code @RegisterExtension}.
 */
public final class RedisPerClass implements BeforeAllCallback, AfterAllCallback {

    private Path dir;
    private RedisServer server;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("tether-redis");
        server = RedisServer.start(dir);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        try {
            server.close();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            }
        }
    }

    /** The URI the store connects to. */
    public String uri() {
        return server.uri();
    }
}
