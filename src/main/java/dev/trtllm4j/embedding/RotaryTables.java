package dev.trtllm4j.embedding;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import java.util.List;

/**
 * The RoPE tables TensorRT-LLM's Python layer hands the GPT attention plugin, computed from a
 * configuration the way TensorRT-LLM and Hugging Face transformers define each scaling variant:
 * {@code rotary_inv_freq} (float32 {@code [rotary_dim / 2]}) and {@code rotary_cos_sin} (float32
 * {@code [positions][rotary_dim / 2][cos, sin]}, already multiplied by the attention factor), and for
 * longrope also {@code long_rope_rotary_inv_freq} and {@code long_rope_rotary_cos_sin}. They depend on
 * the configuration alone: what depends on a sequence's length (dynamic NTK's grown base, longrope's
 * choice of tables) is decided per step by the backend, as TensorRT-LLM's plugin and kernels do.
 *
 * <p>Frequencies and angles are computed in double precision and rounded to float32 once, as
 * TensorRT-LLM's numpy code does.
 *
 * @param invFreq the inverse frequencies, {@code rotary_dim / 2} of them
 * @param cosSin the table, {@code positions * rotary_dim} floats
 * @param positions rows of the table: positions 0 to {@code positions - 1}
 * @param attentionFactor what cos and sin were multiplied by (yarn and longrope; 1 otherwise)
 */
public record RotaryTables(float[] invFreq, float[] cosSin, int positions, double attentionFactor) {

    /**
     * The tables of {@code rotary_inv_freq} and {@code rotary_cos_sin} for positions {@code [0, positions)}:
     * dynamic NTK's at the unscaled base (a backend grows the base per sequence past
     * {@code rotary_embedding_max_positions}), longrope's with the short factors.
     *
     * @throws IllegalArgumentException when the configuration has no RoPE or positions is not positive
     */
    public static RotaryTables compute(GptAttentionConfig config, int positions) {
        return tables(config, positions, false);
    }

    /**
     * longrope's long-factor tables ({@code long_rope_rotary_inv_freq}, {@code long_rope_rotary_cos_sin}),
     * which a backend picks over the short ones past {@code rotary_embedding_original_max_positions}.
     *
     * @throws IllegalArgumentException when the configuration's scaling is not longrope or positions is not positive
     */
    public static RotaryTables computeLongRope(GptAttentionConfig config, int positions) {
        if (config.rotaryEmbeddingScaleType() != RotaryScalingType.LONGROPE) {
            throw new IllegalArgumentException("rotary_embedding_scale_type = "
                    + config.rotaryEmbeddingScaleType().tensorRtLlmName() + ": only longrope has long-factor tables");
        }
        return tables(config, positions, true);
    }

    private static RotaryTables tables(GptAttentionConfig config, int positions, boolean longFactors) {
        if (positions < 1) {
            throw new IllegalArgumentException("positions = " + positions + ": must be at least 1");
        }
        double[] inverse = inverseFrequencies(config, longFactors);
        double factor = attentionFactor(config, longFactors);
        float[] invFreq = new float[inverse.length];
        float[] cosSin = new float[positions * inverse.length * 2];
        for (int i = 0; i < inverse.length; i++) {
            invFreq[i] = (float) inverse[i];
        }
        for (int pos = 0, at = 0; pos < positions; pos++) {
            for (double frequency : inverse) {
                double angle = pos * frequency;
                cosSin[at++] = (float) (Math.cos(angle) * factor);
                cosSin[at++] = (float) (Math.sin(angle) * factor);
            }
        }
        return new RotaryTables(invFreq, cosSin, positions, factor);
    }

    /**
     * The inverse frequencies of {@link #compute} in double precision.
     *
     * @throws IllegalArgumentException when the configuration has no RoPE
     */
    public static double[] inverseFrequencies(GptAttentionConfig config) {
        return inverseFrequencies(config, false);
    }

