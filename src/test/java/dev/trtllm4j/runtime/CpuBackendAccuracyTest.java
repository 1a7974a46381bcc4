package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;

/**
 * The CPU backend against the reference. Its tolerances are a few times the largest error seen:
 * float32 arithmetic alone (seen: 5e-7); for float16 (3e-4) and bfloat16 (2e-3) also the rounding of
 * the rotated K in the cache and of the output to that type.
 */
class CpuBackendAccuracyTest extends AttentionAccuracySpec {

    private static final Backend CPU = Backend.open("cpu");

    @Override
    Backend backend() {
        return CPU;
    }

    @Override
    double tolerance(DataType type) {
        return switch (type) {
            case FLOAT32 -> 1e-6;
            case FLOAT16 -> 1e-3;
            case BFLOAT16 -> 8e-3;
        };
    }
}
