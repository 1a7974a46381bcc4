package dev.trtllm4j.reference;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.embedding.AlibiSlopes;
import dev.trtllm4j.embedding.RotaryTables;

/**
 * One attention step computed the plain way, in double precision, on Java arrays: the yardstick the
 * backends are measured against. It shares no code with them. RoPE angles come from the inverse
 * frequencies of {@link RotaryTables#inverseFrequencies} (checked against published vectors) and are
 * evaluated here in double; everything else follows the step's contract directly.
 *
 * <p>Shapes are those of the step: {@code qkv [num_tokens, (num_heads + 2 * num_kv_heads) * head_size]},
 * {@code kvCache [batch, 2, num_kv_heads, maxSeqLen, head_size]} (updated in place), and the result
 * {@code context [num_tokens, num_heads * head_size]}.
 */
public final class ReferenceAttention {

    private ReferenceAttention() {}

    /**
     * Runs one step.
     *
     * @param window the attention window W, at least 1 ({@code Integer.MAX_VALUE} for none)
     * @param sinks the sink tokens S
     * @return the context
     */
    public static double[] run(GptAttentionConfig config, float[] qkv, float[] kvCache, int[] inputLengths,
            int[] pastLengths, int maxSeqLen, int window, int sinks) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headSize();
        int rowWidth = (heads + 2 * kvHeads) * d;
        int group = heads / kvHeads;
        double scale = 1.0 / (config.qScaling() * Math.sqrt(d));
        double cap = config.attnLogitSoftcappingScale();
        PositionEmbeddingType type = config.positionEmbeddingType();
        float[] slopes = type.isAlibi() ? AlibiSlopes.compute(config) : null;
        int longest = 0;
        for (int b = 0; b < inputLengths.length; b++) {
            longest = Math.max(longest, pastLengths[b] + inputLengths[b]);
        }
        double[] invFreq = type.isRope() ? RotaryTables.inverseFrequencies(config, longest) : null;
        double attentionFactor = type.isRope() ? RotaryTables.attentionFactor(config, longest) : 1.0;

        int numTokens = 0;
        for (int length : inputLengths) {
            numTokens += length;
        }
        double[] context = new double[numTokens * heads * d];
        int firstToken = 0;
        for (int b = 0; b < inputLengths.length; b++) {
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
                        double bias = slopes == null ? 0 : slopes[h] * (double) (j - pos);
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
