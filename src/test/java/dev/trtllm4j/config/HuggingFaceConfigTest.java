package dev.trtllm4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingType;
import org.junit.jupiter.api.Test;

/**
 * The plugin fields each published model config yields, against what TensorRT-LLM's converter and
 * {@code Attention} layer produce for it. Expected values are worked out by hand from the config
 * (shown in each test), not computed by the code under test.
 */
class HuggingFaceConfigTest {

    private static GptAttentionConfig layer0(String model) {
        CheckpointConfig checkpoint = HuggingFaceConfig.read(HfConfigs.path(model), null);
        return checkpoint.attentionConfig(BuildConfig.defaults(checkpoint), 0);
    }

    private static JsonNode json(String text) throws Exception {
        return new ObjectMapper().readTree(text);
    }

    @Test
    void llama31UsesLlama3ScalingOverNeoxRope() {
        GptAttentionConfig c = layer0("Llama-3.1-8B");
        assertThat(c.numHeads()).isEqualTo(32);
        assertThat(c.numKvHeads()).isEqualTo(8);
        assertThat(c.headSize()).isEqualTo(128); // 4096 / 32
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(128);
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(500000f);
        assertThat(c.rotaryEmbeddingScaleType()).isEqualTo(RotaryScalingType.LLAMA3);
        assertThat(c.rotaryEmbeddingScale()).isEqualTo(8f);
        assertThat(c.rotaryEmbeddingOriginalMaxPositions()).isEqualTo(8192);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(131072);
        assertThat(c.rotaryScaling().lowFreqFactor()).isEqualTo(1.0);
        assertThat(c.rotaryScaling().highFreqFactor()).isEqualTo(4.0);
        assertThat(c.typeId()).isEqualTo(DataType.BFLOAT16);
        assertThat(c.qScaling()).isEqualTo(1f);
    }

    @Test
    void mistral7bV03IsGqaWithBaseOneMillion() {
        GptAttentionConfig c = layer0("Mistral-7B-v0.3");
        assertThat(c.numHeads()).isEqualTo(32);
        assertThat(c.numKvHeads()).isEqualTo(8);
        assertThat(c.headSize()).isEqualTo(128);
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(128);
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(1_000_000f);
        assertThat(c.rotaryEmbeddingScaleType()).isEqualTo(RotaryScalingType.NONE);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(32768);
        assertThat(c.typeId()).isEqualTo(DataType.BFLOAT16);
    }

    @Test
    void qwen25With28HeadsAndFourKvHeads() {
        GptAttentionConfig c = layer0("Qwen2.5-7B");
        assertThat(c.numHeads()).isEqualTo(28);
        assertThat(c.numKvHeads()).isEqualTo(4);
        assertThat(c.headSize()).isEqualTo(128); // 3584 / 28
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(128);
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(1_000_000f);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(131072);
        assertThat(c.qkvBiasEnabled()).isFalse(); // Qwen2's QKV bias is added by the QKV GEMM
        assertThat(c.typeId()).isEqualTo(DataType.BFLOAT16);
    }

    @Test
    void phi2RotatesFortyPercentOfEachHead() {
        GptAttentionConfig c = layer0("phi-2");
        assertThat(c.numHeads()).isEqualTo(32);
        assertThat(c.numKvHeads()).isEqualTo(32);
        assertThat(c.headSize()).isEqualTo(80); // 2560 / 32
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(32); // int(80 * 0.4)
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(10000f);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(2048);
        assertThat(c.typeId()).isEqualTo(DataType.FLOAT16);
    }

