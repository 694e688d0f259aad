package dev.tether.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class EchoTextTest {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    @Test
    void splitsIntoCeilSizedPartsEndingShortOrEmpty() {
        assertEquals(List.of("abcd", "efgh", "ij"), EchoText.split("abcdefghij", 3));
        assertEquals(List.of("abc", "def", "ghi", ""), EchoText.split("abcdefghi", 4));
        assertEquals(List.of("a", "b", "", ""), EchoText.split("ab", 4));
        assertEquals(List.of("", ""), EchoText.split("", 2));
        assertEquals(List.of("abc"), EchoText.split("abc", 1));
        assertEquals(List.of(), EchoText.split("abc", 0));
    }

    @Test
    void theTextIsTheStringOrItsTextFieldOrTheJson() {
        assertEquals("hi", EchoText.of(TextNode.valueOf("hi")));
        assertEquals("hi", EchoText.of(JSON.objectNode().put("text", "hi").put("deltas", 2)));
        assertEquals("{\"text\":1}", EchoText.of(JSON.objectNode().put("text", 1)));
        assertEquals("{\"n\":1}", EchoText.of(JSON.objectNode().put("n", 1)));
        assertEquals("[1,2]", EchoText.of(JSON.arrayNode().add(1).add(2)));
    }
}
