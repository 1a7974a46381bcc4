package dev.trtllm4j.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tables against the double-precision vectors of {@code rope_vectors.json} (computed
 * independently from Hugging Face's and TensorRT-LLM's definitions), to 1e-6.
 */
class RotaryTablesTest {

    private static final double TOLERANCE = 1e-6;
    private static JsonNode cases;

    @BeforeAll
    static void readVectors() throws IOException {
        try (InputStream in = RotaryTablesTest.class.getResourceAsStream("/rope_vectors.json")) {
            cases = new ObjectMapper().readTree(in).get("cases");
        }
    }

    private static GptAttentionConfig.Builder rope(int dim, double base) {
        return GptAttentionConfig.builder().numHeads(1).numKvHeads(1).headSize(32).maxContextLength(64)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(dim)
                .rotaryEmbeddingBase((float) base);
    }

    private static double[] doubles(JsonNode array) {
        double[] values = new double[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asDouble();
        }
        return values;
    }

    private static void assertClose(float[] actual, double[] expected) {
        assertThat(actual).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(TOLERANCE));
        }
    }

    private static void assertClose(double[] actual, double[] expected) {
        assertThat(actual).hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(TOLERANCE));
        }
    }

    @Test
    void inverseFrequenciesAreBaseToTheMinusTwoIOverDim() {
        RotaryTables tables = RotaryTables.compute(rope(8, 10000).build(), 4);
        assertClose(tables.invFreq(), doubles(cases.at("/A_default_full_rotary/inv_freq")));
    }

    @Test
    void cosSinTableIsLaidOutPositionFrequencyCosSin() {
        RotaryTables tables = RotaryTables.compute(rope(8, 10000).build(), 4);
        List<Double> expected = new ArrayList<>();
        cases.at("/A_default_full_rotary/trtllm_rotary_cos_sin_layout_[pos][i][cos,sin]").forEach(
                pos -> pos.forEach(pair -> pair.forEach(value -> expected.add(value.asDouble()))));
        assertClose(tables.cosSin(), expected.stream().mapToDouble(Double::doubleValue).toArray());
        assertThat(tables.positions()).isEqualTo(4);
        assertThat(tables.attentionFactor()).isEqualTo(1.0);
    }

    @Test
    void partialRotaryUsesTheRotaryDimInTheExponent() {
        assertClose(RotaryTables.compute(rope(4, 10000).build(), 1).invFreq(),
                doubles(cases.at("/B_partial_rotary/inv_freq")));
    }

    @Test
    void otherBasesFollowTheSameFormula() {
        assertClose(RotaryTables.inverseFrequencies(rope(8, 500000).build()),
                doubles(cases.at("/C_inv_freq_other_bases/dim8_base500000")));
        assertClose(RotaryTables.inverseFrequencies(rope(8, 1000000).build()),
                doubles(cases.at("/C_inv_freq_other_bases/dim8_base1000000")));
        double[] dim128 = RotaryTables.inverseFrequencies(rope(128, 10000).headSize(128).build());
        double[] expected = doubles(cases.at("/C_inv_freq_other_bases/dim128_base10000_first4_last2"));
        assertClose(new double[] {dim128[0], dim128[1], dim128[2], dim128[3], dim128[62], dim128[63]}, expected);
    }

    @Test
    void linearScalingDividesFrequenciesByTheFactor() {
        GptAttentionConfig config = rope(8, 10000).rotaryEmbeddingScaleType(RotaryScalingType.LINEAR)
                .rotaryEmbeddingScale(2f).build();
        assertClose(RotaryTables.inverseFrequencies(config),
                doubles(cases.at("/D_scaling_variants_dim8_base10000/linear/inv_freq")));
    }

    @Test
    void dynamicScalingTablesKeepTheUnscaledBaseForTheBackendToGrow() {
        GptAttentionConfig config = rope(8, 10000).rotaryEmbeddingScaleType(RotaryScalingType.DYNAMIC)
                .rotaryEmbeddingScale(2f).rotaryEmbeddingMaxPositions(2).build();
        assertClose(RotaryTables.compute(config, 4).invFreq(), doubles(cases.at("/A_default_full_rotary/inv_freq")));
    }

    @Test
    void llama3KeepsHighDividesLowAndSmoothsBetween() {
        GptAttentionConfig config = rope(8, 10000).rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3)
                .rotaryEmbeddingScale(8f).rotaryEmbeddingOriginalMaxPositions(64)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLlama3(1, 4)).build();
        assertClose(RotaryTables.inverseFrequencies(config),
                doubles(cases.at("/D_scaling_variants_dim8_base10000/llama3/inv_freq")));
        GptAttentionConfig llama31 = config.toBuilder().rotaryEmbeddingOriginalMaxPositions(8192).build();
        assertClose(RotaryTables.inverseFrequencies(llama31),
                doubles(cases.at("/D_scaling_variants_dim8_base10000/llama3_llama31_params/inv_freq")));
    }

    @Test
    void yarnRampsBetweenInterpolationAndExtrapolationAndScalesTheTable() {
        GptAttentionConfig config = rope(8, 10000).rotaryEmbeddingScaleType(RotaryScalingType.YARN)
                .rotaryEmbeddingScale(4f).rotaryEmbeddingOriginalMaxPositions(64).build();
        JsonNode yarn = cases.at("/D_scaling_variants_dim8_base10000/yarn");
        assertClose(RotaryTables.inverseFrequencies(config), doubles(yarn.get("inv_freq")));
        RotaryTables tables = RotaryTables.compute(config, 2);
        assertThat(tables.attentionFactor()).isCloseTo(yarn.get("attention_factor").asDouble(), within(TOLERANCE));
        List<Double> position1 = new ArrayList<>();
        yarn.get("cos_sin_scaled_by_attention_factor_pos1").forEach(pair -> pair.forEach(v -> position1.add(v.asDouble())));
        float[] row1 = java.util.Arrays.copyOfRange(tables.cosSin(), 8, 16);
        assertClose(row1, position1.stream().mapToDouble(Double::doubleValue).toArray());
    }

    @Test
    void yarnAttentionFactorIsTheRatioOfMscales() {
        JsonNode example = cases.at("/D_scaling_variants_dim8_base10000/yarn_mscale_ratio_example");
        GptAttentionConfig config = rope(8, 10000).rotaryEmbeddingScaleType(RotaryScalingType.YARN)
                .rotaryEmbeddingScale(4f).rotaryEmbeddingOriginalMaxPositions(64)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withYarn(32, 1, 0.707, 0.707)).build();
        assertThat(RotaryTables.attentionFactor(config))
                .isCloseTo(example.get("attention_factor").asDouble(), within(TOLERANCE));
    }

    @Test
    void longRopeHasShortAndLongFactorTablesEachWithItsAttentionFactor() {
        JsonNode longrope = cases.at("/D_scaling_variants_dim8_base10000/longrope");
        List<Double> shortFactors = List.of(1.0, 1.0, 1.0, 1.0);
        List<Double> longFactors = List.of(1.0, 2.0, 4.0, 8.0);
        double factor = RotaryTables.longRopeAttentionFactor(128, 64);
        // Distinct short and long factors, so that a swap of the two shows.
        GptAttentionConfig config = rope(8, 10000).positionEmbeddingType(PositionEmbeddingType.LONG_ROPE)
                .rotaryEmbeddingScaleType(RotaryScalingType.LONGROPE).rotaryEmbeddingMaxPositions(128)
                .rotaryEmbeddingOriginalMaxPositions(64).rotaryEmbeddingShortMScale(1f)
                .rotaryEmbeddingLongMScale((float) factor)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLongRope(shortFactors, longFactors)).build();
        assertThat(factor).isCloseTo(longrope.get("attention_factor").asDouble(), within(TOLERANCE));
        RotaryTables shortTables = RotaryTables.compute(config, 2);
        RotaryTables longTables = RotaryTables.computeLongRope(config, 2);
        assertClose(shortTables.invFreq(), doubles(longrope.get("inv_freq_short")));
        assertClose(longTables.invFreq(), doubles(longrope.get("inv_freq_long")));
        assertThat(shortTables.attentionFactor()).isEqualTo(1.0);
        assertThat(longTables.attentionFactor()).isCloseTo(longrope.get("attention_factor").asDouble(), within(TOLERANCE));
        // Position 1, pair 3: cos(0.000125) times the long factor's mscale.
        assertThat((double) longTables.cosSin()[8 + 6])
                .isCloseTo(Math.cos(0.000125) * longrope.get("attention_factor").asDouble(), within(TOLERANCE));
        assertThat((double) shortTables.cosSin()[8 + 6]).isCloseTo(Math.cos(0.001), within(TOLERANCE));
    }

    @Test
    void onlyLongropeHasLongFactorTables() {
        assertThatThrownBy(() -> RotaryTables.computeLongRope(rope(8, 10000).build(), 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("rotary_embedding_scale_type = none: only longrope has long-factor tables");
    }

    @Test
    void tablesOfAConfigWithoutRopeAreRefusedByName() {
        GptAttentionConfig alibi = GptAttentionConfig.builder().numHeads(1).numKvHeads(1).headSize(32)
                .maxContextLength(8).positionEmbeddingType(PositionEmbeddingType.ALIBI).build();
        assertThatThrownBy(() -> RotaryTables.compute(alibi, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("position_embedding_type = alibi");
    }
}
