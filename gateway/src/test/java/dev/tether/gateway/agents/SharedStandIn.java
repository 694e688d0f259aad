package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A model-API stand-in shared by every test of a class, registered with {@code @RegisterExtension}:
 * each test sees only the requests made since it began, must use every reply it scripted (and a failed
 * test's leftovers cannot answer the next one), and the stand-in closes after the class. Used on
 * JUnit's thread only.
 *
 * @param <S> the stand-in ({@link AnthropicStandIn}, {@link OpenAiStandIn})
 */
final class SharedStandIn<S extends AutoCloseable> implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {

    private final S standIn;
    private final Function<S, List<RecordedRequest>> requests;
    private final ToIntFunction<S> clear;
    private int requestsBefore;

    /**
     * @param requests the stand-in's model requests so far, oldest first
     * @param clear drops the replies not yet served and says how many there were
     */
    SharedStandIn(S standIn, Function<S, List<RecordedRequest>> requests, ToIntFunction<S> clear) {
        this.standIn = requireNonNull(standIn, "standIn");
        this.requests = requireNonNull(requests, "requests");
        this.clear = requireNonNull(clear, "clear");
    }

    S standIn() {
        return standIn;
    }

    /** The stand-in's model requests since this test began. */
    List<RecordedRequest> newRequests() {
        List<RecordedRequest> all = requests.apply(standIn);
        return all.subList(requestsBefore, all.size());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        requestsBefore = requests.apply(standIn).size();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertEquals(0, clear.applyAsInt(standIn), "replies scripted and not served");
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        standIn.close();
    }
}
