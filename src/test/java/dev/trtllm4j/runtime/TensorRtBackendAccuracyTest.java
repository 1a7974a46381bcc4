package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import org.junit.jupiter.api.BeforeAll;

/**
 * The tensorrt backend against the reference: the suite every backend passes, each configuration
 * through a one-layer TensorRT engine around trtllm4j's GPTAttention plugin. The plugin runs the
 * cuda backend's kernels, so the tolerances are the cuda backend's. Skipped where TensorRT or a GPU
 * is missing.
 */
class TensorRtBackendAccuracyTest extends AttentionAccuracySpec {

    private static Backend tensorrt;

    @BeforeAll
    static void openTensorRt() {
        tensorrt = GpuBackends.tensorrt();
    }

    @Override
    Backend backend() {
        return tensorrt;
    }

    @Override
    double tolerance(DataType type) {
        return GpuBackends.tolerance(type);
    }
}
