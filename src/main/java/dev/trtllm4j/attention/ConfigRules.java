package dev.trtllm4j.attention;

import static dev.trtllm4j.attention.GptAttentionField.*;

import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * The rules a {@link GptAttentionConfig} obeys. Each failure names the field, its value and the rule.
 * The CPU backend checks the same rules again in C at the ABI boundary ({@code plugin_params.c}).
 */
final class ConfigRules {

    private ConfigRules() {}

    static void check(GptAttentionConfig c) {
        atLeast(c, LAYER_IDX, 0);
        atLeast(c, NUM_HEADS, 1);
        atLeast(c, NUM_KV_HEADS, 1);
        rule(c.numHeads() % c.numKvHeads() == 0, NUM_KV_HEADS, c.numKvHeads(),
                "must divide num_heads = " + c.numHeads());
        rule(c.numKvHeadsOrigin() == -1 || c.numKvHeadsOrigin() >= c.numKvHeads(), NUM_KV_HEADS_ORIGIN,
                c.numKvHeadsOrigin(), "must be -1 (same as num_kv_heads) or at least num_kv_heads = " + c.numKvHeads());
        rule(GptAttentionConfig.SUPPORTED_HEAD_SIZES.contains(c.headSize()), HEAD_SIZE, c.headSize(),
                "must be one of the plugin's head sizes " + new TreeSet<>(GptAttentionConfig.SUPPORTED_HEAD_SIZES));
        // The kernels index qkv's rows in int32, as TensorRT-LLM's do.
        long row = ((long) c.numHeads() + 2L * c.numKvHeads()) * c.headSize();
        if (row > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("num_heads = " + c.numHeads() + ", num_kv_heads = " + c.numKvHeads()
                    + ": a qkv row of (num_heads + 2 * num_kv_heads) * head_size = " + row
                    + " elements must fit in int32");
        }
        positiveFinite(c, Q_SCALING);
        rule(Float.isFinite(c.attnLogitSoftcappingScale()) && c.attnLogitSoftcappingScale() >= 0,
                ATTN_LOGIT_SOFTCAPPING_SCALE, c.attnLogitSoftcappingScale(), "must be 0 (off) or positive");
        atLeast(c, MAX_CONTEXT_LENGTH, 1);
        atLeast(c, TP_SIZE, 1);
        rule(c.tpRank() >= 0 && c.tpRank() < c.tpSize(), TP_RANK, c.tpRank(),
                "must be in [0, tp_size = " + c.tpSize() + ")");
        atLeast(c, CP_SIZE, 1);
        rule(c.cpRank() >= 0 && c.cpRank() < c.cpSize(), CP_RANK, c.cpRank(),
                "must be in [0, cp_size = " + c.cpSize() + ")");
        // TensorRT-LLM reads cp_group into a std::set of the context-parallel group's ranks.
        rule(c.cpGroup().length == c.cpSize(), CP_GROUP, c.displayValue(CP_GROUP),
                "must list the cp_size = " + c.cpSize() + " ranks of the context-parallel group");
        rule(Arrays.stream(c.cpGroup()).distinct().count() == c.cpGroup().length, CP_GROUP,
                c.displayValue(CP_GROUP), "lists a rank twice");
        atLeast(c, VISION_START, -1);
        atLeast(c, VISION_LENGTH, -1);
        atLeast(c, KV_CACHE_QUANT_MODE, 0);
        atLeast(c, MAX_DISTANCE, 0);
        atLeast(c, SPEC_DECODING_MAX_GENERATION_LENGTH, 0);
        for (GptAttentionField block : List.of(BLOCK_SPARSE_BLOCK_SIZE, BLOCK_SPARSE_NUM_LOCAL_BLOCKS,
                BLOCK_SPARSE_VERTICAL_STRIDE, TOKENS_PER_BLOCK)) {
            atLeast(c, block, 1);
        }
        rule(!c.isMlaEnabled(), IS_MLA_ENABLED, 1,
                "the TensorRT GPT attention plugin rejects MLA; TensorRT-LLM runs MLA in its PyTorch workflow");
        for (GptAttentionField mla : List.of(Q_LORA_RANK, KV_LORA_RANK, QK_NOPE_HEAD_DIM, QK_ROPE_HEAD_DIM, V_HEAD_DIM)) {
            atLeast(c, mla, 0);
        }
        checkPositionEmbedding(c);
        checkRotaryScaling(c);
    }

