package dev.trtllm4j.runtime;

import static dev.trtllm4j.runtime.RequestType.CONTEXT;
import static dev.trtllm4j.runtime.RequestType.GENERATION;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.runtime.AttentionCase.Result;
import dev.trtllm4j.runtime.AttentionCase.Sequence;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import dev.trtllm4j.embedding.RotaryTables;
import dev.trtllm4j.reference.ReferenceAttention;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One backend against the double-precision reference, over a grid of shapes, batches, windows,
 * position embeddings, scaling variants and storage types: the correctness suite every backend
 * passes, each with its own tolerance per storage type ({@link #tolerance}). Tolerances are
 * absolute, on outputs of magnitude up to 1 from inputs uniform in [-1, 1].
 */
abstract class AttentionAccuracySpec {

    /** The backend under test. */
    abstract Backend backend();

    /** The largest absolute error allowed in a storage type: float32 arithmetic, plus the rounding to it. */
    abstract double tolerance(DataType type);

    /** A mixed batch: a prompt, a generation step, a chunk of a prompt after earlier chunks. */
    static final Sequence[] MIXED_BATCH = {
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
        Result result = AttentionCase.run(backend(), config, 64, AttentionStep.NO_WINDOW, 0, headSize * 31L + group, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
        assertThat(result.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DataType.class)
    void matchesReferenceInEachStorageTypeWithinItsTolerance(DataType type) {
        GptAttentionConfig config = config(128, 4, 4, type)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128).build();
        Result result = AttentionCase.run(backend(), config, 96, AttentionStep.NO_WINDOW, 0, 7, MIXED_BATCH);
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
        Result result = AttentionCase.run(backend(), config, 160, window, sinks, window * 7L + sinks,
                new Sequence(CONTEXT, 130, 0), new Sequence(GENERATION, 1, 99), new Sequence(CONTEXT, 20, 40));
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @Test
    void aWindowWiderThanTheCacheHidesNothingWhateverItsSinks() {
        GptAttentionConfig config = config(64, 2, 2, DataType.FLOAT32)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(64).build();
        Result result = AttentionCase.run(backend(), config, 3, 8, 4, 19, new Sequence(CONTEXT, 3, 0),
                new Sequence(GENERATION, 1, 2));
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = PositionEmbeddingType.class, names = {"LEARNED_ABSOLUTE", "ALIBI", "ALIBI_WITH_SCALE"})
    void matchesReferenceWithoutRope(PositionEmbeddingType type) {
        GptAttentionConfig config = config(64, 6, 3, DataType.FLOAT32).positionEmbeddingType(type).build();
        Result result = AttentionCase.run(backend(), config, 64, AttentionStep.NO_WINDOW, 0, 11, MIXED_BATCH);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "q_scaling {0}, softcap {1}")
    @MethodSource("scalings")
    void appliesQScalingAndLogitSoftCapping(float qScaling, float softcap) {
        GptAttentionConfig config = config(128, 2, 2, DataType.FLOAT32)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128)
                .qScaling(qScaling).attnLogitSoftcappingScale(softcap).build();
        Result result = AttentionCase.run(backend(), config, 64, AttentionStep.NO_WINDOW, 0, 13, MIXED_BATCH);
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
        Result result = AttentionCase.run(backend(), config, 64, AttentionStep.NO_WINDOW, 0, 17, MIXED_BATCH);
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
        Result result = AttentionCase.run(backend(), dynamicNtk(), 96, AttentionStep.NO_WINDOW, 0, 23,
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
        Result result = AttentionCase.run(backend(), longRope(), 96, AttentionStep.NO_WINDOW, 0, 29, batch);
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
        assertThat(result.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    static Stream<GptAttentionConfig> lengthDependentScalings() {
        return Stream.of(dynamicNtk(), longRope());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lengthDependentScalings")
    void oneReusedPluginFollowsShortThenLongSequences(GptAttentionConfig config) {
        try (GptAttentionPlugin plugin = backend().createPlugin(config)) {
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

    /** Scaling variants whose tables the plugin computes by itself, against the reference. */
    static Stream<Arguments> scalingVariants() {
        GptAttentionConfig base = config(64, 2, 2, DataType.FLOAT32)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(64).build();
        return Stream.of(
                base.toBuilder().rotaryEmbeddingScaleType(RotaryScalingType.LINEAR).rotaryEmbeddingScale(4f).build(),
                base.toBuilder().rotaryEmbeddingScaleType(RotaryScalingType.DYNAMIC).rotaryEmbeddingScale(2f)
                        .rotaryEmbeddingMaxPositions(16).build(),
                base.toBuilder().rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3).rotaryEmbeddingScale(8f)
                        .rotaryEmbeddingOriginalMaxPositions(16).build(),
                base.toBuilder().rotaryEmbeddingScaleType(RotaryScalingType.YARN).rotaryEmbeddingScale(4f)
                        .rotaryEmbeddingOriginalMaxPositions(16).build(),
                base.toBuilder().positionEmbeddingType(PositionEmbeddingType.LONG_ROPE)
                        .rotaryEmbeddingScaleType(RotaryScalingType.LONGROPE).rotaryEmbeddingMaxPositions(64)
                        .rotaryEmbeddingOriginalMaxPositions(16).rotaryEmbeddingShortMScale(1.1f)
                        .rotaryEmbeddingLongMScale(1.3f)
                        .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLongRope(
                                Collections.nCopies(32, 1.5), Collections.nCopies(32, 3.0)))
                        .build())
                .flatMap(config -> Stream.of(4, 30).map(past -> Arguments.of(config.rotaryEmbeddingScaleType(), past,
                        config)));
    }

    @ParameterizedTest(name = "{0}, past {1}")
    @MethodSource("scalingVariants")
    void computesItsOwnTablesForEveryScalingVariant(RotaryScalingType scaling, int past, GptAttentionConfig config) {
        Result result = AttentionCase.run(backend(), config, 48, AttentionStep.NO_WINDOW, 0, past,
                new Sequence(CONTEXT, 6, past), new Sequence(GENERATION, 1, 40 - past));
        assertThat(result.contextError()).isLessThan(tolerance(DataType.FLOAT32));
        assertThat(result.cacheError()).isLessThan(tolerance(DataType.FLOAT32));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DataType.class)
    void aPrefillFollowedByDecodeStepsEqualsOneLongPrefill(DataType type) {
        GptAttentionConfig config = config(64, 2, 4, type)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPTJ).rotaryEmbeddingDim(48).build();
        int rowWidth = (8 + 2 * 2) * 64;
        float[] qkv = AttentionCase.randomValues(new Random(3), 40 * rowWidth, type);
        float[] stepwise = promptThenDecode(config, qkv, 25, 40);
        float[] whole = promptThenDecode(config, qkv, 40, 40);
        // Both runs store the same rounded keys and values; prefill and decode may round differently
        // inside (tensor-core operands in the storage type), within the type's tolerance.
        assertThat(AttentionCase.maxDifference(whole, stepwise)).isLessThan(tolerance(type));
    }

    /** Outputs of tokens [0, total): a prompt of the first tokens, then one decode step per token. */
    private float[] promptThenDecode(GptAttentionConfig config, float[] qkv, int prompt, int total) {
        DataType type = config.typeId();
        int rowWidth = qkv.length / total;
        int outWidth = config.numHeads() * config.headSize();
        float[] context = new float[total * outWidth];
        Backend backend = backend();
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = backend.createPlugin(config)) {
            BackendMemory cache = backend.allocate(arena, type, 2L * 2 * config.numKvHeads() * 48 * config.headSize());
            cache.zero();
            BackendMemory first = backend.allocate(arena, type, (long) prompt * outWidth);
            plugin.enqueue(AttentionStep.builder().contextRequest(prompt, 0)
                    .qkv(backend.upload(arena, HostTensors.allocate(arena, type, Arrays.copyOf(qkv, prompt * rowWidth))))
                    .kvCache(cache).context(first).build());
            System.arraycopy(AttentionCase.read(arena, first, type), 0, context, 0, prompt * outWidth);
            BackendMemory token = backend.allocate(arena, type, rowWidth);
            BackendMemory out = backend.allocate(arena, type, outWidth);
            for (int t = prompt; t < total; t++) {
                token.copyFrom(HostTensors.allocate(arena, type, Arrays.copyOfRange(qkv, t * rowWidth, (t + 1) * rowWidth)));
                plugin.enqueue(AttentionStep.builder().generationRequest(t).qkv(token).kvCache(cache).context(out).build());
                System.arraycopy(AttentionCase.read(arena, out, type), 0, context, t * outWidth, outWidth);
            }
        }
        return context;
    }

    @Test
    void usesRotaryTablesGivenWithTheStep() {
        // Tables of another base than the config's: the output must follow the tables given.
        GptAttentionConfig config = config(64, 2, 2, DataType.FLOAT32)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(64).build();
        GptAttentionConfig otherBase = config.toBuilder().rotaryEmbeddingBase(500f).build();
        RotaryTables tables = RotaryTables.compute(otherBase, 48);
        int rowWidth = (4 + 2 * 2) * 64;
        float[] qkv = AttentionCase.randomValues(new Random(5), 6 * rowWidth, DataType.FLOAT32);
        float[] cache = new float[2 * 2 * 48 * 64];
        double[] expected = ReferenceAttention.run(otherBase, qkv, cache.clone(), new int[] {0}, new int[] {6}, new int[] {0}, 48,
                Integer.MAX_VALUE, 0);
        Backend backend = backend();
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = backend.createPlugin(config)) {
            BackendMemory context = backend.allocate(arena, DataType.FLOAT32, 6 * 4 * 64);
            plugin.enqueue(AttentionStep.builder().contextRequest(6, 0)
                    .qkv(backend.upload(arena, arena.allocateFrom(ValueLayout.JAVA_FLOAT, qkv)))
                    .kvCache(backend.upload(arena, arena.allocateFrom(ValueLayout.JAVA_FLOAT, cache))).context(context)
                    .rotaryTables(backend.upload(arena, arena.allocateFrom(ValueLayout.JAVA_FLOAT, tables.invFreq())),
                            backend.upload(arena, arena.allocateFrom(ValueLayout.JAVA_FLOAT, tables.cosSin())))
                    .build());
            assertThat(AttentionCase.maxDifference(expected, AttentionCase.read(arena, context, DataType.FLOAT32)))
                    .isLessThan(tolerance(DataType.FLOAT32));
        }
    }

    static GptAttentionConfig.Builder config(int headSize, int kvHeads, int queriesPerKvHead, DataType type) {
        return GptAttentionConfig.builder().numHeads(kvHeads * queriesPerKvHead).numKvHeads(kvHeads)
                .headSize(headSize).maxContextLength(256).typeId(type);
    }
}
