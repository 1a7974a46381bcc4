package dev.trtllm4j.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import org.junit.jupiter.api.Test;

/** Slopes against the ALiBi paper's geometric series, written out by hand. */
class AlibiSlopesTest {

    private static GptAttentionConfig alibi(int heads, int tpSize, int tpRank) {
        return GptAttentionConfig.builder().numHeads(heads).numKvHeads(heads).headSize(64).maxContextLength(8)
                .positionEmbeddingType(PositionEmbeddingType.ALIBI).tpSize(tpSize).tpRank(tpRank).build();
    }

    @Test
    void eightHeadsGetOneHalfToOneOver256() {
        assertThat(AlibiSlopes.compute(alibi(8, 1, 0)))
                .containsExactly(1f / 2, 1f / 4, 1f / 8, 1f / 16, 1f / 32, 1f / 64, 1f / 128, 1f / 256);
    }

    @Test
    void headsBeyondAPowerOfTwoTakeOddPowersOfTheFinerSeries() {
        // 12 heads: 2^(-8k/8) for k = 1..8, then 2^(-8 * (1, 3, 5, 7) / 16) = 2^-0.5, 2^-1.5, 2^-2.5, 2^-3.5.
        float[] slopes = AlibiSlopes.compute(alibi(12, 1, 0));
        assertThat(slopes[7]).isEqualTo(1f / 256);
        assertThat(slopes[8]).isEqualTo((float) Math.pow(2, -0.5));
        assertThat(slopes[11]).isEqualTo((float) Math.pow(2, -3.5));
    }

    @Test
    void eachTensorParallelRankTakesItsSlice() {
        assertThat(AlibiSlopes.compute(alibi(4, 2, 1))).containsExactly(1f / 32, 1f / 64, 1f / 128, 1f / 256);
    }
}
