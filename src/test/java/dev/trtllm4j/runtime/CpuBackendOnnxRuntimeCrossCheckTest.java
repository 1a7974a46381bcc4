package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtException;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.embedding.RotaryTables;
import dev.trtllm4j.onnx.OrtGroupQueryAttention;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU backend against ONNX Runtime's {@code GroupQueryAttention} (an implementation nobody on this
 * team wrote), on the same random inputs and the same RoPE table. {@link OrtGroupQueryAttention} states
 * how the two operators' conventions map onto each other.
 *
 * <p>Both compute in float32, in different orders (ORT with GEMMs over whole rows and a softmax after,
 * ours with an online softmax over key blocks), so outputs of magnitude up to 1 agree to within
 * 1e-6 (largest difference seen: 2.4e-7). The cache holds K after RoPE and V as given, the same
 * products summed in either order, so it agrees to within 5e-7 (seen: 1.2e-7, one float32 step at 1).
 */
class CpuBackendOnnxRuntimeCrossCheckTest {

    private static final Backend CPU = Backend.open("cpu");
    private static final double OUTPUT_TOLERANCE = 1e-6;
    private static final double CACHE_TOLERANCE = 5e-7;

    /** Query heads, KV heads, head size, rotary dim: GQA, MHA, MQA, a Llama-3 layer, partial rotary. */
    private static final int[][] SHAPES = {{8, 2, 64, 64}, {4, 4, 128, 128}, {8, 1, 32, 32}, {32, 8, 128, 128},
        {4, 2, 128, 64}};

    static Stream<Arguments> shapesAndRopeForms() {
        return Stream.of(PositionEmbeddingType.ROPE_GPT_NEOX, PositionEmbeddingType.ROPE_GPTJ)
                .flatMap(form -> Arrays.stream(SHAPES).map(s -> Arguments.of(s[0], s[1], s[2], s[3], form)));
    }

    @ParameterizedTest(name = "{0} heads, {1} KV heads, head_size {2}, rotary_dim {3}, {4}")
    @MethodSource("shapesAndRopeForms")
    void prefillOfTwoPromptsAgreesWithOnnxRuntime(int heads, int kvHeads, int headSize, int rotaryDim,
            PositionEmbeddingType form) throws OrtException {
        Comparison result = compare(config(heads, kvHeads, headSize, rotaryDim, form), 41, new int[] {0, 0}, 96,
                heads * 7L + headSize);
        assertThat(result.outputError()).isLessThan(OUTPUT_TOLERANCE);
        assertThat(result.cacheError()).isLessThan(CACHE_TOLERANCE);
    }

    @ParameterizedTest(name = "{0} heads, {1} KV heads, head_size {2}, rotary_dim {3}, {4}")
    @MethodSource("shapesAndRopeForms")
    void decodeOfSequencesWithDifferentPastsAgreesWithOnnxRuntime(int heads, int kvHeads, int headSize,
            int rotaryDim, PositionEmbeddingType form) throws OrtException {
        Comparison result = compare(config(heads, kvHeads, headSize, rotaryDim, form), 1, new int[] {5, 130, 64, 1},
                160, heads * 11L + headSize);
        assertThat(result.outputError()).isLessThan(OUTPUT_TOLERANCE);
        assertThat(result.cacheError()).isLessThan(CACHE_TOLERANCE);
    }

    @ParameterizedTest(name = "{0} heads, {1} KV heads, head_size {2}, rotary_dim {3}, {4}")
    @MethodSource("shapesAndRopeForms")
    void promptChunkAfterEarlierChunksAgreesWithOnnxRuntime(int heads, int kvHeads, int headSize, int rotaryDim,
            PositionEmbeddingType form) throws OrtException {
        Comparison result = compare(config(heads, kvHeads, headSize, rotaryDim, form), 23, new int[] {70}, 128,
                heads * 13L + headSize);
        assertThat(result.outputError()).isLessThan(OUTPUT_TOLERANCE);
        assertThat(result.cacheError()).isLessThan(CACHE_TOLERANCE);
    }

    private static GptAttentionConfig config(int heads, int kvHeads, int headSize, int rotaryDim,
            PositionEmbeddingType form) {
        return GptAttentionConfig.builder().numHeads(heads).numKvHeads(kvHeads).headSize(headSize)
                .positionEmbeddingType(form).rotaryEmbeddingDim(rotaryDim).maxContextLength(256)
                .typeId(DataType.FLOAT32).build();
    }

