package dev.trtllm4j.reference;

import static dev.trtllm4j.reference.ReferenceAttention.CONTEXT;
import static dev.trtllm4j.reference.ReferenceAttention.GENERATION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reference's own RoPE frequencies, attention factors and ALiBi slopes against independently
 * computed values ({@code rope_vectors.json}, the ALiBi paper's series written out), and its rotation
 * against the vectors' rotated q and k.
 */
class ReferenceAttentionTest {

    /** The vectors' 12 significant digits; they are exact values, so only rounding separates them. */
    private static final double TOLERANCE = 1e-9;
    private static JsonNode cases;

    @BeforeAll
    static void readVectors() throws IOException {
        try (InputStream in = ReferenceAttentionTest.class.getResourceAsStream("/rope_vectors.json")) {
            cases = new ObjectMapper().readTree(in).get("cases");
        }
    }

    private static GptAttentionConfig.Builder rope(PositionEmbeddingType form, int dim, double base) {
        return GptAttentionConfig.builder().numHeads(1).numKvHeads(1).headSize(32).maxContextLength(64)
                .positionEmbeddingType(form).rotaryEmbeddingDim(dim).rotaryEmbeddingBase((float) base);
    }

    private static GptAttentionConfig.Builder neox8() {
        return rope(PositionEmbeddingType.ROPE_GPT_NEOX, 8, 10000);
    }

    private static double[] doubles(JsonNode array) {
        double[] values = new double[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).asDouble();
        }
        return values;
    }

    private static void assertClose(double[] actual, JsonNode expected, double tolerance) {
        double[] values = doubles(expected);
        assertThat(actual).hasSize(values.length);
        for (int i = 0; i < values.length; i++) {
            assertThat(actual[i]).as("element %d", i).isCloseTo(values[i], within(tolerance * Math.max(1, Math.abs(values[i]))));
        }
    }

    private static JsonNode variant(String name) {
        return cases.at("/D_scaling_variants_dim8_base10000/" + name);
    }

    @Test
    void defaultFrequenciesAreBaseToTheMinusTwoIOverDim() {
        assertClose(ReferenceAttention.inverseFrequencies(neox8().build(), 4, false),
                cases.at("/A_default_full_rotary/inv_freq"), TOLERANCE);
        assertClose(ReferenceAttention.inverseFrequencies(rope(PositionEmbeddingType.ROPE_GPT_NEOX, 8, 500000).build(), 1,
                false), cases.at("/C_inv_freq_other_bases/dim8_base500000"), TOLERANCE);
    }

    @Test
    void linearScalingDividesByTheFactor() {
        GptAttentionConfig config = neox8().rotaryEmbeddingScaleType(RotaryScalingType.LINEAR)
                .rotaryEmbeddingScale(2f).build();
        assertClose(ReferenceAttention.inverseFrequencies(config, 4, false), variant("linear").get("inv_freq"), TOLERANCE);
    }

    @Test
    void dynamicNtkGrowsTheBaseFromTheSequencesLengthOnlyPastMaxPositions() {
        GptAttentionConfig config = neox8().rotaryEmbeddingScaleType(RotaryScalingType.DYNAMIC)
                .rotaryEmbeddingScale(2f).rotaryEmbeddingMaxPositions(2).build();
        assertClose(ReferenceAttention.inverseFrequencies(config, 4, false), variant("dynamic_ntk").get("inv_freq"),
                TOLERANCE);
        assertClose(ReferenceAttention.inverseFrequencies(config, 2, false), cases.at("/A_default_full_rotary/inv_freq"),
                TOLERANCE);
    }

    @Test
    void llama3KeepsHighFrequenciesDividesLowOnesAndBlendsBetween() {
        GptAttentionConfig config = neox8().rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3)
                .rotaryEmbeddingScale(8f).rotaryEmbeddingOriginalMaxPositions(64)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLlama3(1, 4)).build();
        assertClose(ReferenceAttention.inverseFrequencies(config, 1, false), variant("llama3").get("inv_freq"), TOLERANCE);
        GptAttentionConfig llama31 = config.toBuilder().rotaryEmbeddingOriginalMaxPositions(8192).build();
        assertClose(ReferenceAttention.inverseFrequencies(llama31, 1, false),
                variant("llama3_llama31_params").get("inv_freq"), TOLERANCE);
    }

    @Test
    void yarnRampsFrequenciesAndScalesByTheRatioOfMscales() {
        GptAttentionConfig config = neox8().rotaryEmbeddingScaleType(RotaryScalingType.YARN)
                .rotaryEmbeddingScale(4f).rotaryEmbeddingOriginalMaxPositions(64).build();
        assertClose(ReferenceAttention.inverseFrequencies(config, 1, false), variant("yarn").get("inv_freq"), TOLERANCE);
        assertThat(ReferenceAttention.attentionFactor(config, false))
                .isCloseTo(variant("yarn").get("attention_factor").asDouble(), within(TOLERANCE));
        GptAttentionConfig ratio = config.toBuilder()
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withYarn(32, 1, 0.707, 0.707)).build();
        assertThat(ReferenceAttention.attentionFactor(ratio, false))
                .isCloseTo(variant("yarn_mscale_ratio_example").get("attention_factor").asDouble(), within(TOLERANCE));
    }

    @Test
    void longRopeDividesByShortOrLongFactorsAndTakesTheMatchingAttentionFactor() {
        JsonNode longrope = variant("longrope");
        GptAttentionConfig config = longRope(64);
        assertClose(ReferenceAttention.inverseFrequencies(config, 1, false), longrope.get("inv_freq_short"), TOLERANCE);
        assertClose(ReferenceAttention.inverseFrequencies(config, 1, true), longrope.get("inv_freq_long"), TOLERANCE);
        assertThat(ReferenceAttention.attentionFactor(config, false)).isEqualTo(1.0);
        // The long factor is stored as float32 in the plugin field.
        assertThat(ReferenceAttention.attentionFactor(config, true))
                .isCloseTo(longrope.get("attention_factor").asDouble(), within(1e-7));
    }

    @Test
    void longRopeChoosesLongFactorsPerRequestTypeFromNewTokensOrGeneratedLength() {
        GptAttentionConfig config = longRope(64);
        // A 64-token prompt stays short; 65 new tokens are long; a generation step at past 64 is 65 long.
        assertThat(ReferenceAttention.longRopeLongFactors(config, new int[] {CONTEXT, GENERATION}, new int[] {64, 1},
                new int[] {0, 63})).containsExactly(false, false);
        assertThat(ReferenceAttention.longRopeLongFactors(config, new int[] {CONTEXT, GENERATION}, new int[] {65, 1},
                new int[] {0, 10})).containsExactly(true, false);
        assertThat(ReferenceAttention.longRopeLongFactors(config, new int[] {CONTEXT, GENERATION}, new int[] {8, 1},
                new int[] {100, 64})).containsExactly(false, true);
    }

    private static GptAttentionConfig longRope(int original) {
        double factor = Math.sqrt(1 + Math.log(2) / Math.log(original)); // Hugging Face's default for 128 / 64
        return neox8().positionEmbeddingType(PositionEmbeddingType.LONG_ROPE)
                .rotaryEmbeddingScaleType(RotaryScalingType.LONGROPE).rotaryEmbeddingMaxPositions(128)
                .rotaryEmbeddingOriginalMaxPositions(original).rotaryEmbeddingShortMScale(1f)
                .rotaryEmbeddingLongMScale((float) factor)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLongRope(List.of(1.0, 1.0, 1.0, 1.0),
                        List.of(1.0, 2.0, 4.0, 8.0)))
                .build();
    }

    @Test
    void alibiSlopesFollowThePapersGeometricSeries() {
        GptAttentionConfig.Builder alibi = GptAttentionConfig.builder().numKvHeads(1).headSize(64).maxContextLength(8)
                .positionEmbeddingType(PositionEmbeddingType.ALIBI);
        assertThat(ReferenceAttention.alibiSlopes(alibi.numHeads(8).numKvHeads(8).build()))
                .containsExactly(1.0 / 2, 1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256);
        // 12 heads: eight of 2^(-k), then 2^(-0.5), 2^(-1.5), 2^(-2.5), 2^(-3.5).
        double[] twelve = ReferenceAttention.alibiSlopes(alibi.numHeads(12).numKvHeads(12).build());
        assertThat(twelve[8]).isCloseTo(Math.sqrt(0.5), within(1e-15));
        assertThat(twelve[11]).isCloseTo(0.125 * Math.sqrt(0.5), within(1e-15));
        assertThat(ReferenceAttention.alibiSlopes(alibi.numHeads(4).numKvHeads(4).tpSize(2).tpRank(1).build()))
                .containsExactly(1.0 / 32, 1.0 / 64, 1.0 / 128, 1.0 / 256);
    }

    /** The vector in features 0..7 of a 32-wide head, K slot of a one-token context request at pos. */
    static float[] oneToken(double[] vector) {
        float[] qkv = new float[3 * 32];
        for (int i = 0; i < vector.length; i++) {
            qkv[32 + i] = (float) vector[i];
        }
        return qkv;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gptj_interleaved", "gpt_neox_rotate_half"})
    void rotatesTheVectorsQAndKAsPublished(String form) {
        JsonNode full = cases.at("/A_default_full_rotary");
        GptAttentionConfig config = rope(form.startsWith("gptj") ? PositionEmbeddingType.ROPE_GPTJ
                : PositionEmbeddingType.ROPE_GPT_NEOX, 8, 10000).build();
        for (String vector : List.of("q", "k")) {
            for (int pos = 0; pos < 4; pos++) {
                float[] cache = new float[2 * 4 * 32];
                ReferenceAttention.run(config, oneToken(doubles(full.at("/inputs/" + vector))), cache,
                        new int[] {CONTEXT}, new int[] {1}, new int[] {pos}, 4, Integer.MAX_VALUE, 0);
                double[] rotated = new double[8];
                for (int i = 0; i < 8; i++) {
                    rotated[i] = cache[pos * 32 + i];
                }
                // The cache holds float32: 1e-7 relative on values up to 8.
                assertClose(rotated, full.at("/" + form + "/" + vector + "_out[pos]").get(pos), 1e-7);
            }
        }
    }
}
