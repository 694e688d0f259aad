package dev.tether.gateway.agents;

import static java.util.Objects.requireNonNull;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
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
final class SharedStandIn<S extends ModelApiStandIn>
        implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {

    private final S standIn;
    private int requestsBefore;

    SharedStandIn(S standIn) {
        this.standIn = requireNonNull(standIn, "standIn");
    }

    S standIn() {
        return standIn;
    }

    /** The stand-in's model requests since this test began. */
    List<RecordedRequest> newRequests() {
        List<RecordedRequest> all = standIn.modelRequests();
        return all.subList(requestsBefore, all.size());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        requestsBefore = standIn.modelRequests().size();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        assertEquals(0, standIn.clear(), "replies scripted and not served");
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        standIn.close();
    }
}
