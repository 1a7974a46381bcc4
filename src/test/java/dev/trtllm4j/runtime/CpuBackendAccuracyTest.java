package dev.trtllm4j.runtime;

import static dev.trtllm4j.runtime.RequestType.CONTEXT;
import static dev.trtllm4j.runtime.RequestType.GENERATION;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import dev.trtllm4j.runtime.AttentionCase.Result;
import dev.trtllm4j.runtime.AttentionCase.Sequence;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU backend against the double-precision reference, over a grid of shapes, batches, windows,
 * position embeddings and storage types. Tolerances are absolute, on outputs of magnitude up to 1,
 * a few times the largest error seen: float32 arithmetic alone (seen: 5e-7); for float16 (3e-4) and
 * bfloat16 (2e-3) also the rounding of the rotated K in the cache and of the output to that type.
 */
class CpuBackendAccuracyTest {

    private static final Backend CPU = Backend.open("cpu");

    static double tolerance(DataType type) {
        return switch (type) {
            case FLOAT32 -> 1e-6;
            case FLOAT16 -> 1e-3;
            case BFLOAT16 -> 8e-3;
        };
    }

    /** A mixed batch: a prompt, a generation step, a chunk of a prompt after earlier chunks. */
    private static final Sequence[] MIXED_BATCH = {
        new Sequence(CONTEXT, 37, 0), new Sequence(GENERATION, 1, 52), new Sequence(CONTEXT, 9, 20),
    };

    static Stream<Arguments> shapes() {
        List<Arguments> grid = new ArrayList<>();
        int[][] headAndRotary = {{64, 64}, {64, 32}, {128, 128}, {128, 64}, {256, 256}, {256, 128}};
        int[] queriesPerKvHead = {1, 4, 8};
        for (int[] hr : headAndRotary) {
            for (int group : queriesPerKvHead) {
                grid.add(Arguments.of(hr[0], hr[1], group, PositionEmbeddingType.ROPE_GPT_NEOX));
            }
            grid.add(Arguments.of(hr[0], hr[1], 4, PositionEmbeddingType.ROPE_GPTJ));
        }
        return grid.stream();
    }

    @ParameterizedTest(name = "head_size {0}, rotary_dim {1}, {2} queries per KV head, {3}")
    @MethodSource("shapes")
    void matchesReferenceAcrossHeadSizesRotaryDimsAndGqaRatios(int headSize, int rotaryDim, int group,
            PositionEmbeddingType form) {
        GptAttentionConfig config = config(headSize, 2, group, DataType.FLOAT32)
                .positionEmbeddingType(form).rotaryEmbeddingDim(rotaryDim).build();
        Result result = AttentionCase.run(CPU, config, 64, AttentionStep.NO_WINDOW, 0, headSize * 31L + group, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
        assertThat(result.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DataType.class)
    void matchesReferenceInEachStorageTypeWithinItsTolerance(DataType type) {
        GptAttentionConfig config = config(128, 4, 4, type)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128).build();
        Result result = AttentionCase.run(CPU, config, 96, AttentionStep.NO_WINDOW, 0, 7, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(type));
        assertThat(result.cacheError()).isLessThan(tolerance(type));
    }

    static Stream<Arguments> windows() {
        return Stream.of(Arguments.of(16, 0), Arguments.of(16, 4), Arguments.of(70, 1), Arguments.of(1, 0),
                Arguments.of(5, 4));
    }

    @ParameterizedTest(name = "window {0}, sinks {1}")
    @MethodSource("windows")
    void attentionWindowKeepsSinksAndTheLatestPositions(int window, int sinks) {
        GptAttentionConfig config = config(64, 2, 2, DataType.FLOAT32)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(64).build();
        Result result = AttentionCase.run(CPU, config, 160, window, sinks, window * 7L + sinks,
                new Sequence(CONTEXT, 130, 0), new Sequence(GENERATION, 1, 99), new Sequence(CONTEXT, 20, 40));
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = PositionEmbeddingType.class, names = {"LEARNED_ABSOLUTE", "ALIBI", "ALIBI_WITH_SCALE"})
    void matchesReferenceWithoutRope(PositionEmbeddingType type) {
        GptAttentionConfig config = config(64, 6, 3, DataType.FLOAT32).positionEmbeddingType(type).build();
        Result result = AttentionCase.run(CPU, config, 64, AttentionStep.NO_WINDOW, 0, 11, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "q_scaling {0}, softcap {1}")
    @MethodSource("scalings")
    void appliesQScalingAndLogitSoftCapping(float qScaling, float softcap) {
        GptAttentionConfig config = config(128, 2, 2, DataType.FLOAT32)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128)
                .qScaling(qScaling).attnLogitSoftcappingScale(softcap).build();
        Result result = AttentionCase.run(CPU, config, 64, AttentionStep.NO_WINDOW, 0, 13, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    static Stream<Arguments> scalings() {
        return Stream.of(Arguments.of(0.125f, 0f), Arguments.of(1f, 5f), Arguments.of(0.05f, 2f));
    }

    @ParameterizedTest(name = "{0} KV heads for 8 query heads")
    @EnumSource(value = DataType.class)
    void multiQueryAttentionSharesOneKvHead(DataType type) {
        GptAttentionConfig config = config(64, 1, 8, type)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPTJ).rotaryEmbeddingDim(32).build();
        Result result = AttentionCase.run(CPU, config, 64, AttentionStep.NO_WINDOW, 0, 17, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(type));
    }

    /** Dynamic NTK with max positions 32: sequences below, at and past it, side by side. */
    static GptAttentionConfig dynamicNtk() {
        return config(64, 2, 2, DataType.FLOAT32).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(64).rotaryEmbeddingScaleType(RotaryScalingType.DYNAMIC).rotaryEmbeddingScale(4f)
                .rotaryEmbeddingMaxPositions(32).build();
    }

    /** longrope with an original context of 32 and distinct short and long factors and m_scales. */
    static GptAttentionConfig longRope() {
        List<Double> shortFactors = new ArrayList<>(), longFactors = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            shortFactors.add(1.0 + i / 64.0);
            longFactors.add(1.0 + i / 4.0);
        }
        return config(64, 2, 2, DataType.FLOAT32).positionEmbeddingType(PositionEmbeddingType.LONG_ROPE)
                .rotaryEmbeddingDim(64).rotaryEmbeddingScaleType(RotaryScalingType.LONGROPE)
                .rotaryEmbeddingMaxPositions(128).rotaryEmbeddingOriginalMaxPositions(32)
                .rotaryEmbeddingShortMScale(0.9f).rotaryEmbeddingLongMScale(1.2f)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLongRope(shortFactors, longFactors)).build();
    }

