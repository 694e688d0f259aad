package dev.tether.loadtest.jmh;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The wire codec on the gateway's hot path: every worker output becomes an {@code event} frame
 * (encode) and every client frame is decoded strictly; the load-test client does the reverse. Two
 * payload sizes: a short line and about 4 KiB of text. Average time per operation.
 *
 * <p>JMH runs each fork's benchmark methods on its own threads; state is per thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {

    @Param({"small", "4k"})
    public String payload;

    private WireCodec codec;
    private ServerMessage.Event event;
    private String eventText;
    private ClientMessage.Message message;
    private String messageText;

    @Setup
    public void setUp() {
        codec = new WireCodec();
        String text = Payloads.of(payload);
        ObjectNode worker = codec.mapper().createObjectNode();
        worker.put("type", "result").put("id", "m-000123").put("text", text);
        event = new ServerMessage.Event(123_456, worker);
        eventText = codec.encode(event);
        message = new ClientMessage.Message("m-000123", new TextNode(text));
        messageText = codec.encode(message);
    }

    /** The gateway: a worker's output to the bytes of an {@code event} frame (what the replay buffer keeps). */
    @Benchmark
    public byte[] encodeEvent() {
        return codec.encodeToBytes(event);
    }

    /** The client: an {@code event} frame's text to its record. */
    @Benchmark
    public ServerMessage decodeEvent() {
        return codec.decodeServer(eventText);
    }

    /** The client: a {@code message} record to frame text. */
    @Benchmark
    public String encodeMessage() {
        return codec.encode(message);
    }

    /** The gateway: a client's {@code message} frame, decoded and checked field by field. */
    @Benchmark
    public ClientMessage decodeMessage() throws ProtocolException {
        return codec.decodeClient(messageText);
    }
}
