package dev.trtllm4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginFieldFileTest {

    @TempDir
    Path dir;

    private static JsonNode json(String text) throws Exception {
        return new ObjectMapper().readTree(text);
    }

    @Test
    void fieldsLeftOutTakeTensorRtLlmsDefaults() throws Exception {
        GptAttentionConfig c = PluginFieldFile.parse(json("""
                {"num_heads": 8, "num_kv_heads": 2, "head_size": 64, "max_context_length": 128}"""), "f.json");
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.LEARNED_ABSOLUTE);
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(10000f);
        assertThat(c.tokensPerBlock()).isEqualTo(32);
        assertThat(c.cpGroup()).containsExactly(0);
    }

    @Test
    void enumFieldsTakeTensorRtLlmNames() throws Exception {
        GptAttentionConfig c = PluginFieldFile.parse(json("""
                {"num_heads": 8, "num_kv_heads": 8, "head_size": 128, "max_context_length": 128,
                 "position_embedding_type": "rope_gpt_neox", "rotary_embedding_dim": 128,
                 "rotary_embedding_scale_type": "llama3", "rotary_embedding_scale": 8.0, "type_id": "bfloat16",
                 "rotary_scaling": {"low_freq_factor": 2.0, "high_freq_factor": 8.0}}"""), "f.json");
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingScaleType()).isEqualTo(RotaryScalingType.LLAMA3);
        assertThat(c.typeId()).isEqualTo(DataType.BFLOAT16);
        assertThat(c.rotaryScaling().lowFreqFactor()).isEqualTo(2.0);
        assertThat(c.rotaryScaling().highFreqFactor()).isEqualTo(8.0);
    }

    @Test
    void writtenAndReadBackItIsEqual() throws Exception {
        CheckpointConfig phi3 = HuggingFaceConfig.read(HfConfigs.path("Phi-3-mini-128k-instruct"), null);
        GptAttentionConfig layer = phi3.attentionConfig(BuildConfig.defaults(phi3), 7);
        Path file = dir.resolve("fields.json");
        PluginFieldFile.write(file, layer);
        assertThat(PluginFieldFile.read(file)).isEqualTo(layer);
    }

    @Test
    void theFileNamesEnumValues() throws Exception {
        CheckpointConfig gptj = HuggingFaceConfig.read(HfConfigs.path("gpt-j-6b"), null);
        JsonNode json = PluginFieldFile.toJsonNode(gptj.attentionConfig(BuildConfig.defaults(gptj), 0));
        assertThat(json.get("position_embedding_type").asText()).isEqualTo("rope_gptj");
        assertThat(json.get("type_id").asText()).isEqualTo("float16");
        assertThat(json.get("paged_kv_cache").asBoolean()).isTrue();
        assertThat(json.size()).isEqualTo(58 + 1);
    }

    @Test
    void anUnknownKeyIsNamed() throws Exception {
        assertThatThrownBy(() -> PluginFieldFile.parse(json("{\"num_head\": 8}"), "f.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("f.json: unknown key 'num_head': not a GPT attention plugin field");
    }

    @Test
    void anUnknownEnumNameIsNamedWithItsField() throws Exception {
        assertThatThrownBy(() -> PluginFieldFile.parse(json("""
                {"num_heads": 8, "num_kv_heads": 8, "head_size": 64, "max_context_length": 8,
                 "position_embedding_type": "rope_sideways"}"""), "f.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("f.json: position_embedding_type = rope_sideways: PositionEmbeddingType has no constant 'rope_sideways'");
    }

    @Test
    void aRuleOfThePluginIsReportedWithTheFile() throws Exception {
        assertThatThrownBy(() -> PluginFieldFile.parse(json("""
                {"num_heads": 8, "num_kv_heads": 8, "head_size": 64, "max_context_length": 8,
                 "position_embedding_type": "rope_gptj"}"""), "f.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("f.json: rotary_embedding_dim = 0: position_embedding_type rope_gptj is RoPE and needs"
                        + " rotary_embedding_dim > 0");
    }

    @Test
    void anUnknownScalingParameterIsNamed() throws Exception {
        assertThatThrownBy(() -> PluginFieldFile.parse(json("""
                {"num_heads": 8, "num_kv_heads": 8, "head_size": 64, "max_context_length": 8,
                 "rotary_scaling": {"factor": 2.0}}"""), "f.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("f.json: rotary_scaling: key 'factor' is unknown");
    }
}
