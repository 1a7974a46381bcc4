package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.reference.ReferenceAttention;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rounding to the 16-bit storage types, bit for bit: what {@link HostTensors} writes, and what the CPU
 * backend stores in the cache, against round-to-nearest-even written here from its definition (hand
 * values at ties, {@link Math#rint} scaled to the type's precision elsewhere). The attention
 * tolerances then only have to cover arithmetic.
 */
class StorageRoundingTest {

    private static final Backend CPU = Backend.open("cpu");

    /** Float bit patterns at and around bfloat16 ties, and the bfloat16 each rounds to. */
    private static final int[][] BFLOAT16_TIES = {
        {0x3F808000, 0x3F80}, // 1 + 2^-8: halfway, the even neighbour is below
        {0x3F818000, 0x3F82}, // 1 + 3 * 2^-8: halfway, the even neighbour is above
        {0x3F808001, 0x3F81}, // just above halfway
        {0x3F807FFF, 0x3F80}, // just below halfway
        {0xBF818000, 0xBF82}, // negative, halfway, even above in magnitude
    };

    /** The same for float16: float bits and the half each rounds to. */
    private static final int[][] FLOAT16_TIES = {
        {0x3F801000, 0x3C00}, // 1 + 2^-11: halfway, even below
        {0x3F803000, 0x3C02}, // 1 + 3 * 2^-11: halfway, even above
        {0x3F801001, 0x3C01}, // just above halfway
        {0x3F800FFF, 0x3C00}, // just below halfway
        {0xBF803000, 0xBC02}, // negative, halfway, even above in magnitude
    };

    private static int[][] ties(DataType type) {
        return type == DataType.BFLOAT16 ? BFLOAT16_TIES : FLOAT16_TIES;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DataType.class, names = {"FLOAT16", "BFLOAT16"})
    void hostTensorsRoundTiesToEven(DataType type) {
        try (Arena arena = Arena.ofConfined()) {
            int[][] ties = ties(type);
            float[] values = new float[ties.length];
            for (int i = 0; i < ties.length; i++) {
                values[i] = Float.intBitsToFloat(ties[i][0]);
            }
            MemorySegment tensor = HostTensors.allocate(arena, type, values);
            for (int i = 0; i < ties.length; i++) {
                assertThat(tensor.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xffff).as("0x%08X", ties[i][0])
                        .isEqualTo(ties[i][1]);
            }
        }
    }

    /**
     * A key of ones at position 1 rotated by a table whose sines are 0 and whose cosines are the tie
     * values: the float32 rotation is then exactly the cosine, and the cache holds its rounding.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DataType.class, names = {"FLOAT16", "BFLOAT16"})
    void backendRoundsRotatedKeysToNearestEvenAtTies(DataType type) {
        int headSize = 64, half = 32;
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(1).numKvHeads(1).headSize(headSize)
                .maxContextLength(8).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(headSize).typeId(type).build();
        int[][] ties = ties(type);
        float[] cosSin = new float[2 * half * 2];
        for (int i = 0; i < half; i++) {
            cosSin[2 * i] = 1;
            cosSin[2 * (half + i)] = Float.intBitsToFloat(ties[i % ties.length][0]);
        }
        float[] qkv = new float[3 * headSize];
        java.util.Arrays.fill(qkv, headSize, 2 * headSize, 1f);
        try (Arena arena = Arena.ofConfined();
                GptAttentionPlugin plugin = CPU.createPlugin(config)) {
            MemorySegment cache = HostTensors.zeros(arena, type, 2L * 2 * headSize);
            plugin.enqueue(AttentionStep.builder().contextRequest(1, 1)
                    .qkv(HostTensors.allocate(arena, type, qkv)).kvCache(cache)
                    .context(HostTensors.zeros(arena, type, headSize))
                    .rotaryTables(arena.allocateFrom(ValueLayout.JAVA_FLOAT, new float[half]),
                            arena.allocateFrom(ValueLayout.JAVA_FLOAT, cosSin))
                    .build());
            for (int i = 0; i < half; i++) {
                int expected = ties[i % ties.length][1];
                assertThat(cache.getAtIndex(ValueLayout.JAVA_SHORT, headSize + i) & 0xffff).as("feature %d", i)
                        .isEqualTo(expected);
                assertThat(cache.getAtIndex(ValueLayout.JAVA_SHORT, headSize + half + i) & 0xffff)
                        .as("feature %d", half + i).isEqualTo(expected);
            }
        }
    }

    /** value rounded to nearest, ties to even, with the type's significand bits and smallest normal exponent. */
    static double roundToNearestEven(double value, DataType type) {
        int significandBits = type == DataType.BFLOAT16 ? 8 : 11;
        int minExponent = type == DataType.BFLOAT16 ? -126 : -14;
        if (value == 0) {
            return value;
        }
        double ulp = Math.scalb(1.0, Math.max(Math.getExponent(value), minExponent) - (significandBits - 1));
        return Math.rint(value / ulp) * ulp;
    }

    /** How far value lies from the nearest halfway point of the type, in absolute terms. */
    static double distanceFromTie(double value, DataType type) {
        if (value == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double rounded = roundToNearestEven(value, type);
        double ulp = Math.scalb(1.0, Math.max(Math.getExponent(value), type == DataType.BFLOAT16 ? -126 : -14)
                - (type == DataType.BFLOAT16 ? 7 : 10));
        return Math.abs(Math.abs(value - rounded) - ulp / 2);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DataType.class, names = {"FLOAT16", "BFLOAT16"})
    void cacheHoldsTheReferenceKeysAndValuesRoundedToNearestEven(DataType type) {
        int heads = 4, kvHeads = 2, d = 128, maxSeqLen = 64;
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(heads).numKvHeads(kvHeads).headSize(d)
                .maxContextLength(256).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(d).typeId(type).build();
        int[] requestTypes = {ReferenceAttention.CONTEXT, ReferenceAttention.GENERATION};
        int[] inputLengths = {30, 1};
        int[] pastLengths = {0, 40};
        Random random = new Random(43);
        float[] qkv = AttentionCase.randomValues(random, 31 * (heads + 2 * kvHeads) * d, type);
        float[] cache = new float[2 * 2 * kvHeads * maxSeqLen * d];
        float[] expected = cache.clone();
        ReferenceAttention.run(config, qkv, expected, requestTypes, inputLengths, pastLengths, maxSeqLen,
                Integer.MAX_VALUE, 0);
        try (Arena arena = Arena.ofConfined();
                GptAttentionPlugin plugin = CPU.createPlugin(config)) {
            MemorySegment kvCache = HostTensors.allocate(arena, type, cache);
            plugin.enqueue(AttentionStep.builder().contextRequest(30, 0).generationRequest(40)
                    .qkv(HostTensors.allocate(arena, type, qkv)).kvCache(kvCache)
                    .context(HostTensors.zeros(arena, type, 31L * heads * d)).build());
            float[] actual = HostTensors.read(kvCache, type);
            int compared = 0, nearTies = 0;
            for (int at = 0; at < expected.length; at++) {
                boolean key = (at / (kvHeads * maxSeqLen * d)) % 2 == 0;
                // Within float32 arithmetic's error of a halfway point, either neighbour is right.
                if (key && distanceFromTie(expected[at], type) < 2e-6) {
                    nearTies++;
                    continue;
                }
                assertThat(Float.floatToRawIntBits(actual[at])).as("cache element %d, reference %s", at, expected[at])
                        .isEqualTo(Float.floatToRawIntBits((float) roundToNearestEven(expected[at], type)));
                compared++;
            }
            assertThat(nearTies).isLessThan(compared / 100);
        }
    }

    @Test
    void nearestEvenRoundingOfThisTestAgreesWithTheTiesWrittenOut() {
        for (DataType type : new DataType[] {DataType.FLOAT16, DataType.BFLOAT16}) {
            for (int[] tie : ties(type)) {
                double rounded = roundToNearestEven(Float.intBitsToFloat(tie[0]), type);
                float expected = type == DataType.BFLOAT16 ? Float.intBitsToFloat(tie[1] << 16)
                        : Float.float16ToFloat((short) tie[1]);
                assertThat(rounded).as("%s 0x%08X", type, tie[0]).isEqualTo(expected);
            }
        }
    }
}
