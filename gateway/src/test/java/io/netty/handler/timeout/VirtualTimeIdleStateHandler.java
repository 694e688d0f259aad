package io.netty.handler.timeout;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Test support: an {@link IdleStateHandler} that reads a test's virtual clock instead of {@code
 * System.nanoTime()}. Netty 4.1's handler reads the time through the package-private {@code
 * ticksInNanos()} (Netty's own tests override it the same way), so this class has to live in
 * Netty's package. Advance the clock together with {@code EmbeddedChannel.advanceTimeBy}.
 */
public final class VirtualTimeIdleStateHandler extends IdleStateHandler {

    private final LongSupplier nanos;

    private VirtualTimeIdleStateHandler(IdleStateHandler template, LongSupplier nanos) {
        super(
                template.getReaderIdleTimeInMillis(),
                template.getWriterIdleTimeInMillis(),
                template.getAllIdleTimeInMillis(),
                TimeUnit.MILLISECONDS);
        this.nanos = nanos;
    }

    /** The same idle times as {@code template}, measured on {@code nanos}. */
    public static IdleStateHandler copyOf(IdleStateHandler template, LongSupplier nanos) {
        return new VirtualTimeIdleStateHandler(template, nanos);
    }

    @Override
    long ticksInNanos() {
        return nanos.getAsLong();
    }
}
