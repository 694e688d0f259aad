package dev.tether.gateway.cli;

import dev.tether.gateway.config.ConfigException;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.ConfigReloader;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.server.HangupSignal;
import java.time.Clock;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Runs the gateway until the process is told to stop. SIGTERM drains it ({@link DrainOnSignal}; a
 * second SIGTERM forces the stop) and the command returns 0 once the drain has finished. Any other
 * exit (SIGINT, SIGHUP without a handler, {@code System.exit}) runs the shutdown hook, which closes
 * the gateway without waiting for running turns.
 */
@Command(name = "gateway", mixinStandardHelpOptions = true, version = "tether gateway 0.1.0",
        description = "Runs the Tether WebSocket session gateway.",
        subcommands = {TokenCommand.class})
public final class RunCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    private ConfigOption configOption;

    @Override
    public Integer call() throws InterruptedException {
        GatewayConfig config;
        try {
            config = configOption.load();
        } catch (ConfigException e) {
            System.err.println("invalid configuration: " + e.getMessage());
            return 2;
        }
        LoggingSetup.apply(config.logging(), configOption.directory());
        if (config.auth().usesDevSecret()) {
            log.warn("auth.hmac_secret is the built-in development secret: anyone can mint tokens. "
                    + "Set TETHER_JWT_SECRET (or auth.hmac_secret) before exposing this gateway.");
        }
        GatewayServer server;
        try {
            server = new GatewayServer(config, Clock.systemUTC());
        } catch (RuntimeException e) {
            System.err.println("cannot start: " + e.getMessage());
            return 3;
        }
        ConfigReloader reloader = configOption.file()
                .map(file -> new ConfigReloader(file, System.getenv(), server))
                .orElse(null);
        if (reloader != null) {
            // Before start-up, which can take seconds: the JVM's own SIGHUP action would end the process.
            HangupSignal.install(reloader);
        }
        // The last resort for exits other than SIGTERM; after a drain, close() has already run and this is a no-op.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (reloader != null) {
                reloader.close();
            }
            server.close();
        }, "tether-shutdown"));
        try {
            server.start();
        } catch (IllegalStateException e) {
            System.err.println("start-up failed: " + e.getMessage());
            return 3;
        } catch (Exception e) {
            System.err.println("start-up failed: " + e);
            return 3;
        }
        DrainOnSignal.install(server);
        if (reloader != null) {
            reloader.start();
        } else {
            log.info("no config file: running on the built-in defaults, nothing to reload");
        }
        // Whoever closes the gateway (a drain after SIGTERM or the admin API, or the shutdown hook) ends the wait.
        server.closed().toCompletableFuture().join();
        if (reloader != null) {
            reloader.close();
        }
        return 0;
    }
}
