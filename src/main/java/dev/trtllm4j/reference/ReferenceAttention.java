package dev.trtllm4j.reference;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import java.util.List;

/**
 * One attention step computed the plain way, in double precision, on Java arrays: the yardstick the
 * backends are measured against. It shares no code with what it checks: the RoPE frequencies and
 * attention factors of every scaling variant and the ALiBi slopes are derived here again from the
 * published formulas (Hugging Face's {@code modeling_rope_utils}, TensorRT-LLM's {@code RopeEmbeddingUtils}
 * and kernels, the ALiBi paper), not taken from {@code dev.trtllm4j.embedding}, and the angles are
 * evaluated in double rather than read from float32 tables.
 *
 * <p>Length-dependent scaling follows TensorRT-LLM per sequence. Dynamic NTK grows the base of each
 * sequence from its own length once past {@code rotary_embedding_max_positions}: its length after the
 * step for a context request, before the new token for a generation request. longrope takes the long
 * factors for all context requests when the longest has more than
 * {@code rotary_embedding_original_max_positions} new tokens, and for all generation requests when the
 * longest of them is that long after the step.
 *
 * <p>Shapes are those of the step: {@code qkv [num_tokens, (num_heads + 2 * num_kv_heads) * head_size]},
 * {@code kvCache [batch, 2, num_kv_heads, maxSeqLen, head_size]} (updated in place), and the result
 * {@code context [num_tokens, num_heads * head_size]}.
 */
public final class ReferenceAttention {

    /** {@code host_request_types} codes. */
    public static final int CONTEXT = 0, GENERATION = 1;

    private ReferenceAttention() {}

    /**
     * Runs one step.
     *
     * @param hostRequestTypes per sequence, {@link #CONTEXT} or {@link #GENERATION}
     * @param window the attention window W, at least 1 ({@code Integer.MAX_VALUE} for none)
     * @param sinks the sink tokens S
     * @return the context
     */
    public static double[] run(GptAttentionConfig config, float[] qkv, float[] kvCache, int[] hostRequestTypes,
            int[] inputLengths, int[] pastLengths, int maxSeqLen, int window, int sinks) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headSize();
        int rowWidth = (heads + 2 * kvHeads) * d;
        int group = heads / kvHeads;
        double scale = 1.0 / (config.qScaling() * Math.sqrt(d));
        double cap = config.attnLogitSoftcappingScale();
        PositionEmbeddingType type = config.positionEmbeddingType();
        double[] slopes = type.isAlibi() ? alibiSlopes(config) : null;
        boolean[] longFactors = longRopeLongFactors(config, hostRequestTypes, inputLengths, pastLengths);

