package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.RequestOutcome;
import java.nio.file.Path;

/**
 * Any line program as a worker ({@code worker.process.protocol: lines}), as websocketd runs one:
 * ready as soon as it is started; every stdout line is the event {@code {"type":"line","text":...}};
 * a client message whose {@code data} is a string, or an object with a string {@code text}, is
 * written as one line (anything else as its JSON). No turns: each message goes straight through,
 * and the session stays idle. An interrupt is not a line: it is ignored (a line program has no way
 * to be told), as are requests, which a line program cannot make.
 */
final class LinesProtocol implements WorkerProtocol {

    static final String NAME = "lines";

    private final Peer peer;
    private final Stdin stdin;

    /** Writes raw text lines to the worker's stdin. */
    interface Stdin {
        void writeLine(String text);
    }

    LinesProtocol(Peer peer, Stdin stdin) {
        this.peer = requireNonNull(peer, "peer");
        this.stdin = requireNonNull(stdin, "stdin");
    }

    @Override
    public void started() {
        peer.ready();
    }

    @Override
    public void output(ObjectNode line) {
        peer.event(line);
    }

    @Override
    public void bind(String sessionId, String subject, Path workDir, JsonNode resume) {}

    @Override
    public void send(String id, JsonNode data) {
        String text = data.isTextual()
                ? data.textValue()
                : data.path("text").isTextual() ? data.path("text").textValue() : data.toString();
        // One message is one line: a line break inside it would be read as two.
        stdin.writeLine(text.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' '));
    }

    @Override
    public void interrupt() {}

    @Override
    public void respond(String requestId, RequestOutcome outcome, JsonNode data) {}

    @Override
    public void shutdown() {}

    @Override
    public boolean turns() {
        return false;
    }

    @Override
    public boolean holdsOutputUntilBound() {
        return true;
    }

    @Override
    public boolean rawLines() {
        return true;
    }
}
