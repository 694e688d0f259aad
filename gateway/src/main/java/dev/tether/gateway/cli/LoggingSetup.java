package dev.tether.gateway.cli;

import static java.util.Objects.requireNonNull;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.util.StatusPrinter2;
import dev.tether.gateway.config.LoggingConfig;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Chooses the Logback configuration by {@code logging.format} at start-up, before the gateway logs
 * anything: {@code config/logback.xml} (text) or {@code config/logback-json.xml} (JSON), read from
 * the directory of the gateway's config file, else the copy of the same file built into the jar.
 * An explicit {@code -Dlogback.configurationFile} wins over both. Runs once, on the main thread.
 *
 * <p>Logging ends with the gateway's own shutdown hook ({@link #deferLogbackShutdown()},
 * {@link #stop()}), so that the lines logged while the gateway stops its workers are not lost.
 */
final class LoggingSetup {

    static final String TEXT_FILE = "logback.xml";
    static final String JSON_FILE = "logback-json.xml";

    private LoggingSetup() {}

    /** Reconfigures the process's Logback context for {@code logging} from {@code configDir}. */
    static void apply(LoggingConfig logging, Path configDir) {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext context)) {
            return; // another SLF4J backend: its own configuration applies
        }
        configure(context, source(logging, configDir));
    }

    /** The file {@code logging.format} selects: in {@code configDir} if there, else the built-in copy. */
    static URL source(LoggingConfig logging, Path configDir) {
        String name = LoggingConfig.JSON.equals(logging.format()) ? JSON_FILE : TEXT_FILE;
        Path file = configDir.resolve(name);
        if (Files.isRegularFile(file)) {
            try {
                return file.toUri().toURL();
            } catch (MalformedURLException e) {
                throw new UncheckedIOException(e);
            }
        }
        return requireNonNull(LoggingSetup.class.getClassLoader().getResource(name), name + " is not built in");
    }

    /**
     * Keeps logging until the gateway has stopped: removes the shutdown hook Logback registers when
     * its configuration says {@code <shutdownHook/>}. That hook runs alongside the gateway's own
     * when the JVM exits (SIGINT, {@code System.exit}) and stops every appender at once (its
     * default delay is 0), so every line logged while the gateway stops its workers, the
     * shutdown summary included, would be lost. The gateway's hook calls {@link #stop()} last
     * instead. Call after the configuration is final, before the JVM begins to exit.
     */
    static void deferLogbackShutdown() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        if (context.getObject(CoreConstants.SHUTDOWN_HOOK_THREAD) instanceof Thread hook) {
            Runtime.getRuntime().removeShutdownHook(hook);
            context.removeObject(CoreConstants.SHUTDOWN_HOOK_THREAD);
        }
    }

    /**
     * Stops Logback: appenders flush and close (an {@code AsyncAppender} empties its queue first).
     * The last thing the gateway's shutdown hook does; nothing is logged after it.
     */
    static void stop() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.stop();
        }
    }

    /** Replaces {@code context}'s configuration with {@code source}; problems go to stderr. */
    static void configure(LoggerContext context, URL source) {
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(source);
        } catch (JoranException e) {
            // Logback has recorded the problem in the context's status; printed below.
        }
        new StatusPrinter2().printInCaseOfErrorsOrWarnings(context);
    }
}
