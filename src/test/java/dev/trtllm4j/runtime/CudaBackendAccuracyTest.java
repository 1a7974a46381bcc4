package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import org.junit.jupiter.api.BeforeAll;

/**
 * The CUDA backend against the reference: the CPU backend's whole suite, within the GPU kernels'
 * tolerances ({@link GpuBackends#tolerance}). Skipped where no GPU is.
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
        return GpuBackends.tolerance(type);
    }
}
