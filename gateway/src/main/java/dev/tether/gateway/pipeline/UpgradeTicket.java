package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.session.Journal;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.Viewers;
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
    record Create(VerifiedToken token, CompletionStage<Worker> worker, String sessionId, Journal journal)
            implements UpgradeTicket {
        public Create {
            requireNonNull(token, "token");
            requireNonNull(worker, "worker");
            requireNonNull(journal, "journal");
        }

        /** A new session of the in-memory store: its id is drawn when it is created. */
        Create(VerifiedToken token, CompletionStage<Worker> worker) {
            this(token, worker, null, Journal.NONE);
        }
    }

    /**
     * A fork of session {@code parent} ({@code fork=S}, contract 1.2, 8.2): admitted as the new
     * session {@code create}, which it becomes once {@code parent} is found (see {@link Forks}).
     */
    record Fork(Create create, String parent) implements UpgradeTicket {
        public Fork {
            requireNonNull(create, "create");
            requireNonNull(parent, "parent");
        }

        @Override
        public VerifiedToken token() {
            return create.token();
        }
    }

    /**
     * A new session that waits for capacity ({@code wait=1}, contract 8.1): a place in the
     * admission line was reserved, to be joined when the handshake completes or given back.
     * {@code forkOf} is the session it forks once admitted ({@code fork=S}), or null.
     */
    record Wait(VerifiedToken token, String forkOf) implements UpgradeTicket {
        public Wait {
            requireNonNull(token, "token");
        }

        Wait(VerifiedToken token) {
            this(token, null);
        }
    }

    /**
     * A resume of {@code sessionId}; {@code lastSeq} is the raw query value, checked later. With the
     * shared store, a resume of a session this node does not have comes with a slot reserved and a
     * worker acquired ({@code adoptWith}), for taking the session over; otherwise that is null.
     */
    record Resume(VerifiedToken token, String sessionId, String lastSeq, CompletionStage<Worker> adoptWith)
            implements UpgradeTicket {
        public Resume {
            requireNonNull(token, "token");
            requireNonNull(sessionId, "sessionId");
        }

        Resume(VerifiedToken token, String sessionId, String lastSeq) {
            this(token, sessionId, lastSeq, null);
        }
    }

    /**
     * A read-only viewer of {@code sessionId} (contract 7.4); {@code lastSeq} is the raw query value,
     * checked later. When the session was here at the upgrade and the token may view it, a place
     * among its viewers was reserved ({@code slot}, on {@code session}), to be used or given back;
     * otherwise both are null and the session is looked for after the handshake, like a resume.
     */
    record View(VerifiedToken token, String sessionId, String lastSeq, Session session, Viewers.Slot slot)
            implements UpgradeTicket {
        public View {
            requireNonNull(token, "token");
            requireNonNull(sessionId, "sessionId");
        }
    }
}
