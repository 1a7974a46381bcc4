package dev.trtllm4j.embedding;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.RotaryScalingParameters;
import java.util.List;

/**
 * The RoPE tables TensorRT-LLM's Python layer hands the GPT attention plugin, computed from a
 * configuration the way TensorRT-LLM and Hugging Face transformers define each scaling variant:
 * {@code rotary_inv_freq} (float32 {@code [rotary_dim / 2]}) and {@code rotary_cos_sin} (float32
 * {@code [positions][rotary_dim / 2][cos, sin]}, already multiplied by the attention factor).
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

    /** Tables for positions {@code [0, positions)} of sequences up to {@code positions} long. */
    public static RotaryTables compute(GptAttentionConfig config, int positions) {
        return compute(config, positions, positions);
    }

    /**
     * Tables for positions {@code [0, positions)} of sequences up to {@code sequenceLength} long. That
     * length matters for dynamic NTK scaling (the base grows past {@code rotary_embedding_max_positions})
     * and for longrope (long factors past {@code rotary_embedding_original_max_positions}).
     *
     * @throws IllegalArgumentException when the configuration has no RoPE or positions is not positive
     */
    public static RotaryTables compute(GptAttentionConfig config, int positions, int sequenceLength) {
        if (positions < 1) {
            throw new IllegalArgumentException("positions = " + positions + ": must be at least 1");
        }
        double[] inverse = inverseFrequencies(config, sequenceLength);
        double factor = attentionFactor(config, sequenceLength);
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
     * The inverse frequencies in double precision for sequences up to {@code sequenceLength} long.
     *
     * @throws IllegalArgumentException when the configuration has no RoPE
     */
    public static double[] inverseFrequencies(GptAttentionConfig config, int sequenceLength) {
        if (!config.positionEmbeddingType().isRope()) {
            throw new IllegalArgumentException("position_embedding_type = "
                    + config.positionEmbeddingType().tensorRtLlmName() + ": not RoPE, so there are no rotary tables");
        }
        int dim = config.rotaryEmbeddingDim();
        double base = config.rotaryEmbeddingBase();
        double factor = config.rotaryEmbeddingScale();
        RotaryScalingParameters scaling = config.rotaryScaling();
        return switch (config.rotaryEmbeddingScaleType()) {
            case NONE, MROPE -> plain(dim, base);
            case LINEAR -> divide(plain(dim, base), factor);
            case DYNAMIC -> {
                int maxPositions = config.rotaryEmbeddingMaxPositions();
                double length = Math.max(sequenceLength, maxPositions);
                double grown = base * Math.pow(factor * length / maxPositions - (factor - 1), dim / (dim - 2.0));
                yield plain(dim, grown);
            }
            case LLAMA3 -> llama3(plain(dim, base), factor, scaling, config.rotaryEmbeddingOriginalMaxPositions());
            case YARN -> yarn(dim, base, factor, scaling, config.rotaryEmbeddingOriginalMaxPositions());
            case LONGROPE -> {
                boolean useLong = sequenceLength > config.rotaryEmbeddingOriginalMaxPositions();
                List<Double> extension = useLong ? scaling.longFactors() : scaling.shortFactors();
                double[] inverse = plain(dim, base);
                for (int i = 0; i < inverse.length; i++) {
                    inverse[i] /= extension.get(i);
                }
                yield inverse;
            }
        };
    }

    /** The factor that multiplies cos and sin: yarn's mscale ratio, longrope's field, else 1. */
    public static double attentionFactor(GptAttentionConfig config, int sequenceLength) {
        return switch (config.rotaryEmbeddingScaleType()) {
            case YARN -> yarnMscale(config.rotaryEmbeddingScale(), config.rotaryScaling().mscale())
                    / yarnMscale(config.rotaryEmbeddingScale(), config.rotaryScaling().mscaleAllDim());
            case LONGROPE -> sequenceLength > config.rotaryEmbeddingOriginalMaxPositions()
                    ? config.rotaryEmbeddingLongMScale()
                    : config.rotaryEmbeddingShortMScale();
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