    record Comparison(double outputError, double cacheError) {}

    /** One step of {@code newTokens} tokens per sequence on random inputs, on both; the largest differences. */
    private static Comparison compare(GptAttentionConfig config, int newTokens, int[] pastLengths, int maxSeqLen,
            long seed) throws OrtException {
        int batch = pastLengths.length;
        int heads = config.numHeads(), kvHeads = config.numKvHeads(), headSize = config.headSize();
        Random random = new Random(seed);
        float[] qkv = randomValues(random, batch * newTokens * (heads + 2 * kvHeads) * headSize);
        float[] cache = randomValues(random, batch * 2 * kvHeads * maxSeqLen * headSize);
        RotaryTables tables = RotaryTables.compute(config, maxSeqLen);
        int outputElements = batch * newTokens * heads * headSize;

        try (Arena arena = Arena.ofConfined();
                GptAttentionPlugin plugin = CPU.createPlugin(config);
                OrtGroupQueryAttention ort = new OrtGroupQueryAttention(heads, kvHeads, headSize,
                        config.rotaryEmbeddingDim(), config.positionEmbeddingType() == PositionEmbeddingType.ROPE_GPTJ,
                        (float) (1 / (config.qScaling() * Math.sqrt(headSize))), 2)) {
            MemorySegment ourCache = arena.allocateFrom(ValueLayout.JAVA_FLOAT, cache);
            MemorySegment ourOutput = arena.allocate((long) outputElements * Float.BYTES, 64);
            AttentionStep.Builder step = AttentionStep.builder().qkv(arena.allocateFrom(ValueLayout.JAVA_FLOAT, qkv))
                    .kvCache(ourCache).context(ourOutput)
                    .rotaryTables(arena.allocateFrom(ValueLayout.JAVA_FLOAT, tables.invFreq()),
                            arena.allocateFrom(ValueLayout.JAVA_FLOAT, tables.cosSin()));
            for (int past : pastLengths) {
                step.sequence(newTokens == 1 && past > 0 ? RequestType.GENERATION : RequestType.CONTEXT, newTokens, past);
            }
            plugin.enqueue(step.build());

            // ORT's past_key and past_value: the K and V halves of each sequence's slice of our cache.
            long half = (long) kvHeads * maxSeqLen * headSize;
            float[] keys = new float[(int) (batch * half)], values = new float[(int) (batch * half)];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(cache, (int) (2 * b * half), keys, (int) (b * half), (int) half);
                System.arraycopy(cache, (int) ((2 * b + 1) * half), values, (int) (b * half), (int) half);
            }
            MemorySegment pastKey = arena.allocateFrom(ValueLayout.JAVA_FLOAT, keys);
            MemorySegment pastValue = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            MemorySegment ortOutput = arena.allocate((long) outputElements * Float.BYTES, 64);
            MemorySegment[] cosSin = OrtGroupQueryAttention.splitCosSin(arena, tables.cosSin());
            try (OrtGroupQueryAttention.Binding binding = ort.bind(batch, newTokens, pastLengths,
                    arena.allocateFrom(ValueLayout.JAVA_FLOAT, qkv), pastKey, pastValue, cosSin[0], cosSin[1],
                    ortOutput)) {
                binding.run();
            }

            float[] ourCacheAfter = ourCache.toArray(ValueLayout.JAVA_FLOAT);
            float[] ortKeys = pastKey.toArray(ValueLayout.JAVA_FLOAT), ortValues = pastValue.toArray(ValueLayout.JAVA_FLOAT);
            double cacheError = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < half; i++) {
                    cacheError = Math.max(cacheError, Math.abs(ourCacheAfter[(int) (2 * b * half + i)] - ortKeys[(int) (b * half + i)]));
                    cacheError = Math.max(cacheError,
                            Math.abs(ourCacheAfter[(int) ((2 * b + 1) * half + i)] - ortValues[(int) (b * half + i)]));
                }
            }
            return new Comparison(maxDifference(ourOutput.toArray(ValueLayout.JAVA_FLOAT),
                    ortOutput.toArray(ValueLayout.JAVA_FLOAT)), cacheError);
        }
    }

    private static float[] randomValues(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
