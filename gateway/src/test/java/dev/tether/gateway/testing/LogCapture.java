package dev.tether.gateway.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Records what some loggers log while a test runs, so a test can wait for a log event (instead of
 * sleeping) and check that nothing was logged at {@code WARN} or above. Attach with
 * {@link #of(String...)} in a try-with-resources block; closing detaches it.
 */
public final class LogCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final List<Logger> loggers = new ArrayList<>();
    private final Map<Logger, Level> restore = new HashMap<>();
    private final List<ILoggingEvent> all = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<ILoggingEvent> unread = new LinkedBlockingQueue<>();

    private LogCapture() {}

    /** Starts recording the loggers named (and their children). */
    public static LogCapture of(String... loggerNames) {
        LogCapture capture = new LogCapture();
        capture.setName("log-capture");
        capture.start();
        for (String name : loggerNames) {
            Logger logger = (Logger) LoggerFactory.getLogger(name);
            logger.addAppender(capture);
            capture.loggers.add(logger);
        }
        return capture;
    }

    /**
     * Starts recording every logger at every level, TRACE included (the levels are restored on
     * close): for checking what could ever reach a log.
     */
    public static LogCapture everything() {
        LogCapture capture = of(Logger.ROOT_LOGGER_NAME);
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        for (Logger logger : context.getLoggerList()) {
            capture.restore.put(logger, logger.getLevel());
            logger.setLevel(logger == capture.loggers.get(0) ? Level.TRACE : null);
        }
        return capture;
    }

    /**
     * Every recorded event as an encoder could write it: level, logger, formatted message, its
     * key-value pairs and the whole stack trace of its throwable, causes included.
     */
    public List<String> rendered() {
        return all.stream()
                .map(e -> e.getLevel() + " " + e.getLoggerName() + " " + e.getFormattedMessage()
                        + " "
                        + (e.getKeyValuePairs() == null
                                ? ""
                                : e.getKeyValuePairs().toString())
                        + " "
                        + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy())))
                .toList();
    }

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();
        all.add(event);
        unread.add(event);
    }

    /** Waits up to {@link TestClient#TIMEOUT} for an event that matches {@code wanted}. */
    public ILoggingEvent await(Predicate<ILoggingEvent> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TestClient.TIMEOUT.toNanos();
        while (true) {
            ILoggingEvent event = unread.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (event == null) {
                throw new AssertionError(
                        "no such log event within " + TestClient.TIMEOUT + "; logged: " + describe(all));
            }
            if (wanted.test(event)) {
                return event;
            }
        }
    }

    /** Whether {@code event} carries the key-value pair {@code key=value}. */
    public static boolean hasKeyValue(ILoggingEvent event, String key, Object value) {
        return event.getKeyValuePairs() != null
                && event.getKeyValuePairs().stream().anyMatch(kv -> kv.key.equals(key) && value.equals(kv.value));
    }

    /** Everything recorded so far, oldest first, without waiting. */
    public List<ILoggingEvent> events() {
        return List.copyOf(all);
    }

    /** Everything recorded at {@code WARN} or above, formatted for an assertion message. */
    public List<String> warnings() {
        return describe(all.stream()
                .filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .toList());
    }

    private static List<String> describe(List<ILoggingEvent> events) {
        return events.stream()
                .map(e -> e.getLevel() + " " + e.getLoggerName() + ": " + e.getFormattedMessage()
                        + (e.getThrowableProxy() == null
                                ? ""
                                : " (" + e.getThrowableProxy().getClassName() + ")"))
                .toList();
    }

    @Override
    public void close() {
        restore.forEach(Logger::setLevel);
        loggers.forEach(logger -> logger.detachAppender(this));
        stop();
    }
}