        int numTokens = 0;
        for (int length : inputLengths) {
            numTokens += length;
        }
        double[] context = new double[numTokens * heads * d];
        int firstToken = 0;
        for (int b = 0; b < inputLengths.length; b++) {
            double[] invFreq = null;
            double attentionFactor = 1;
            if (type.isRope()) {
                int length = hostRequestTypes[b] == GENERATION ? pastLengths[b] : pastLengths[b] + inputLengths[b];
                boolean useLong = longFactors[hostRequestTypes[b]];
                invFreq = inverseFrequencies(config, length, useLong);
                attentionFactor = attentionFactor(config, useLong);
            }
            // K and V of the new tokens go into the cache first (K rotated), so that each token
            // attends over its own sequence's keys up to and including itself.
            for (int t = 0; t < inputLengths[b]; t++) {
                int token = firstToken + t;
                int pos = pastLengths[b] + t;
                for (int g = 0; g < kvHeads; g++) {
                    double[] k = slice(qkv, token * rowWidth + (heads + g) * d, d);
                    rotate(k, config, invFreq, attentionFactor, pos);
                    for (int i = 0; i < d; i++) {
                        kvCache[cacheIndex(config, maxSeqLen, b, 0, g, pos) + i] = (float) k[i];
                        kvCache[cacheIndex(config, maxSeqLen, b, 1, g, pos) + i] =
                                qkv[token * rowWidth + (heads + kvHeads + g) * d + i];
                    }
                }
            }
            for (int t = 0; t < inputLengths[b]; t++) {
                int token = firstToken + t;
                int pos = pastLengths[b] + t;
                for (int h = 0; h < heads; h++) {
                    int g = h / group;
                    double[] q = slice(qkv, token * rowWidth + h * d, d);
                    rotate(q, config, invFreq, attentionFactor, pos);
                    double[] logits = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= pos; j++) {
                        boolean seen = j < sinks || j > pos - ((long) window - sinks);
                        if (!seen) {
                            logits[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double qk = 0;
                        int k = cacheIndex(config, maxSeqLen, b, 0, g, j);
                        for (int i = 0; i < d; i++) {
                            qk += q[i] * kvCache[k + i];
                        }
                        double bias = slopes == null ? 0 : slopes[h] * (j - pos);
                        double logit;
                        if (type == PositionEmbeddingType.ALIBI_WITH_SCALE) {
                            logit = (qk + bias) * scale;
                        } else {
                            logit = qk * scale;
                            if (cap > 0) {
                                logit = cap * Math.tanh(logit / cap);
                            }
                            logit += bias;
                        }
                        logits[j] = logit;
                        max = Math.max(max, logit);
                    }
                    double sum = 0;
                    for (int j = 0; j <= pos; j++) {
                        logits[j] = Math.exp(logits[j] - max);
                        sum += logits[j];
                    }
                    int out = (token * heads + h) * d;
                    for (int j = 0; j <= pos; j++) {
                        double weight = logits[j] / sum;
                        int v = cacheIndex(config, maxSeqLen, b, 1, g, j);
                        for (int i = 0; i < d; i++) {
                            context[out + i] += weight * kvCache[v + i];
                        }
                    }
                }
            }
            firstToken += inputLengths[b];
        }
        return context;
    }

    private static int cacheIndex(GptAttentionConfig config, int maxSeqLen, int b, int kv, int g, int pos) {
        return (((b * 2 + kv) * config.numKvHeads() + g) * maxSeqLen + pos) * config.headSize();
    }

    private static double[] slice(float[] values, int from, int length) {
        double[] copy = new double[length];
        for (int i = 0; i < length; i++) {
            copy[i] = values[from + i];
        }
        return copy;
    }

    /** Per request type: whether longrope's long factors apply to those sequences this step. */
    static boolean[] longRopeLongFactors(GptAttentionConfig config, int[] hostRequestTypes, int[] inputLengths,
            int[] pastLengths) {
        boolean[] useLong = new boolean[2];
        if (config.positionEmbeddingType() != PositionEmbeddingType.LONG_ROPE) {
            return useLong;
        }
        for (int b = 0; b < inputLengths.length; b++) {
            int length = hostRequestTypes[b] == GENERATION ? pastLengths[b] + 1 : inputLengths[b];
            if (length > config.rotaryEmbeddingOriginalMaxPositions()) {
                useLong[hostRequestTypes[b]] = true;
            }
        }
        return useLong;
    }