    @Test
    void phi3Mini128kIsLongRopeWithTheDefaultAttentionFactor() {
        GptAttentionConfig c = layer0("Phi-3-mini-128k-instruct");
        assertThat(c.headSize()).isEqualTo(96); // 3072 / 32
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.LONG_ROPE);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(96);
        assertThat(c.rotaryEmbeddingScaleType()).isEqualTo(RotaryScalingType.LONGROPE);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(131072);
        assertThat(c.rotaryEmbeddingOriginalMaxPositions()).isEqualTo(4096);
        // sqrt(1 + ln(131072 / 4096) / ln(4096)) = sqrt(1 + 5/12) = sqrt(17/12)
        assertThat((double) c.rotaryEmbeddingShortMScale()).isCloseTo(1.1902380714238083, within(1e-6));
        assertThat((double) c.rotaryEmbeddingLongMScale()).isCloseTo(1.1902380714238083, within(1e-6));
        assertThat(c.rotaryScaling().shortFactors()).hasSize(48).startsWith(1.05, 1.05, 1.05, 1.1);
        assertThat(c.rotaryScaling().longFactors()).hasSize(48).endsWith(64.81001281738281);
        assertThat(c.typeId()).isEqualTo(DataType.BFLOAT16);
    }

    @Test
    void gptjRotatesInterleavedPairsOfSixtyFourFeatures() {
        GptAttentionConfig c = layer0("gpt-j-6b");
        assertThat(c.numHeads()).isEqualTo(16);
        assertThat(c.numKvHeads()).isEqualTo(16);
        assertThat(c.headSize()).isEqualTo(256); // 4096 / 16
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPTJ);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(64);
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(10000f);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(2048);
        assertThat(c.typeId()).isEqualTo(DataType.FLOAT16); // no torch_dtype: TensorRT-LLM's auto is float16
    }

    @Test
    void gptNeox20bRotatesAQuarterOfEachHead() {
        GptAttentionConfig c = layer0("gpt-neox-20b");
        assertThat(c.numHeads()).isEqualTo(64);
        assertThat(c.headSize()).isEqualTo(96); // 6144 / 64
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(24); // int(96 * 0.25)
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(10000f);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(2048);
        assertThat(c.typeId()).isEqualTo(DataType.FLOAT16);
    }

    @Test
    void gemma2SoftCapsLogitsAndTakesHeadDimFromTheConfig() {
        GptAttentionConfig c = layer0("gemma-2-9b");
        assertThat(c.numHeads()).isEqualTo(16);
        assertThat(c.numKvHeads()).isEqualTo(8);
        assertThat(c.headSize()).isEqualTo(256); // head_dim, not 3584 / 16 = 224
        assertThat(c.attnLogitSoftcappingScale()).isEqualTo(50f);
        assertThat(c.qScaling()).isEqualTo(1f); // sqrt(256) / sqrt(256)
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(256);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(8192);
        assertThat(c.typeId()).isEqualTo(DataType.FLOAT16); // float32 weights: auto becomes float16
    }

    @Test
    void gemma2QueryPreAttnScalarBecomesQScaling() throws Exception {
        JsonNode gemma27bLike = json("""
                {"model_type": "gemma2", "hidden_size": 4608, "num_hidden_layers": 46, "num_attention_heads": 32,
                 "num_key_value_heads": 16, "head_dim": 128, "query_pre_attn_scalar": 144,
                 "max_position_embeddings": 8192, "torch_dtype": "bfloat16"}""");
        CheckpointConfig checkpoint = HuggingFaceConfig.convert(gemma27bLike, "gemma2.json", null);
        GptAttentionConfig c = checkpoint.attentionConfig(BuildConfig.defaults(checkpoint), 0);
        // 1 / (q_scaling * sqrt(128)) must equal 144^-1/2: q_scaling = 12 / sqrt(128)
        assertThat((double) c.qScaling()).isCloseTo(1.0606601717798212, within(1e-6));
    }

    @Test
    void falcon7bSharesOneKvHead() {
        GptAttentionConfig c = layer0("falcon-7b");
        assertThat(c.numHeads()).isEqualTo(71);
        assertThat(c.numKvHeads()).isEqualTo(1); // multi_query
        assertThat(c.headSize()).isEqualTo(64); // 4544 / 71
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(64);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(2048); // FalconConfig's default
        assertThat(c.typeId()).isEqualTo(DataType.BFLOAT16);
    }

    @Test
    void falconWithAlibiAddsItBeforeTheScale() throws Exception {
        JsonNode falconRw = json("""
                {"model_type": "falcon", "alibi": true, "multi_query": false, "hidden_size": 2048,
                 "num_attention_heads": 32, "num_hidden_layers": 24}""");
        CheckpointConfig checkpoint = HuggingFaceConfig.convert(falconRw, "falcon-rw.json", null);
        GptAttentionConfig c = checkpoint.attentionConfig(BuildConfig.defaults(checkpoint), 0);
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ALIBI_WITH_SCALE);
        assertThat(c.numKvHeads()).isEqualTo(32);
        assertThat(c.rotaryEmbeddingDim()).isZero();
    }

    @Test
    void bloom560mIsAlibiWithoutRope() {
        GptAttentionConfig c = layer0("bloom-560m");
        assertThat(c.numHeads()).isEqualTo(16);
        assertThat(c.numKvHeads()).isEqualTo(16);
        assertThat(c.headSize()).isEqualTo(64); // 1024 / 16
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ALIBI);
        assertThat(c.rotaryEmbeddingDim()).isZero();
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(1024); // no max_position_embeddings
        assertThat(c.typeId()).isEqualTo(DataType.FLOAT16);
    }

    @Test
    void mptWithAlibi() throws Exception {
        JsonNode mpt7b = json("""
                {"model_type": "mpt", "d_model": 4096, "n_heads": 32, "n_layers": 32, "max_seq_len": 2048,
                 "attn_config": {"alibi": true, "alibi_bias_max": 8}, "torch_dtype": "bfloat16"}""");
        CheckpointConfig checkpoint = HuggingFaceConfig.convert(mpt7b, "mpt.json", null);
        GptAttentionConfig c = checkpoint.attentionConfig(BuildConfig.defaults(checkpoint), 0);
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ALIBI);
        assertThat(c.headSize()).isEqualTo(128);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(2048);
    }

    @Test
    void yarnMistralKeepsNeoxRopeWithYarnScaling() {
        GptAttentionConfig c = layer0("Yarn-Mistral-7b-128k");
        assertThat(c.positionEmbeddingType()).isEqualTo(PositionEmbeddingType.ROPE_GPT_NEOX);
        assertThat(c.rotaryEmbeddingDim()).isEqualTo(128);
        assertThat(c.rotaryEmbeddingBase()).isEqualTo(10000f);
        assertThat(c.rotaryEmbeddingScaleType()).isEqualTo(RotaryScalingType.YARN);
        assertThat(c.rotaryEmbeddingScale()).isEqualTo(16f);
        assertThat(c.rotaryEmbeddingOriginalMaxPositions()).isEqualTo(8192);
        assertThat(c.rotaryEmbeddingMaxPositions()).isEqualTo(32768);
        assertThat(c.rotaryScaling().betaFast()).isEqualTo(32.0);
        assertThat(c.rotaryScaling().betaSlow()).isEqualTo(1.0);
        assertThat(c.rotaryScaling().mscale()).isEqualTo(1.0);
        assertThat(c.rotaryScaling().mscaleAllDim()).isEqualTo(0.0);
    }

    @Test
    void theCheckpointKeepsTensorRtLlmKeyNames() {
        CheckpointConfig checkpoint = HuggingFaceConfig.read(HfConfigs.path("phi-2"), null);
        JsonNode json = checkpoint.json();
        assertThat(json.get("architecture").asText()).isEqualTo("PhiForCausalLM");
        assertThat(json.get("position_embedding_type").asText()).isEqualTo("rope_gpt_neox");
        assertThat(json.get("rotary_pct").asDouble()).isEqualTo(0.4);
        assertThat(json.get("rotary_base").asDouble()).isEqualTo(10000.0);
        assertThat(json.get("norm_epsilon").asDouble()).isEqualTo(1e-5);
        assertThat(json.get("dtype").asText()).isEqualTo("float16");
        assertThat(json.get("mapping").get("tp_size").asInt()).isEqualTo(1);
    }

    @Test
    void anExplicitDtypeWinsOverTorchDtype() {
        CheckpointConfig checkpoint = HuggingFaceConfig.read(HfConfigs.path("Llama-3.1-8B"), DataType.FLOAT32);
        assertThat(checkpoint.dtype()).isEqualTo(DataType.FLOAT32);
    }

    @Test
    void anUnknownModelTypeIsNamed() throws Exception {
        assertThatThrownBy(() -> HuggingFaceConfig.convert(json("{\"model_type\": \"t5\"}"), "t5.json", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("t5.json: key 'model_type' = t5: not an architecture trtllm4j converts");
    }

    @Test
    void aMissingRequiredKeyIsNamed() throws Exception {
        JsonNode noHidden = json("{\"model_type\": \"llama\", \"num_attention_heads\": 32, \"num_hidden_layers\": 2}");
        assertThatThrownBy(() -> HuggingFaceConfig.convert(noHidden, "llama.json", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("llama.json: missing required key 'hidden_size'");
    }

    @Test
    void aMistypedKeyIsNamed() throws Exception {
        JsonNode textHeads = json("""
                {"model_type": "llama", "hidden_size": 4096, "num_attention_heads": "32", "num_hidden_layers": 2,
                 "max_position_embeddings": 4096}""");
        assertThatThrownBy(() -> HuggingFaceConfig.convert(textHeads, "llama.json", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("llama.json: key 'num_attention_heads' must be an integer, got \"32\"");
    }
}
