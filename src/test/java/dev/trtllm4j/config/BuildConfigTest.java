package dev.trtllm4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.ContextFmhaType;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildConfigTest {

    @TempDir
    Path dir;

    private static CheckpointConfig llama() {
        return HuggingFaceConfig.read(HfConfigs.path("Llama-3.1-8B"), null);
    }

    @Test
    void defaultsAreTensorRtLlms() {
        BuildConfig build = BuildConfig.defaults(llama());
        assertThat(build.maxBatchSize()).isEqualTo(2048);
        assertThat(build.maxInputLen()).isEqualTo(1024);
        assertThat(build.maxSeqLen()).isEqualTo(131072); // max_position_embeddings; llama3 is not multiplied
        assertThat(build.maxNumTokens()).isEqualTo(8192);
        assertThat(build.plugin()).isEqualTo(new BuildConfig.PluginConfig("bfloat16", "bfloat16", true, false, true,
                true, 32, true, true, false, false));
    }

    @Test
    void yarnMultipliesTheDeducedMaxSeqLenByItsFactor() {
        CheckpointConfig yarn = HuggingFaceConfig.read(HfConfigs.path("Yarn-Mistral-7b-128k"), null);
        assertThat(BuildConfig.defaults(yarn).maxSeqLen()).isEqualTo(32768 * 16);
    }

    @Test
    void aModelWithoutMaxPositionEmbeddingsGets2048() {
        CheckpointConfig bloom = HuggingFaceConfig.read(HfConfigs.path("bloom-560m"), null);
        assertThat(BuildConfig.defaults(bloom).maxSeqLen()).isEqualTo(2048);
    }

    @Test
    void theFileUsesTensorRtLlmKeys() {
        JsonNode json = BuildConfig.defaults(llama()).toJsonNode();
        assertThat(json.get("max_input_len").asInt()).isEqualTo(1024);
        assertThat(json.get("max_seq_len").asInt()).isEqualTo(131072);
        assertThat(json.get("max_batch_size").asInt()).isEqualTo(2048);
        assertThat(json.get("max_num_tokens").asInt()).isEqualTo(8192);
        assertThat(json.get("kv_cache_type").asText()).isEqualTo("PAGED");
        JsonNode plugin = json.get("plugin_config");
        assertThat(plugin.get("gpt_attention_plugin").asText()).isEqualTo("bfloat16");
        assertThat(plugin.get("context_fmha").asBoolean()).isTrue();
        assertThat(plugin.get("paged_kv_cache").asBoolean()).isTrue();
        assertThat(plugin.get("tokens_per_block").asInt()).isEqualTo(32);
        assertThat(plugin.get("remove_input_padding").asBoolean()).isTrue();
    }

    @Test
    void writtenAndReadBackItIsEqual() throws Exception {
        BuildConfig build = new BuildConfig(64, 2048, 4096, 4096, 1,
                BuildConfig.PluginConfig.defaults(DataType.FLOAT16).withPagedKvCache(false));
        Path file = dir.resolve("build_config.json");
        build.write(file);
        assertThat(BuildConfig.read(file)).isEqualTo(build);
    }

    @Test
    void pluginConfigKeysBecomePluginFields() throws Exception {
        JsonNode json = new ObjectMapper().readTree("""
                {"max_input_len": 512, "max_seq_len": 4096,
                 "plugin_config": {"gpt_attention_plugin": "float32", "context_fmha": false,
                                   "paged_kv_cache": false, "tokens_per_block": 64, "streamingllm": true}}""");
        BuildConfig build = BuildConfig.parse(json, "build.json");
        GptAttentionConfig c = llama().attentionConfig(build, 0);
        assertThat(c.typeId()).isEqualTo(DataType.FLOAT32);
        assertThat(c.contextFmhaType()).isEqualTo(ContextFmhaType.DISABLED);
        assertThat(c.pagedKvCache()).isFalse();
        assertThat(c.tokensPerBlock()).isEqualTo(64);
        assertThat(c.maxContextLength()).isEqualTo(512);
        assertThat(c.posShiftEnabled()).isTrue();
        assertThat(c.denseContextFmha()).isTrue();
    }

    @Test
    void autoMeansTheModelsDtype() throws Exception {
        JsonNode json = new ObjectMapper().readTree("{\"max_seq_len\": 4096, \"plugin_config\": {\"gpt_attention_plugin\": \"auto\"}}");
        assertThat(llama().attentionConfig(BuildConfig.parse(json, "auto.json"), 0).typeId()).isEqualTo(DataType.BFLOAT16);
    }

    @Test
    void aContinuousKvCacheTypeTurnsPagingOff() throws Exception {
        JsonNode json = new ObjectMapper().readTree("{\"max_seq_len\": 4096, \"kv_cache_type\": \"CONTINUOUS\"}");
        assertThat(BuildConfig.parse(json, "continuous.json").plugin().pagedKvCache()).isFalse();
    }

    @Test
    void maxSeqLenBelowMaxInputLenIsRefused() throws Exception {
        Path file = dir.resolve("build_config.json");
        Files.writeString(file, "{\"max_input_len\": 2048, \"max_seq_len\": 1024}");
        assertThatThrownBy(() -> BuildConfig.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ": max_seq_len = 1024: must be at least max_input_len = 2048");
    }

    @Test
    void aDisabledAttentionPluginIsNamed() throws Exception {
        JsonNode json = new ObjectMapper().readTree("{\"max_seq_len\": 4096, \"plugin_config\": {\"gpt_attention_plugin\": null}}");
        BuildConfig build = BuildConfig.parse(json, "off.json");
        assertThatThrownBy(() -> llama().attentionConfig(build, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plugin_config.gpt_attention_plugin is disabled");
    }
}
