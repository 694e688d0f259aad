package dev.tether.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.EventType;

/**
 * The leak check as surefire runs it, proven on two test classes run through JUnit's own engine
 * with extension autodetection on: one that leaks a buffer fails, one that releases it passes.
 */
class LeakCheckExtensionTest {

    /** Set only by these runs, so the two classes below never run on their own. */
    private static final String RUN_BY_THE_KIT = "tether.testkit.leakCheckExtensionTest";

    /** Makes each leak's records unique: Netty reports identical records only once per JVM. */
    private static final String HINT = "leaked on purpose " + UUID.randomUUID();

    @Test
    void aClassThatLeaksABufferFailsWithTheLeakReport() {
        List<Event> events = run(Leaking.class);
        Throwable failure = classFailure(events);
        AssertionError error = assertInstanceOf(AssertionError.class, failure);
        String message = error.getMessage();
        assertTrue(message.startsWith("Netty reported 1 leak while " + Leaking.class.getName() + " ran"), message);
        assertTrue(message.contains("LEAK: ByteBuf.release() was not called before it's garbage-collected."), message);
        assertTrue(message.contains(HINT), "the records name where the buffer was touched:\n" + message);
        assertTrue(NettyLeaks.collect(NettyLeaks.DEADLINE).isEmpty(), "the failed class took the report");
    }

    @Test
    void aClassThatReleasesItsBuffersPasses() {
        List<Event> events = run(Releasing.class);
        assertEquals(null, classFailure(events));
        assertEquals(
                1,
                events.stream()
                        .filter(event -> event.getType() == EventType.FINISHED
                                && event.getTestDescriptor().isTest()
                                && event.getPayload(TestExecutionResult.class)
                                                .orElseThrow()
                                                .getStatus()
                                        == TestExecutionResult.Status.SUCCESSFUL)
                        .count(),
                "its test ran and passed");
    }

    private static List<Event> run(Class<?> testClass) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .configurationParameter(RUN_BY_THE_KIT, "true")
                .selectors(selectClass(testClass))
                .execute()
                .allEvents()
                .list();
    }

    /** Why the test class itself (not one of its tests) failed, or null when it did not. */
    private static Throwable classFailure(List<Event> events) {
        return events.stream()
                .filter(event -> event.getType() == EventType.FINISHED)
                .filter(event -> event.getTestDescriptor()
                        .getSource()
                        .filter(ClassSource.class::isInstance)
                        .isPresent())
                .map(event -> event.getPayload(TestExecutionResult.class).orElseThrow())
                .filter(result -> result.getStatus() != TestExecutionResult.Status.SUCCESSFUL)
                .map(result -> result.getThrowable().orElseThrow())
                .findFirst()
                .orElse(null);
    }

    static boolean runByTheKit(ExtensionContext context) {
        return context.getConfigurationParameter(RUN_BY_THE_KIT).isPresent();
    }

    @EnabledIf("dev.tether.testkit.LeakCheckExtensionTest#runByTheKit")
    static class Leaking {
        @Test
        void dropsABufferWithoutReleasingIt() {
            ByteBuf buffer = Unpooled.directBuffer(16).writeInt(42);
            buffer.touch(HINT);
        }
    }

    @EnabledIf("dev.tether.testkit.LeakCheckExtensionTest#runByTheKit")
    static class Releasing {
        @Test
        void releasesWhatItAllocates() {
            ByteBuf buffer = Unpooled.directBuffer(16).writeInt(42);
            buffer.touch(HINT);
            assertEquals(42, buffer.readInt());
            assertTrue(buffer.release());
        }
    }
}
