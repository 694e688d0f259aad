package dev.tether.gateway.pipeline;

import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Embedded channels whose clock stands still until the test moves it ({@link #advance}), each
 * finished and released after the test. Register with {@code @RegisterExtension}.
 */
final class FrozenChannels implements AfterEachCallback {

    private final List<EmbeddedChannel> open = new ArrayList<>();

    /** A channel with {@code handlers} and its time frozen. */
    EmbeddedChannel open(ChannelHandler... handlers) {
        EmbeddedChannel channel = new EmbeddedChannel(handlers);
        channel.freezeTime();
        open.add(channel);
        return channel;
    }

    /** Moves {@code channel}'s clock by {@code by} and runs what became due. */
    static void advance(EmbeddedChannel channel, Duration by) {
        channel.advanceTimeBy(by.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        open.forEach(EmbeddedChannel::finishAndReleaseAll);
        open.clear();
    }
}
