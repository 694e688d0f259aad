package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The worker's stdout split and parsed on an embedded channel. */
class WorkerOutputHandlerTest {

    private final List<ObjectNode> objects = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final WorkerOutputHandler.Sink sink = new WorkerOutputHandler.Sink() {
        @Override
        public boolean accepting() {
            return true;
        }

        @Override
        public void object(ObjectNode object) {
            objects.add(object);
        }

        @Override
        public void problem(String code, String message) {
            problems.add(code + ": " + message);
        }
    };
    private final EmbeddedChannel channel =
            new EmbeddedChannel(new WorkerOutputHandler(4096, 100, new WireCodec(), sink, false));

    @Test
    void rawLinesAreTextEventsBlankOnesIncludedAndCarriageReturnsDropped() {
        EmbeddedChannel raw = new EmbeddedChannel(new WorkerOutputHandler(4096, 100, new WireCodec(), sink, true));
        raw.writeInbound(
                Unpooled.wrappedBuffer("hello\r\n\n{\"not\":\"parsed\"}\npart".getBytes(StandardCharsets.UTF_8)));
        raw.writeInbound(Unpooled.wrappedBuffer("ial\n".getBytes(StandardCharsets.UTF_8)));

        assertEquals(
                List.of("hello", "", "{\"not\":\"parsed\"}", "partial"),
                objects.stream().map(o -> o.path("text").asText()).toList());
        assertTrue(objects.stream().allMatch(o -> "line".equals(o.path("type").asText())));
        assertEquals(List.of(), problems);
        raw.finishAndReleaseAll();
    }

    @Test
    void linesAreParsedBlankLinesSkippedMalformedUtf8ReplacedAndGarbageReported() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("{\"type\":\"delta\",\"text\":\"h\u00e9llo \ud83d\ude00\"}\n\n   \t\r\n"
                .getBytes(StandardCharsets.UTF_8));
        out.writeBytes(new byte[] {'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', (byte) 0xff, '"', '}', '\n'});
        out.writeBytes("\u3000\nnot json\n{\"type\":\"result\"}\n".getBytes(StandardCharsets.UTF_8));
        channel.writeInbound(Unpooled.wrappedBuffer(out.toByteArray()));

        assertEquals(3, objects.size(), objects.toString());
        assertEquals("h\u00e9llo \ud83d\ude00", objects.get(0).get("text").textValue());
        assertEquals("\ufffd", objects.get(1).get("type").textValue(), "malformed UTF-8 is decoded with U+FFFD");
        assertEquals("result", objects.get(2).get("type").textValue());
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(
                problems.get(0).startsWith(WorkerOutputHandler.PROTOCOL_ERROR + ": output line is not a JSON object"),
                problems.get(0));
        assertTrue(problems.get(0).endsWith("not json"), problems.get(0));
        channel.finishAndReleaseAll();
    }
}
