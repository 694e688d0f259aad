package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import java.util.concurrent.CompletionStage;

/**
 * A process {@link Spawner} started: its pid, its stdio as two Netty channels (stdin and stdout on
 * one connection, stderr on the other; each still on one of the spawner's event loops and not
 * reading until {@link #claim}ed), and its wait status, reported once the process has ended and been
 * reaped (never before: so its pid is never signalled after it may have been reused).
 *
 * @param pid the process id, also its process group and session id
 * @param stdio stdin (written) and stdout (read)
 * @param stderr stderr (read)
 * @param exit completes with the {@code waitpid(2)} status once the process has been reaped
 */
record SpawnedProcess(long pid, Channel stdio, Channel stderr, CompletionStage<Integer> exit) {

    SpawnedProcess {
        requireNonNull(stdio, "stdio");
        requireNonNull(stderr, "stderr");
        requireNonNull(exit, "exit");
    }

    /**
     * Puts {@code handlers} on {@code channel} and lets it read: what the process wrote since it
     * connected reaches them first. Any thread; the work happens on the channel's loop.
     */
    static void claim(Channel channel, ChannelHandler... handlers) {
        channel.eventLoop()
                .execute(() -> channel.pipeline().get(SpawnHello.class).handOver(handlers));
    }
}