    private static double[] inverseFrequencies(GptAttentionConfig config, boolean longFactors) {
        if (!config.positionEmbeddingType().isRope()) {
            throw new IllegalArgumentException("position_embedding_type = "
                    + config.positionEmbeddingType().tensorRtLlmName() + ": not RoPE, so there are no rotary tables");
        }
        int dim = config.rotaryEmbeddingDim();
        double base = config.rotaryEmbeddingBase();
        double factor = config.rotaryEmbeddingScale();
        RotaryScalingParameters scaling = config.rotaryScaling();
        return switch (config.rotaryEmbeddingScaleType()) {
            case NONE, MROPE, DYNAMIC -> plain(dim, base);
            case LINEAR -> divide(plain(dim, base), factor);
            case LLAMA3 -> llama3(plain(dim, base), factor, scaling, config.rotaryEmbeddingOriginalMaxPositions());
            case YARN -> yarn(dim, base, factor, scaling, config.rotaryEmbeddingOriginalMaxPositions());
            case LONGROPE -> {
                List<Double> extension = longFactors ? scaling.longFactors() : scaling.shortFactors();
                double[] inverse = plain(dim, base);
                for (int i = 0; i < inverse.length; i++) {
                    inverse[i] /= extension.get(i);
                }
                yield inverse;
            }
        };
    }

    /** The factor that multiplies cos and sin in {@link #compute}: yarn's mscale ratio, longrope's short one, else 1. */
    public static double attentionFactor(GptAttentionConfig config) {
        return attentionFactor(config, false);
    }

    private static double attentionFactor(GptAttentionConfig config, boolean longFactors) {
        return switch (config.rotaryEmbeddingScaleType()) {
            case YARN -> yarnMscale(config.rotaryEmbeddingScale(), config.rotaryScaling().mscale())
                    / yarnMscale(config.rotaryEmbeddingScale(), config.rotaryScaling().mscaleAllDim());
            case LONGROPE -> longFactors ? config.rotaryEmbeddingLongMScale() : config.rotaryEmbeddingShortMScale();
            default -> 1.0;
        };
    }

    /**
     * Hugging Face's default longrope attention factor, {@code sqrt(1 + ln(max / original) / ln(original))},
     * 1 when the context is not extended. Config converters put it into
     * {@code rotary_embedding_short_m_scale} and {@code rotary_embedding_long_m_scale}.
     */
    public static double longRopeAttentionFactor(int maxPositions, int originalMaxPositions) {
        double factor = (double) maxPositions / originalMaxPositions;
        return factor <= 1 ? 1.0 : Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPositions));
    }

    private static double[] plain(int dim, double base) {
        double[] inverse = new double[dim / 2];
        for (int i = 0; i < inverse.length; i++) {
            inverse[i] = Math.pow(base, -(2.0 * i) / dim);
        }
        return inverse;
    }

    private static double[] divide(double[] values, double divisor) {
        for (int i = 0; i < values.length; i++) {
            values[i] /= divisor;
        }
        return values;
    }

    /** Llama 3.1: keep high frequencies, divide low ones by the factor, interpolate between. */
    private static double[] llama3(double[] inverse, double factor, RotaryScalingParameters scaling, int original) {
        double lowFreqWavelen = original / scaling.lowFreqFactor();
        double highFreqWavelen = original / scaling.highFreqFactor();
        for (int i = 0; i < inverse.length; i++) {
            double wavelen = 2 * Math.PI / inverse[i];
            if (wavelen < highFreqWavelen) {
                continue;
            }
            if (wavelen > lowFreqWavelen) {
                inverse[i] /= factor;
            } else {
                double smooth = (original / wavelen - scaling.lowFreqFactor())
                        / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                inverse[i] = (1 - smooth) * inverse[i] / factor + smooth * inverse[i];
            }
        }
        return inverse;
    }

    /** YaRN (NTK-by-parts): extrapolate fast dimensions, interpolate slow ones, ramp between. */
    private static double[] yarn(int dim, double base, double factor, RotaryScalingParameters scaling, int original) {
        double low = Math.max(Math.floor(correctionDim(scaling.betaFast(), dim, base, original)), 0);
        double high = Math.min(Math.ceil(correctionDim(scaling.betaSlow(), dim, base, original)), dim - 1);
        if (low == high) {
            high += 0.001; // avoids a division by zero, as transformers does
        }
        double[] inverse = plain(dim, base);
        for (int j = 0; j < inverse.length; j++) {
            double ramp = Math.clamp((j - low) / (high - low), 0.0, 1.0);
            double extrapolationWeight = 1 - ramp;
            double extrapolated = inverse[j];
            double interpolated = extrapolated / factor;
            inverse[j] = interpolated * (1 - extrapolationWeight) + extrapolated * extrapolationWeight;
        }
        return inverse;
    }

    /** The dimension at which a frequency makes {@code rotations} turns over the original context. */
    private static double correctionDim(double rotations, int dim, double base, int original) {
        return dim * Math.log(original / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    private static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }
}
