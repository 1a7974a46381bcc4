package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import org.junit.jupiter.api.BeforeAll;

/**
 * The CUDA backend against the reference: the CPU backend's whole suite. Its tolerances are the
 * issue's bounds: float32 at most 1e-5 (the kernels sum in another order, with fast exponentials);
 * float16 2e-3 and bfloat16 1.6e-2, where the rounding of inputs to tensor-core operands (P to the
 * storage type before P·V) adds to the rounding of K and of the output. Skipped where no GPU is.
 */
class CudaBackendAccuracyTest extends AttentionAccuracySpec {

    private static Backend cuda;

    @BeforeAll
    static void openCuda() {
        cuda = GpuBackends.cuda();
    }

    @Override
    Backend backend() {
        return cuda;
    }

    @Override
    double tolerance(DataType type) {
        return switch (type) {
            case FLOAT32 -> 1e-5;
            case FLOAT16 -> 2e-3;
            case BFLOAT16 -> 1.6e-2;
        };
    }
}