    private static void checkPositionEmbedding(GptAttentionConfig c) {
        PositionEmbeddingType type = c.positionEmbeddingType();
        int dim = c.rotaryEmbeddingDim();
        if (type.isRope()) {
            // AttentionOp::initialize checks isRoPE() == (rotary_embedding_dim != 0) in a noexcept
            // function: a mismatch terminates the process, so it must never get that far.
            rule(dim > 0, ROTARY_EMBEDDING_DIM, dim, "position_embedding_type " + type.tensorRtLlmName()
                    + " is RoPE and needs rotary_embedding_dim > 0");
            rule(dim % 2 == 0, ROTARY_EMBEDDING_DIM, dim, "must be even: RoPE rotates pairs of features");
            rule(dim <= c.headSize(), ROTARY_EMBEDDING_DIM, dim, "must be at most head_size = " + c.headSize());
            positiveFinite(c, ROTARY_EMBEDDING_BASE);
        } else {
            rule(dim == 0, ROTARY_EMBEDDING_DIM, dim, "must be 0 for position_embedding_type "
                    + type.tensorRtLlmName() + ", which is not RoPE");
        }
        if (type == PositionEmbeddingType.LONG_ROPE) {
            rule(c.rotaryEmbeddingScaleType() == RotaryScalingType.LONGROPE, ROTARY_EMBEDDING_SCALE_TYPE,
                    c.rotaryEmbeddingScaleType().tensorRtLlmName(), "position_embedding_type long_rope needs longrope");
        }
    }

    private static void checkRotaryScaling(GptAttentionConfig c) {
        RotaryScalingType scaling = c.rotaryEmbeddingScaleType();
        RotaryScalingParameters p = c.rotaryScaling();
        if (scaling != RotaryScalingType.NONE) {
            rule(c.positionEmbeddingType().isRope(), ROTARY_EMBEDDING_SCALE_TYPE, scaling.tensorRtLlmName(),
                    "needs a RoPE position_embedding_type, not " + c.positionEmbeddingType().tensorRtLlmName());
        }
        float factor = c.rotaryEmbeddingScale();
        switch (scaling) {
            case NONE, MROPE -> {}
            case LINEAR -> positiveFinite(c, ROTARY_EMBEDDING_SCALE);
            case DYNAMIC -> {
                factorAtLeastOne(factor);
                atLeast(c, ROTARY_EMBEDDING_MAX_POSITIONS, 1);
            }
            case LLAMA3 -> {
                factorAtLeastOne(factor);
                atLeast(c, ROTARY_EMBEDDING_ORIGINAL_MAX_POSITIONS, 1);
                parameter(p.lowFreqFactor() > 0 && p.highFreqFactor() > p.lowFreqFactor(),
                        "low_freq_factor = " + p.lowFreqFactor() + ", high_freq_factor = " + p.highFreqFactor(),
                        "llama3 needs 0 < low_freq_factor < high_freq_factor");
            }
            case YARN -> {
                factorAtLeastOne(factor);
                atLeast(c, ROTARY_EMBEDDING_ORIGINAL_MAX_POSITIONS, 1);
                parameter(p.betaFast() > p.betaSlow() && p.betaSlow() > 0,
                        "beta_fast = " + p.betaFast() + ", beta_slow = " + p.betaSlow(),
                        "yarn needs beta_fast > beta_slow > 0");
                parameter(p.mscale() > 0 && p.mscaleAllDim() >= 0,
                        "mscale = " + p.mscale() + ", mscale_all_dim = " + p.mscaleAllDim(),
                        "yarn needs mscale > 0 and mscale_all_dim >= 0");
            }
            case LONGROPE -> {
                atLeast(c, ROTARY_EMBEDDING_ORIGINAL_MAX_POSITIONS, 1);
                atLeast(c, ROTARY_EMBEDDING_MAX_POSITIONS, 1);
                positiveFinite(c, ROTARY_EMBEDDING_SHORT_M_SCALE);
                positiveFinite(c, ROTARY_EMBEDDING_LONG_M_SCALE);
                int half = c.rotaryEmbeddingDim() / 2;
                longRopeFactors("short_factor", p.shortFactors(), half);
                longRopeFactors("long_factor", p.longFactors(), half);
            }
        }
    }

    private static void longRopeFactors(String name, List<Double> factors, int expected) {
        parameter(factors.size() == expected, name + " has " + factors.size() + " entries",
                "longrope needs rotary_embedding_dim / 2 = " + expected);
        for (double factor : factors) {
            parameter(factor > 0 && Double.isFinite(factor), name + " contains " + factor,
                    "longrope factors must be positive");
        }
    }

    private static void factorAtLeastOne(float factor) {
        rule(factor >= 1 && Float.isFinite(factor), ROTARY_EMBEDDING_SCALE, factor,
                "must be a finite factor of at least 1 for this rotary_embedding_scale_type");
    }

    private static void atLeast(GptAttentionConfig c, GptAttentionField field, int minimum) {
        rule(c.intValue(field) >= minimum, field, c.intValue(field), "must be at least " + minimum);
    }

    private static void positiveFinite(GptAttentionConfig c, GptAttentionField field) {
        float value = c.floatValue(field);
        rule(value > 0 && Float.isFinite(value), field, value, "must be positive and finite");
    }

    private static void rule(boolean holds, GptAttentionField field, Object value, String rule) {
        if (!holds) {
            throw new IllegalArgumentException(field.fieldName() + " = " + value + ": " + rule);
        }
    }

    private static void parameter(boolean holds, String what, String rule) {
        if (!holds) {
            throw new IllegalArgumentException("rotary scaling " + what + ": " + rule);
        }
    }
}
