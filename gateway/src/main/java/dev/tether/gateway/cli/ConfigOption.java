package dev.tether.gateway.cli;

import dev.tether.gateway.config.ConfigException;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** The {@code --config PATH} option shared by the commands. */
final class ConfigOption {

    @Option(
            names = "--config",
            paramLabel = "PATH",
            description = "Config file (default: config/gateway.yaml if present, else the built-in defaults).")
    Path path;

    /** The directory of the config file, where the Logback files sit next to it. */
    Path directory() {
        Path parent = path == null ? null : path.toAbsolutePath().getParent();
        return parent == null ? Path.of("config") : parent;
    }

    /** The file {@link #load()} reads, if any (none when the built-in defaults are used). */
    Optional<Path> file() {
        if (path != null) {
            return Optional.of(path);
        }
        return Files.isRegularFile(ConfigLoader.DEFAULT_FILE)
                ? Optional.of(ConfigLoader.DEFAULT_FILE)
                : Optional.empty();
    }

    /**
     * The configuration, or empty after telling stderr why it is invalid ({@code invalid configuration:
     * ...}); the commands then exit with 2.
     */
    Optional<GatewayConfig> load() {
        try {
            return Optional.of(
                    path == null
                            ? ConfigLoader.loadDefault(System.getenv())
                            : ConfigLoader.load(path, System.getenv()));
        } catch (ConfigException e) {
            System.err.println("invalid configuration: " + e.getMessage());
            return Optional.empty();
        }
    }
}