    @Test
    void dynamicNtkGrowsEachSequencesBaseFromItsOwnLength() {
        // Short prompts and a short generation keep the base; the long prompt and generation grow their own.
        Result result = AttentionCase.run(CPU, dynamicNtk(), 96, AttentionStep.NO_WINDOW, 0, 23,
                new Sequence(CONTEXT, 8, 0), new Sequence(CONTEXT, 40, 0), new Sequence(GENERATION, 1, 20),
                new Sequence(GENERATION, 1, 70), new Sequence(CONTEXT, 10, 30));
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
        assertThat(result.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    static Stream<Arguments> longRopeBatches() {
        return Stream.of(
                Arguments.of("short prompt, long generation",
                        new Sequence[] {new Sequence(CONTEXT, 8, 0), new Sequence(GENERATION, 1, 60)}),
                Arguments.of("long prompt, short generation",
                        new Sequence[] {new Sequence(CONTEXT, 40, 0), new Sequence(GENERATION, 1, 10)}),
                Arguments.of("a chunk of a long prompt counts its new tokens",
                        new Sequence[] {new Sequence(CONTEXT, 16, 50), new Sequence(CONTEXT, 4, 0)}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("longRopeBatches")
    void longRopeChoosesItsTablesForContextAndGenerationRequestsApart(String name, Sequence[] batch) {
        Result result = AttentionCase.run(CPU, longRope(), 96, AttentionStep.NO_WINDOW, 0, 29, batch);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
        assertThat(result.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    static Stream<GptAttentionConfig> lengthDependentScalings() {
        return Stream.of(dynamicNtk(), longRope());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lengthDependentScalings")
    void oneReusedPluginFollowsShortThenLongSequences(GptAttentionConfig config) {
        try (GptAttentionPlugin plugin = CPU.createPlugin(config)) {
            // A short cache first, then a longer one whose positions the first tables do not reach, with
            // sequences past both scalings' thresholds, then short again.
            Result[] steps = {
                AttentionCase.run(plugin, 16, AttentionStep.NO_WINDOW, 0, 31, new Sequence(CONTEXT, 12, 0)),
                AttentionCase.run(plugin, 96, AttentionStep.NO_WINDOW, 0, 37, new Sequence(CONTEXT, 40, 0),
                        new Sequence(GENERATION, 1, 80)),
                AttentionCase.run(plugin, 96, AttentionStep.NO_WINDOW, 0, 41, new Sequence(CONTEXT, 6, 0)),
            };
            for (Result step : steps) {
                assertThat(step.contextError()).isLessThan(tolerance(DataType.FLOAT32));
                assertThat(step.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
            }
        }
    }

    static GptAttentionConfig.Builder config(int headSize, int kvHeads, int queriesPerKvHead, DataType type) {
        return GptAttentionConfig.builder().numHeads(kvHeads * queriesPerKvHead).numKvHeads(kvHeads)
                .headSize(headSize).maxContextLength(256).typeId(type);
    }
}
