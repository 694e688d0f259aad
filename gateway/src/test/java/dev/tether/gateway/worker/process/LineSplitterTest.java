package dev.tether.gateway.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {

    private final List<String> lines = new ArrayList<>();

    private void feed(LineSplitter splitter, String text) {
        ByteBuf bytes = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        try {
            splitter.feed(
                    bytes,
                    (b, length, truncated, full) ->
                            lines.add((truncated ? "TRUNCATED(" + full + "):" : "") + LineSplitter.text(b, length)));
            assertEquals(0, bytes.readableBytes(), "every byte taken");
        } finally {
            bytes.release();
        }
    }

    @Test
    void aLineSplitAcrossReadsIsDeliveredOnceWhole() {
        LineSplitter splitter = new LineSplitter(64);
        feed(splitter, "{\"type\":\"res");
        feed(splitter, "ult\",\"id\":\"m");
        assertTrue(lines.isEmpty());
        feed(splitter, "1\"}\n{\"a\":1}\r\n\npartial");
        assertEquals(List.of("{\"type\":\"result\",\"id\":\"m1\"}", "{\"a\":1}", ""), lines);
        splitter.finish((b, length, truncated, full) -> lines.add("LAST:" + LineSplitter.text(b, length)));
        assertEquals("LAST:partial", lines.get(lines.size() - 1));
    }

    @Test
    void aLongLineIsCutAtTheLimitAndTheRestPassedOverWithoutGrowingTheBuffer() {
        LineSplitter splitter = new LineSplitter(16);
        feed(splitter, "x".repeat(10));
        feed(splitter, "y".repeat(10_000));
        feed(splitter, "z\nnext\n");
        assertEquals(List.of("TRUNCATED(10011):" + "x".repeat(10) + "y".repeat(6), "next"), lines);
        assertTrue(splitter.lineBufferCapacity() <= 16);
    }

    @Test
    void aLineOfExactlyTheLimitIsWhole() {
        LineSplitter splitter = new LineSplitter(16);
        feed(splitter, "a".repeat(16) + "\n");
        assertEquals(List.of("a".repeat(16)), lines);
    }
}
