package dev.tether.gateway.logging;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %msg} for the text log with {@link LogEscaping} applied: {@code config/logback.xml} declares
 * it as {@code %msg}, so a message that carries a client's value stays one line. Logback creates it
 * and calls it on the logging thread; stateless.
 */
public final class EscapedMessageConverter extends MessageConverter {

    @Override
    public String convert(ILoggingEvent event) {
        return LogEscaping.escape(super.convert(event));
    }
}