    /**
     * The inverse frequencies {@code theta_i} for a sequence whose dynamic NTK length is {@code length},
     * with longrope's long factors or its short ones.
     */
    static double[] inverseFrequencies(GptAttentionConfig config, int length, boolean longFactors) {
        int dim = config.rotaryEmbeddingDim();
        double base = config.rotaryEmbeddingBase();
        double factor = config.rotaryEmbeddingScale();
        int original = config.rotaryEmbeddingOriginalMaxPositions();
        RotaryScalingParameters p = config.rotaryScaling();
        if (config.rotaryEmbeddingScaleType() == dev.trtllm4j.attention.RotaryScalingType.DYNAMIC
                && length > config.rotaryEmbeddingMaxPositions()) {
            double ratio = factor * length / config.rotaryEmbeddingMaxPositions() - factor + 1;
            base *= Math.exp(Math.log(ratio) * dim / (dim - 2));
        }
        double[] theta = new double[dim / 2];
        for (int i = 0; i < theta.length; i++) {
            double unscaled = 1 / Math.exp(Math.log(base) * 2 * i / dim);
            theta[i] = switch (config.rotaryEmbeddingScaleType()) {
                case LINEAR -> unscaled / factor;
                case LLAMA3 -> {
                    // Wavelengths shorter than original / high_freq_factor stay, longer than original /
                    // low_freq_factor are divided by the factor, and in between the two blend.
                    double turnsOverOriginal = original * unscaled / (2 * Math.PI);
                    double blend = (turnsOverOriginal - p.lowFreqFactor()) / (p.highFreqFactor() - p.lowFreqFactor());
                    yield unscaled * (Math.min(Math.max(blend, 0), 1) * (1 - 1 / factor) + 1 / factor);
                }
                case YARN -> {
                    // The pair index at which a frequency turns `rotations` times over the original context.
                    double fast = Math.floor(dim / 2.0 * Math.log(original / (p.betaFast() * 2 * Math.PI)) / Math.log(base));
                    double slow = Math.ceil(dim / 2.0 * Math.log(original / (p.betaSlow() * 2 * Math.PI)) / Math.log(base));
                    double low = Math.max(fast, 0);
                    double high = Math.min(slow, dim - 1);
                    double width = high == low ? 0.001 : high - low;
                    double interpolated = Math.min(Math.max((i - low) / width, 0), 1);
                    yield unscaled * (1 - interpolated) + unscaled / factor * interpolated;
                }
                case LONGROPE -> unscaled / (longFactors ? p.longFactors() : p.shortFactors()).get(i);
                default -> unscaled;
            };
        }
        return theta;
    }

    /** What cos and sin are multiplied by: yarn's mscale ratio, longrope's short or long m_scale, else 1. */
    static double attentionFactor(GptAttentionConfig config, boolean longFactors) {
        double s = config.rotaryEmbeddingScale();
        return switch (config.rotaryEmbeddingScaleType()) {
            case YARN -> s <= 1 ? 1 : (1 + 0.1 * config.rotaryScaling().mscale() * Math.log(s))
                    / (1 + 0.1 * config.rotaryScaling().mscaleAllDim() * Math.log(s));
            case LONGROPE -> longFactors ? config.rotaryEmbeddingLongMScale() : config.rotaryEmbeddingShortMScale();
            default -> 1;
        };
    }

    /**
     * ALiBi slopes of this rank's heads, as the ALiBi paper (and BLOOM) define them: for the largest
     * power of two {@code n} not above the model's heads, {@code r^1 .. r^n} with {@code r = 2^(-8/n)};
     * heads beyond take the odd powers of the series for {@code 2n}.
     */
    static double[] alibiSlopes(GptAttentionConfig config) {
        int total = config.numHeads() * config.tpSize();
        int n = 1;
        while (n * 2 <= total) {
            n *= 2;
        }
        double ratio = Math.pow(2, -8.0 / n);
        double finerRatio = Math.pow(2, -8.0 / (2 * n));
        List<Double> all = new java.util.ArrayList<>();
        for (int k = 1; k <= n; k++) {
            all.add(Math.pow(ratio, k));
        }
        for (int odd = 1; all.size() < total; odd += 2) {
            all.add(Math.pow(finerRatio, odd));
        }
        double[] slopes = new double[config.numHeads()];
        for (int h = 0; h < slopes.length; h++) {
            slopes[h] = all.get(config.tpRank() * config.numHeads() + h);
        }
        return slopes;
    }

    /** RoPE on the first rotary_embedding_dim features, in the configured form. */
    private static void rotate(double[] x, GptAttentionConfig config, double[] invFreq, double factor, int pos) {
        if (invFreq == null) {
            return;
        }
        int half = invFreq.length;
        boolean gptj = config.positionEmbeddingType() == PositionEmbeddingType.ROPE_GPTJ;
        for (int i = 0; i < half; i++) {
            double cos = Math.cos(pos * invFreq[i]) * factor;
            double sin = Math.sin(pos * invFreq[i]) * factor;
            int a = gptj ? 2 * i : i;
            int c = gptj ? 2 * i + 1 : i + half;
            double x0 = x[a];
            double x1 = x[c];
            x[a] = x0 * cos - x1 * sin;
            x[c] = x1 * cos + x0 * sin;
        }
    }
}
