package dev.trtllm4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trtllm4j.attention.GptAttentionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointConfigTest {

    @TempDir
    Path dir;

    private static CheckpointConfig converted(String model) {
        return HuggingFaceConfig.read(HfConfigs.path(model), null);
    }

    @Test
    void writtenAndReadBackItIsEqual() throws Exception {
        CheckpointConfig phi3 = converted("Phi-3-mini-128k-instruct");
        Path file = dir.resolve("config.json");
        phi3.write(file);
        assertThat(CheckpointConfig.read(file)).isEqualTo(phi3);
    }

    @Test
    void theReadBackFileYieldsTheSameLayer() throws Exception {
        CheckpointConfig llama = converted("Llama-3.1-8B");
        Path file = dir.resolve("config.json");
        llama.write(file);
        CheckpointConfig read = CheckpointConfig.read(file);
        assertThat(read.attentionConfig(BuildConfig.defaults(read), 5))
                .isEqualTo(llama.attentionConfig(BuildConfig.defaults(llama), 5));
    }

    @Test
    void theLayerIndexIsTheRequestedLayer() {
        CheckpointConfig neox = converted("gpt-neox-20b");
        assertThat(neox.attentionConfig(BuildConfig.defaults(neox), 43).layerIdx()).isEqualTo(43);
    }

    @Test
    void aLayerPastTheLastIsRefused() {
        CheckpointConfig neox = converted("gpt-neox-20b");
        assertThatThrownBy(() -> neox.attentionConfig(BuildConfig.defaults(neox), 44))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("layer 44 does not exist: num_hidden_layers = 44, so layers are 0 to 43");
    }

    @Test
    void tensorParallelismSplitsHeadsPerRank() {
        ObjectNode json = converted("Llama-3.1-8B").json();
        ((ObjectNode) json.get("mapping")).put("tp_size", 4).put("world_size", 4);
        CheckpointConfig tp4 = CheckpointConfig.parse(json, "tp4.json");
        GptAttentionConfig rank0 = tp4.attentionConfig(BuildConfig.defaults(tp4), 0);
        assertThat(rank0.numHeads()).isEqualTo(8);
        assertThat(rank0.numKvHeads()).isEqualTo(2);
        assertThat(rank0.numKvHeadsOrigin()).isEqualTo(8);
        assertThat(rank0.tpSize()).isEqualTo(4);
    }

    @Test
    void aKvCacheQuantAlgorithmBecomesItsQuantModeBit() {
        ObjectNode json = converted("Mistral-7B-v0.3").json();
        ((ObjectNode) json.get("quantization")).put("kv_cache_quant_algo", "FP8");
        CheckpointConfig fp8 = CheckpointConfig.parse(json, "fp8.json");
        assertThat(fp8.attentionConfig(BuildConfig.defaults(fp8), 0).kvCacheQuantMode()).isEqualTo(128);
    }

    @Test
    void aMissingArchitectureIsNamed() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"dtype\": \"float16\", \"hidden_size\": 64}");
        assertThatThrownBy(() -> CheckpointConfig.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ": missing required key 'architecture'");
    }

    @Test
    void aDtypeThePluginCannotStoreIsNamed() {
        ObjectNode json = converted("phi-2").json();
        json.put("dtype", "int8");
        assertThatThrownBy(() -> CheckpointConfig.parse(json, "int8.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("int8.json: key 'dtype' = int8: the attention plugin stores float32, float16 or bfloat16");
    }

    @Test
    void anUnknownScalingTypeIsNamed() throws Exception {
        ObjectNode json = converted("Mistral-7B-v0.3").json();
        json.set("rotary_scaling", new ObjectMapper().readTree("{\"type\": \"stretchy\", \"factor\": 2.0}"));
        CheckpointConfig stretchy = CheckpointConfig.parse(json, "stretchy.json");
        assertThatThrownBy(() -> stretchy.attentionConfig(BuildConfig.defaults(stretchy), 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("stretchy.json: rotary_scaling: key 'type' = stretchy: RotaryScalingType has no constant");
    }
}
