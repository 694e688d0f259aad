package dev.tether.gateway.cli;

import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.ConfigReloader;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.server.Signals;
import java.time.Clock;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Runs the gateway until the process is told to stop. SIGTERM drains it (see {@link Signals}; a
 * second SIGTERM forces the stop) and the command returns 0 once the drain has finished; SIGHUP
 * reloads the config file. Any other exit (SIGINT, {@code System.exit}, a signal the JVM would not
 * let {@link Signals} handle) runs the shutdown hook, which closes the gateway without waiting for
 * running turns.
 */
@Command(
        name = "gateway",
        mixinStandardHelpOptions = true,
        version = "tether gateway 0.1.0",
        description = "Runs the Tether WebSocket session gateway.",
        subcommands = {TokenCommand.class})
public final class RunCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    private ConfigOption configOption;

    @Override
    public Integer call() throws InterruptedException {
        GatewayConfig config = configOption.load().orElse(null);
        if (config == null) {
            return 2;
        }
        if (config.acceptsPublicSecret() && !config.web().devTokens()) {
            // The secret is printed in config/gateway.yaml: tokens signed with it prove nothing.
            System.err.println("invalid configuration: auth.hmac_secret: the built-in development secret (expected: "
                    + "a secret of your own, e.g. from TETHER_JWT_SECRET; the built-in one is public and only "
                    + "accepted in the development setup, web.dev_tokens on, see docs/security.md)");
            return 2;
        }
        LoggingSetup.apply(config.logging(), configOption.directory());
        log.info(
                "configuration: {}",
                configOption
                        .file()
                        .map(file -> file.toAbsolutePath().normalize().toString())
                        .orElse("built-in defaults (no --config, no " + ConfigLoader.DEFAULT_FILE + ")"));
        if (config.acceptsPublicSecret()) {
            log.warn("auth.hmac_secret is the built-in development secret: anyone can mint tokens. This is "
                    + "the development setup (web.dev_tokens on); never expose it.");
        }
        GatewayServer server;
        try {
            server = new GatewayServer(config, Clock.systemUTC());
        } catch (RuntimeException e) {
            System.err.println("cannot start: " + e.getMessage());
            return 3;
        }
        ConfigReloader reloader = configOption
                .file()
                .map(file -> new ConfigReloader(file, System.getenv(), server))
                .orElse(null);
        // Before start-up, which can take seconds: the JVM's own SIGHUP action would end the process.
        if (reloader != null) {
            Signals.reloadOnHangup(reloader);
        } else {
            Signals.hangupWithoutFile();
        }
        // The last resort for exits other than SIGTERM; after a drain, close() has already run and this is a no-op.
        // close() returns once every worker process is gone; logging ends only after it, here, not in a hook of its
        // own.
        LoggingSetup.deferLogbackShutdown();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (!server.closed().toCompletableFuture().isDone()) {
                                log.info("JVM exiting (SIGINT, System.exit ...): stopping the gateway and its workers");
                            }
                            if (reloader != null) {
                                reloader.close();
                            }
                            server.close();
                            LoggingSetup.stop();
                        },
                        "tether-shutdown"));
        try {
            server.start();
        } catch (IllegalStateException e) {
            log.error("start-up failed: {}", e.getMessage());
            return 3;
        } catch (Exception e) {
            log.error("start-up failed: {}", e.toString());
            return 3;
        }
        Signals.drainOnTerm(server);
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
