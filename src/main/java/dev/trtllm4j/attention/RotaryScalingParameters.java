package dev.trtllm4j.attention;

import java.util.List;

/**
 * The parameters of RoPE scaling that travel in TensorRT-LLM's {@code rotary_scaling} dictionary
 * rather than in plugin fields: they shape the {@code rotary_inv_freq} and {@code rotary_cos_sin}
 * tables the plugin is handed. The factor, the variant and the context lengths are plugin fields
 * ({@code rotary_embedding_scale}, {@code rotary_embedding_scale_type},
 * {@code rotary_embedding_max_positions}, {@code rotary_embedding_original_max_positions}).
 *
 * @param lowFreqFactor llama3: wavelengths above {@code original / lowFreqFactor} are divided by the factor
 * @param highFreqFactor llama3: wavelengths below {@code original / highFreqFactor} are kept
 * @param betaFast yarn: rotations at which extrapolation ends
 * @param betaSlow yarn: rotations at which interpolation starts
 * @param mscale yarn: numerator of the attention factor
 * @param mscaleAllDim yarn: denominator of the attention factor, 0 for none
 * @param shortFactors longrope: per-frequency factors up to the original context, {@code rotary_dim / 2} of them
 * @param longFactors longrope: per-frequency factors beyond it, {@code rotary_dim / 2} of them
 */
public record RotaryScalingParameters(
        double lowFreqFactor,
        double highFreqFactor,
        double betaFast,
        double betaSlow,
        double mscale,
        double mscaleAllDim,
        List<Double> shortFactors,
        List<Double> longFactors) {

    /** TensorRT-LLM's defaults: llama3 1 and 4, yarn 32, 1, 1 and 0, no longrope factors. */
    public static final RotaryScalingParameters DEFAULTS =
            new RotaryScalingParameters(1.0, 4.0, 32.0, 1.0, 1.0, 0.0, List.of(), List.of());

    public RotaryScalingParameters {
        shortFactors = List.copyOf(shortFactors);
        longFactors = List.copyOf(longFactors);
    }

    /** The llama3 frequency band, other parameters unchanged. */
    public RotaryScalingParameters withLlama3(double lowFreqFactor, double highFreqFactor) {
        return new RotaryScalingParameters(lowFreqFactor, highFreqFactor, betaFast, betaSlow, mscale,
                mscaleAllDim, shortFactors, longFactors);
    }

    /** The yarn parameters, other parameters unchanged. */
    public RotaryScalingParameters withYarn(double betaFast, double betaSlow, double mscale, double mscaleAllDim) {
        return new RotaryScalingParameters(lowFreqFactor, highFreqFactor, betaFast, betaSlow, mscale,
                mscaleAllDim, shortFactors, longFactors);
    }

    /** The longrope factor lists, other parameters unchanged. */
    public RotaryScalingParameters withLongRope(List<Double> shortFactors, List<Double> longFactors) {
        return new RotaryScalingParameters(lowFreqFactor, highFreqFactor, betaFast, betaSlow, mscale,
                mscaleAllDim, shortFactors, longFactors);
    }
}
