package dev.tether.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leak: after each top-level test class it makes Netty's
 * detectors report what is garbage ({@link NettyLeaks#assertNone}) and fails the class with
 * every {@code LEAK:} report in the message. Registered for every test of a module that has the
 * testkit on its test class path, through {@code META-INF/services} and
 * {@code junit.jupiter.extensions.autodetection.enabled=true} (the parent pom's surefire
 * configuration); tests run with {@code -Dio.netty.leakDetection.level=paranoid}, so every buffer
 * is tracked and each report says where it was last touched.
 *
 * <p>A report is charged to the class whose check finds it: it leaked while that class ran, or
 * after the previous class's check. Runs on the JUnit thread.
 */
public final class LeakCheckExtension implements BeforeAllCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        if (topLevel(context)) {
            try {
                NettyLeaks.requireInstalled();
            } catch (IllegalStateException e) {
                throw new ExtensionConfigurationException(e.getMessage(), e);
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (topLevel(context)) {
            NettyLeaks.assertNone("while " + context.getRequiredTestClass().getName()
                    + " ran (or after the previous class's leak check)");
        }
    }

    /** A class of its own rather than a @Nested one, whose enclosing class is checked anyway. */
    private static boolean topLevel(ExtensionContext context) {
        return context.getParent().flatMap(ExtensionContext::getParent).isEmpty();
    }
}
