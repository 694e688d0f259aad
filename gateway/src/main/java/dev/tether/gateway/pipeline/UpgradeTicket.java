package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.worker.Worker;
import io.netty.util.AttributeKey;
import java.util.concurrent.CompletionStage;

/**
 * What {@link UpgradeHandler} decided about an upgrade request, carried on the channel to
 * {@link SessionHandler} for when the handshake is complete.
 */
sealed interface UpgradeTicket {

    AttributeKey<UpgradeTicket> KEY = AttributeKey.valueOf("tether.upgradeTicket");

    VerifiedToken token();

    /**
     * A new session; a slot was reserved in the registry and a worker acquired, both to be used or
     * given back.
     */
    record Create(VerifiedToken token, CompletionStage<Worker> worker) implements UpgradeTicket {
        public Create {
            requireNonNull(token, "token");
            requireNonNull(worker, "worker");
        }
    }

    /** A resume of {@code sessionId}; {@code lastSeq} is the raw query value, checked later. */
    record Resume(VerifiedToken token, String sessionId, String lastSeq) implements UpgradeTicket {
        public Resume {
            requireNonNull(token, "token");
            requireNonNull(sessionId, "sessionId");
        }
    }
}
