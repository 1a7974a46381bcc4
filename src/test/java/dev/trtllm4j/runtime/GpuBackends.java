package dev.trtllm4j.runtime;

import org.junit.jupiter.api.Assumptions;

/** The GPU backends for tests: opened when this host can run them, else the test is skipped with the reason. */
final class GpuBackends {

    private GpuBackends() {}

    /** The cuda backend, or a skip saying why it cannot run here (no library, no driver, no GPU). */
    static Backend cuda() {
        try {
            return Backend.open("cuda");
        } catch (TrtLlmException e) {
            Assumptions.abort("the cuda backend cannot run here: " + e.getMessage().lines().findFirst().orElse(""));
            throw new AssertionError("unreachable");
        }
    }

    /**
     * The tensorrt backend, or a skip saying why it cannot run here (no library, no TensorRT: set
     * TRTLLM4J_TENSORRT_LIBRARY to the folder of libnvinfer.so.10; no driver, no GPU).
     */
    static Backend tensorrt() {
        try {
            return Backend.open("tensorrt");
        } catch (TrtLlmException e) {
            Assumptions.abort("the tensorrt backend cannot run here: " + e.getMessage().lines().findFirst().orElse(""));
            throw new AssertionError("unreachable");
        }
    }
}
