package dev.trtllm4j.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The builder: TensorRT-LLM's defaults, and each validation rule with its message. */
class GptAttentionConfigTest {

    /** A valid Llama-style layer that each rule test breaks in one place. */
    static GptAttentionConfig.Builder valid() {
        return GptAttentionConfig.builder().numHeads(32).numKvHeads(8).headSize(128).maxContextLength(4096)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128);
    }

    @Test
    void unsetFieldsTakeTensorRtLlmDefaults() {
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(8).numKvHeads(8).headSize(64)
                .maxContextLength(16).build();
        assertThat(config.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.LEARNED_ABSOLUTE);
        assertThat(config.rotaryEmbeddingDim()).isZero();
        assertThat(config.rotaryEmbeddingBase()).isEqualTo(10000f);
        assertThat(config.rotaryEmbeddingScaleType()).isEqualTo(RotaryScalingType.NONE);
        assertThat(config.rotaryEmbeddingMaxPositions()).isEqualTo(1024);
        assertThat(config.qScaling()).isEqualTo(1f);
        assertThat(config.maskType()).isEqualTo(AttentionMaskType.CAUSAL);
        assertThat(config.typeId()).isEqualTo(DataType.FLOAT16);
        assertThat(config.tokensPerBlock()).isEqualTo(32);
        assertThat(config.removeInputPadding()).isTrue();
        assertThat(config.useCache()).isTrue();
        assertThat(config.numKvHeadsOrigin()).isEqualTo(-1);
        assertThat(config.cpGroup()).containsExactly(0);
        assertThat(config.blockSparseBlockSize()).isEqualTo(64);
    }

    @Test
    void settersReturnTheSameBuilder() {
        GptAttentionConfig.Builder builder = GptAttentionConfig.builder();
        assertThat(builder.numHeads(4)).isSameAs(builder);
        assertThat(builder.rotaryEmbeddingDim(8)).isSameAs(builder);
        assertThat(builder.set(GptAttentionField.TP_SIZE, 2)).isSameAs(builder);
    }

    @Test
    void enumFieldsAcceptTensorRtLlmNamesAndCodes() {
        GptAttentionConfig config = valid().set(GptAttentionField.POSITION_EMBEDDING_TYPE, "rope_gptj")
                .set(GptAttentionField.TYPE_ID, 7).build();
        assertThat(config.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPTJ);
        assertThat(config.typeId()).isEqualTo(DataType.BFLOAT16);
    }

    @Test
    void configsWithTheSameValuesAreEqual() {
        assertThat(valid().build()).isEqualTo(valid().build()).hasSameHashCodeAs(valid().build());
        assertThat(valid().build()).isNotEqualTo(valid().layerIdx(1).build());
    }

    @Test
    void requiredFieldsMustBeSet() {
        assertThatThrownBy(() -> GptAttentionConfig.builder().numKvHeads(1).headSize(64).maxContextLength(8).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("num_heads is required: TensorRT-LLM has no default for it");
    }

    @Test
    void valuesOfTheWrongKindAreRejectedByField() {
        assertThatThrownBy(() -> valid().set(GptAttentionField.ROTARY_EMBEDDING_DIM, 1.5))
                .hasMessage("rotary_embedding_dim takes an integer, got 1.5");
        assertThatThrownBy(() -> valid().set(GptAttentionField.TYPE_ID, 3))
                .hasMessageStartingWith("type_id = 3: DataType has no code 3");
        assertThatThrownBy(() -> valid().set(GptAttentionField.POSITION_EMBEDDING_TYPE, "rope_neox"))
                .hasMessageStartingWith("position_embedding_type = rope_neox: PositionEmbeddingType has no constant 'rope_neox'");
        assertThatThrownBy(() -> valid().set(GptAttentionField.PAGED_KV_CACHE, 2))
                .hasMessage("paged_kv_cache takes a boolean (true, false, 0 or 1), got 2");
    }

    static Stream<Arguments> brokenRules() {
        return Stream.of(
                rule(b -> b.numHeads(0), "num_heads = 0: must be at least 1"),
                rule(b -> b.numKvHeads(0), "num_kv_heads = 0: must be at least 1"),
                rule(b -> b.numKvHeads(5), "num_kv_heads = 5: must divide num_heads = 32"),
                rule(b -> b.headSize(100), "head_size = 100: must be one of the plugin's head sizes"
                        + " [32, 48, 64, 72, 80, 96, 104, 112, 128, 144, 160, 192, 224, 256]"),
                rule(b -> b.rotaryEmbeddingDim(0), "rotary_embedding_dim = 0: position_embedding_type rope_gpt_neox"
                        + " is RoPE and needs rotary_embedding_dim > 0"),
                rule(b -> b.rotaryEmbeddingDim(63), "rotary_embedding_dim = 63: must be even: RoPE rotates pairs of features"),
                rule(b -> b.rotaryEmbeddingDim(256), "rotary_embedding_dim = 256: must be at most head_size = 128"),
                rule(b -> b.positionEmbeddingType(PositionEmbeddingType.ALIBI),
                        "rotary_embedding_dim = 128: must be 0 for position_embedding_type alibi, which is not RoPE"),
                rule(b -> b.positionEmbeddingType(PositionEmbeddingType.LEARNED_ABSOLUTE),
                        "rotary_embedding_dim = 128: must be 0 for position_embedding_type learned_absolute, which is not RoPE"),
                rule(b -> b.rotaryEmbeddingBase(0f), "rotary_embedding_base = 0.0: must be positive and finite"),
                rule(b -> b.tpSize(2).tpRank(2), "tp_rank = 2: must be in [0, tp_size = 2)"),
                rule(b -> b.tpSize(0), "tp_size = 0: must be at least 1"),
                rule(b -> b.qScaling(0f), "q_scaling = 0.0: must be positive and finite"),
                rule(b -> b.attnLogitSoftcappingScale(-1f), "attn_logit_softcapping_scale = -1.0: must be 0 (off) or positive"),
                rule(b -> b.maxContextLength(0), "max_context_length = 0: must be at least 1"),
                rule(b -> b.numKvHeadsOrigin(4), "num_kv_heads_origin = 4: must be -1 (same as num_kv_heads) or at"
                        + " least num_kv_heads = 8"),
                rule(b -> b.isMlaEnabled(true), "is_mla_enabled = 1: the TensorRT GPT attention plugin rejects MLA;"
                        + " TensorRT-LLM runs MLA in its PyTorch workflow"),
                rule(b -> b.cpSize(2).cpRank(3), "cp_rank = 3: must be in [0, cp_size = 2)"),
                rule(b -> b.cpSize(2), "cp_group = [0]: must list the cp_size = 2 ranks of the context-parallel group"),
                rule(b -> b.cpSize(2).cpGroup(1, 1), "cp_group = [1, 1]: lists a rank twice"),
                rule(b -> b.numHeads(1 << 23).numKvHeads(1 << 22), "num_heads = 8388608, num_kv_heads = 4194304: a"
                        + " qkv row of (num_heads + 2 * num_kv_heads) * head_size = 2147483648 elements must fit in int32"),
                rule(b -> b.rotaryEmbeddingScaleType(RotaryScalingType.LINEAR).rotaryEmbeddingScale(0f),
                        "rotary_embedding_scale = 0.0: must be positive and finite"),
                rule(b -> b.rotaryEmbeddingScaleType(RotaryScalingType.DYNAMIC).rotaryEmbeddingScale(0.5f),
                        "rotary_embedding_scale = 0.5: must be a finite factor of at least 1 for this rotary_embedding_scale_type"),
                rule(b -> b.rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3).rotaryEmbeddingScale(8f)
                        .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLlama3(4, 1)),
                        "rotary scaling low_freq_factor = 4.0, high_freq_factor = 1.0: llama3 needs 0 < low_freq_factor < high_freq_factor"),
                rule(b -> b.rotaryEmbeddingScaleType(RotaryScalingType.YARN).rotaryEmbeddingScale(4f)
                        .rotaryScaling(RotaryScalingParameters.DEFAULTS.withYarn(1, 32, 1, 0)),
                        "rotary scaling beta_fast = 1.0, beta_slow = 32.0: yarn needs beta_fast > beta_slow > 0"),
                rule(b -> b.rotaryEmbeddingScaleType(RotaryScalingType.LONGROPE)
                        .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLongRope(List.of(1.0), List.of(1.0))),
                        "rotary scaling short_factor has 1 entries: longrope needs rotary_embedding_dim / 2 = 64"),
                rule(b -> b.positionEmbeddingType(PositionEmbeddingType.LONG_ROPE),
                        "rotary_embedding_scale_type = none: position_embedding_type long_rope needs longrope"),
                rule(b -> b.positionEmbeddingType(PositionEmbeddingType.ALIBI).rotaryEmbeddingDim(0)
                        .rotaryEmbeddingScaleType(RotaryScalingType.LINEAR),
                        "rotary_embedding_scale_type = linear: needs a RoPE position_embedding_type, not alibi"),
                rule(b -> b.layerIdx(-1), "layer_idx = -1: must be at least 0"),
                rule(b -> b.tokensPerBlock(0), "tokens_per_block = 0: must be at least 1"));
    }

    private static Arguments rule(UnaryOperator<GptAttentionConfig.Builder> breakIt, String message) {
        return Arguments.of(message, breakIt);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenRules")
    void buildRejectsABrokenRuleNamingFieldValueAndRule(String message, UnaryOperator<GptAttentionConfig.Builder> breakIt) {
        assertThatThrownBy(() -> breakIt.apply(valid()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }
}
