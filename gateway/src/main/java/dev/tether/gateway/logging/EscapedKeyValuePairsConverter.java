package dev.tether.gateway.logging;

import ch.qos.logback.classic.pattern.KeyValuePairConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %kvp} for the text log with {@link LogEscaping} applied: the pairs ({@code session},
 * {@code subject}, {@code worker} ...) carry values a client chose, such as a token's {@code sub}.
 * Logback creates it and calls it on the logging thread; stateless.
 */
public final class EscapedKeyValuePairsConverter extends KeyValuePairConverter {

    @Override
    public String convert(ILoggingEvent event) {
        return LogEscaping.escape(super.convert(event));
    }
}
