package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
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

    /**
     * The largest absolute error the GPU kernels may make against the double-precision reference, on
     * outputs of magnitude up to 1: float32 at most 1e-5 (another summation order, fast exponentials);
     * float16 2e-3 and bfloat16 1.6e-2, where tensor-core operands in the storage type (P rounded
     * before P·V) add to the rounding of K and of the output.
     */
    static double tolerance(DataType type) {
        return switch (type) {
            case FLOAT32 -> 1e-5;
            case FLOAT16 -> 2e-3;
            case BFLOAT16 -> 1.6e-2;
        };
    }
}
