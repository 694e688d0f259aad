package dev.tether.loadtest.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The predictions of the echo and demo workers' turns (their split is {@code EchoText}'s, tested in the protocol module). */
class TurnModelTest {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    @Test
    void theEchoWorkerStreamsItsConfiguredDeltasWhateverTheMessageAsks() {
        ExpectedTurn turn =
                TurnModel.echo(3).expect(JSON.objectNode().put("text", "abcdef").put("deltas", 7));
        assertEquals(List.of("ab", "cd", "ef"), turn.deltas());
        assertEquals("abcdef", turn.text());
        assertEquals(
                List.of("xx", "xx", "x"),
                TurnModel.echo(3).expect(TextNode.valueOf("xxxxx")).deltas());
    }

    @Test
    void theDemoContractStreamsTheDeltasTheMessageAsksForAndCrashesWhenAsked() {
        assertEquals(
                List.of("ab", "cd", "ef"),
                TurnModel.demo().expect(TextNode.valueOf("abcdef")).deltas(),
                "default 3");
        ExpectedTurn turn = TurnModel.demo()
                .expect(JSON.objectNode()
                        .put("text", "abcdef")
                        .put("deltas", 2)
                        .put("crash", 3)
                        .put("crash_after_deltas", 9));
        assertEquals(List.of("abc", "def"), turn.deltas());
        assertEquals(2, turn.crashAfter(), "at most all its deltas");
        assertEquals(-1, TurnModel.demo().expect(TextNode.valueOf("x")).crashAfter());
    }

    @Test
    void aDemoMessageAskingForSomethingElseIsNotPredicted() {
        assertFalse(TurnModel.demo()
                .expect(JSON.objectNode().put("text", "a").put("garbage", 2))
                .predictable());
    }
}
