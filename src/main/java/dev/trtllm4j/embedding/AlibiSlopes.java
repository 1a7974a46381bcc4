package dev.trtllm4j.embedding;

import dev.trtllm4j.attention.GptAttentionConfig;

/**
 * ALiBi slopes as TensorRT-LLM's {@code generate_alibi_slopes} makes them: geometric slopes
 * {@code 2^(-8 k / n)} for the closest power of two {@code n} at or below the model's head count, odd
 * powers of the next finer series for the remaining heads, and this tensor-parallel rank's slice.
 */
public final class AlibiSlopes {

    private AlibiSlopes() {}

    /** The slopes of this rank's {@code num_heads} query heads. */
    public static float[] compute(GptAttentionConfig config) {
        int heads = config.numHeads();
        int totalHeads = heads * config.tpSize();
        int closestPowerOfTwo = Integer.highestOneBit(totalHeads);
        double[] all = new double[totalHeads];
        for (int k = 0; k < closestPowerOfTwo; k++) {
            all[k] = Math.pow(2.0, -8.0 * (k + 1) / closestPowerOfTwo);
        }
        for (int k = closestPowerOfTwo; k < totalHeads; k++) {
            int odd = 2 * (k - closestPowerOfTwo) + 1;
            all[k] = Math.pow(2.0, -8.0 * odd / (2.0 * closestPowerOfTwo));
        }
        float[] slopes = new float[heads];
        for (int h = 0; h < heads; h++) {
            slopes[h] = (float) all[config.tpRank() * heads + h];
        }
        return slopes;
    }
}
