package dev.trtllm4j.testing;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Prints why a test or test class did not run, one line each: the GPU tests skip on hosts without
 * a GPU, and Maven's quiet mode would otherwise hide the reason in the report files. Registered
 * through META-INF/services, so it applies to every test run by the JUnit Platform launcher.
 */
public final class SkipReasons implements TestExecutionListener {

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
        print(test, reason);
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            print(test, result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
        }
    }

    private static void print(TestIdentifier test, String reason) {
        String name = test.getSource().map(source -> switch (source) {
            case MethodSource method -> method.getJavaClass().getSimpleName() + "." + method.getMethodName();
            case ClassSource type -> type.getJavaClass().getSimpleName();
            default -> test.getDisplayName();
        }).orElse(test.getDisplayName());
        System.out.println("skipped " + name + ": " + reason);
    }
}
