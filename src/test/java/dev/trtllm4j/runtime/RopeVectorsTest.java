package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CPU backend rotates the published vectors of {@code rope_vectors.json} as they say: each q and
 * k, put in the key slot of a one-token step at positions 0 to 3, lands rotated in the cache.
 */
class RopeVectorsTest {

    /** The file's bound for a float32 implementation on these inputs. */
    private static final double TOLERANCE = 7e-7;
    private static JsonNode cases;

    @BeforeAll
    static void readVectors() throws IOException {
        try (InputStream in = RopeVectorsTest.class.getResourceAsStream("/rope_vectors.json")) {
            cases = new ObjectMapper().readTree(in).get("cases");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"A_default_full_rotary/gptj_interleaved", "A_default_full_rotary/gpt_neox_rotate_half",
        "B_partial_rotary/gptj_interleaved", "B_partial_rotary/gpt_neox_rotate_half"})
    void cacheHoldsThePublishedRotatedVectors(String form) {
        JsonNode example = cases.at("/" + form.substring(0, form.indexOf('/')));
        int rotaryDim = example.get("rotary_dim").asInt();
        // The vectors are 8 wide; the head is the smallest the plugin takes, and features 8 on pass through.
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(1).numKvHeads(1).headSize(32)
                .maxContextLength(8).typeId(DataType.FLOAT32).rotaryEmbeddingDim(rotaryDim).rotaryEmbeddingBase(10000f)
                .positionEmbeddingType(form.endsWith("gptj_interleaved") ? PositionEmbeddingType.ROPE_GPTJ
                        : PositionEmbeddingType.ROPE_GPT_NEOX)
                .build();
        JsonNode expected = cases.at("/" + form);
        try (GptAttentionPlugin plugin = Backend.open("cpu").createPlugin(config)) {
            for (String vector : List.of("q", "k")) {
                if (!expected.has(vector + "_out[pos]")) {
                    continue; // the partial-rotary case publishes q alone
                }
                for (int pos = 0; pos < 4; pos++) {
                    float[] rotated = rotatedKey(plugin, example.at("/inputs/" + vector), pos);
                    JsonNode out = expected.get(vector + "_out[pos]").get(pos);
                    for (int i = 0; i < 8; i++) {
                        assertThat((double) rotated[i]).as("%s at position %d, element %d", vector, pos, i)
                                .isCloseTo(out.get(i).asDouble(), within(TOLERANCE));
                    }
                }
            }
        }
    }

    /** Runs a one-token context request at pos with the vector as its key; returns the cached key. */
    private static float[] rotatedKey(GptAttentionPlugin plugin, JsonNode vector, int pos) {
        float[] qkv = new float[3 * 32];
        for (int i = 0; i < vector.size(); i++) {
            qkv[32 + i] = (float) vector.get(i).asDouble();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cache = HostTensors.zeros(arena, DataType.FLOAT32, 2L * 4 * 32);
            plugin.enqueue(AttentionStep.builder().contextRequest(1, pos)
                    .qkv(HostTensors.allocate(arena, DataType.FLOAT32, qkv)).kvCache(cache)
                    .context(HostTensors.zeros(arena, DataType.FLOAT32, 32)).build());
            float[] all = HostTensors.read(cache, DataType.FLOAT32);
            return java.util.Arrays.copyOfRange(all, pos * 32, pos * 32 + 8);
        }
    }
}
