package dev.trtllm4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import dev.trtllm4j.attention.TensorRtLlmEnum;
import dev.trtllm4j.embedding.RotaryTables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * TensorRT-LLM's checkpoint {@code config.json}: the arguments of its {@code PretrainedConfig} (and of
 * the model family's subclass), with TensorRT-LLM's key names. Keys this class does not interpret
 * are kept as they are, as TensorRT-LLM keeps them as attributes.
 *
 * <p>{@link #attentionConfig(BuildConfig, int)} derives the GPT attention plugin's fields for one
 * layer the way TensorRT-LLM's {@code Attention} layer does: head counts per tensor-parallel rank,
 * the rotary dimension from {@code rotary_dim} or {@code rotary_pct}, the scaling variant from
 * {@code rotary_scaling}, LongRoPE from the {@code longrope_*} keys, soft-capping and
 * {@code q_scaling} from Gemma 2's keys, and the storage type and sizes from the build config.
 */
public final class CheckpointConfig {

    /** QuantMode bits of the KV cache, as TensorRT-LLM's {@code QuantMode} defines them. */
    static final int INT8_KV_CACHE = 1 << 6;
    static final int FP8_KV_CACHE = 1 << 7;

    private final ObjectNode json;
    private final JsonKeys keys;

    private CheckpointConfig(ObjectNode json, String source) {
        this.json = json;
        this.keys = new JsonKeys(json, source);
        // Fail on a malformed file when it is read, not when a layer is derived later.
        keys.requiredString("architecture");
        dtype();
        for (String key : List.of("hidden_size", "num_hidden_layers", "num_attention_heads")) {
            if (keys.requiredInt(key) < 1) {
                throw keys.problem(key, "must be at least 1");
            }
        }
        positionEmbeddingType();
        headSize();
        numKeyValueHeads();
    }

    /**
     * A checkpoint config from its JSON.
     *
     * @param source how to name the file in error messages
     * @throws IllegalArgumentException naming the source and the key when a required key is missing or mistyped
     */
    public static CheckpointConfig parse(JsonNode json, String source) {
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException(source + ": not a JSON object");
        }
        return new CheckpointConfig(((ObjectNode) json).deepCopy(), source);
    }

    /**
     * Reads a checkpoint {@code config.json}.
     *
     * @throws IllegalArgumentException naming the file and the key when it cannot be read or is invalid
     */
    public static CheckpointConfig read(Path path) {
        return parse(JsonKeys.readObject(path), path.toString());
    }

    /** Writes this config as indented JSON. */
    public void write(Path path) throws IOException {
        Files.writeString(path, toJson() + System.lineSeparator());
    }

    /** The JSON text, indented. */
    public String toJson() {
        return json.toPrettyString();
    }

    /** A copy of the JSON object. */
    public ObjectNode json() {
        return json.deepCopy();
    }

    /** TensorRT-LLM's model class, such as {@code LlamaForCausalLM}. */
    public String architecture() {
        return keys.requiredString("architecture");
    }

    /** The weights' type, which {@code gpt_attention_plugin = auto} resolves to. */
    public DataType dtype() {
        String dtype = keys.requiredString("dtype");
        try {
            return TensorRtLlmEnum.fromName(DataType.class, dtype);
        } catch (IllegalArgumentException e) {
            throw keys.problem("dtype", "= " + dtype + ": the attention plugin stores float32, float16 or bfloat16");
        }
    }

    public int hiddenSize() {
        return keys.requiredInt("hidden_size");
    }

    public int numHiddenLayers() {
        return keys.requiredInt("num_hidden_layers");
    }

    public int numAttentionHeads() {
        return keys.requiredInt("num_attention_heads");
    }

    /** {@code num_key_value_heads}, defaulting to {@code num_attention_heads} as TensorRT-LLM does. */
    public int numKeyValueHeads() {
        int kvHeads = keys.optionalInt("num_key_value_heads", numAttentionHeads());
        if (kvHeads < 1) {
            throw keys.problem("num_key_value_heads", "must be at least 1, got " + kvHeads);
        }
        return kvHeads;
    }

    /** {@code head_size}, defaulting to {@code hidden_size / num_attention_heads}. */
    public int headSize() {
        return keys.optionalInt("head_size", hiddenSize() / numAttentionHeads());
    }

    /** {@code max_position_embeddings}, or TensorRT-LLM's default 1024 of the plugin field when absent. */
    public int maxPositionEmbeddings() {
        return keys.optionalInt("max_position_embeddings", 1024);
    }

    /** Whether the file gives {@code max_position_embeddings}. */
    public boolean hasMaxPositionEmbeddings() {
        return keys.has("max_position_embeddings");
    }

    public PositionEmbeddingType positionEmbeddingType() {
        String name = keys.optionalString("position_embedding_type", "learned_absolute");
        try {
            return TensorRtLlmEnum.fromName(PositionEmbeddingType.class, name);
        } catch (IllegalArgumentException e) {
            throw keys.problem("position_embedding_type", "= " + name + ": " + e.getMessage());
        }
    }

    /** The rotary dimension as {@code create_attention_const_params} derives it; 0 without RoPE. */
    public int rotaryEmbeddingDim() {
        if (!positionEmbeddingType().isRope()) {
            return 0;
        }
        if (keys.has("rotary_dim")) {
            return keys.requiredInt("rotary_dim");
        }
        if (keys.has("rotary_pct")) {
            return (int) (headSize() * keys.requiredDouble("rotary_pct"));
        }
        return keys.optionalInt("rotary_embedding_dim", headSize());
    }

    /** {@code mapping.tp_size}, 1 without a mapping. */
    public int tpSize() {
        JsonKeys mapping = keys.optionalObject("mapping");
        return mapping == null ? 1 : mapping.optionalInt("tp_size", 1);
    }

    /**
     * The factor {@code trtllm-build} multiplies max_position_embeddings by when it deduces
     * {@code max_seq_len}: the {@code factor} of linear, dynamic and yarn scaling; llama3 and
     * longrope state their extended length in max_position_embeddings already.
     */
    double maxSeqLenFactor() {
        JsonKeys scaling = keys.optionalObject("rotary_scaling");
        if (scaling == null || !positionEmbeddingType().isRope()) {
            return 1.0;
        }
        return switch (scalingType(scaling)) {
            case LINEAR, DYNAMIC, YARN -> scaling.optionalDouble("factor", 1.0);
            default -> 1.0;
        };
    }

    /**
     * The GPT attention plugin configuration of one layer, on tensor-parallel rank 0.
     *
     * @throws IllegalArgumentException naming this file when the layer does not exist or a key is
     *     invalid, or when the fields break a rule of the plugin
     */
    public GptAttentionConfig attentionConfig(BuildConfig build, int layer) {
        GptAttentionConfig.Builder builder = attentionBuilder(build, layer);
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(keys.source() + ": layer " + layer + ": " + e.getMessage(), e);
        }
    }

    /**
     * The plugin fields of one layer, on tensor-parallel rank 0, not yet checked against the plugin's
     * rules.
     *
     * @throws IllegalArgumentException naming this file when the layer does not exist or a key is invalid
     */
    public GptAttentionConfig.Builder attentionBuilder(BuildConfig build, int layer) {
        int layers = numHiddenLayers();
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException(keys.source() + ": layer " + layer + " does not exist: num_hidden_layers = "
                    + layers + ", so layers are 0 to " + (layers - 1));
        }
        int tp = tpSize();
        if (tp < 1 || numAttentionHeads() % tp != 0) {
            throw keys.problem("mapping", "tp_size = " + tp + " must divide num_attention_heads = " + numAttentionHeads());
        }
        PositionEmbeddingType type = positionEmbeddingType();
        GptAttentionConfig.Builder builder = GptAttentionConfig.builder()
                .layerIdx(layer)
                .numHeads(numAttentionHeads() / tp)
                // TensorRT-LLM gives each rank ceil(kv / tp) KV heads, replicated when kv < tp.
                .numKvHeads((numKeyValueHeads() + tp - 1) / tp)
                .numKvHeadsOrigin(numKeyValueHeads())
                .headSize(headSize())
                .qScaling((float) qScaling())
                .attnLogitSoftcappingScale((float) keys.optionalDouble("attn_logit_softcapping", 0.0))
                .positionEmbeddingType(type)
                .rotaryEmbeddingMaxPositions(maxPositionEmbeddings())
                .tpSize(tp)
                .tpRank(0)
                .kvCacheQuantMode(kvCacheQuantMode());
        if (type.isRope()) {
            rotary(builder, type);
        }
        build.pluginFields(builder, dtype());
        return builder;
    }

    /** Gemma 2's {@code query_pre_attn_scalar} replaces head_size in the logit scale; 1 otherwise. */
    private double qScaling() {
        if (!keys.has("query_pre_attn_scalar")) {
            return 1.0;
        }
        return Math.sqrt(keys.requiredDouble("query_pre_attn_scalar")) / Math.sqrt(headSize());
    }

    private int kvCacheQuantMode() {
        JsonKeys quantization = keys.optionalObject("quantization");
        if (quantization == null || !quantization.has("kv_cache_quant_algo")) {
            return 0;
        }
        String algo = quantization.requiredString("kv_cache_quant_algo");
        return switch (algo) {
            case "INT8" -> INT8_KV_CACHE;
            case "FP8" -> FP8_KV_CACHE;
            default -> throw quantization.problem("kv_cache_quant_algo", "= " + algo + ": trtllm4j knows INT8 and FP8");
        };
    }

    private void rotary(GptAttentionConfig.Builder builder, PositionEmbeddingType type) {
        builder.rotaryEmbeddingDim(rotaryEmbeddingDim())
                .rotaryEmbeddingBase((float) keys.optionalDouble("rotary_base", 10000.0));
        if (type == PositionEmbeddingType.LONG_ROPE) {
            longRope(builder);
            return;
        }
        JsonKeys scaling = keys.optionalObject("rotary_scaling");
        if (scaling == null) {
            return;
        }
        RotaryScalingType scaleType = scalingType(scaling);
        builder.rotaryEmbeddingScaleType(scaleType)
                .rotaryEmbeddingScale((float) scaling.optionalDouble("factor", scaleType == RotaryScalingType.LLAMA3 ? 8.0 : 1.0));
        RotaryScalingParameters parameters = RotaryScalingParameters.DEFAULTS;
        switch (scaleType) {
            case LLAMA3 -> {
                parameters = parameters.withLlama3(scaling.optionalDouble("low_freq_factor", 1.0),
                        scaling.optionalDouble("high_freq_factor", 4.0));
                builder.rotaryEmbeddingOriginalMaxPositions(scaling.optionalInt("original_max_position_embeddings", 8192));
            }
            case YARN -> {
                parameters = parameters.withYarn(scaling.optionalDouble("beta_fast", 32.0),
                        scaling.optionalDouble("beta_slow", 1.0), scaling.optionalDouble("mscale", 1.0),
                        scaling.optionalDouble("mscale_all_dim", 0.0));
                builder.rotaryEmbeddingOriginalMaxPositions(scaling.optionalInt("original_max_position_embeddings", 4096));
            }
            case LONGROPE -> {
                parameters = parameters.withLongRope(factors(scaling, "short_factor"), factors(scaling, "long_factor"));
                int original = scaling.optionalInt("original_max_position_embeddings",
                        keys.requiredInt("original_max_position_embeddings"));
                float mscale = (float) RotaryTables.longRopeAttentionFactor(maxPositionEmbeddings(), original);
                builder.rotaryEmbeddingOriginalMaxPositions(original)
                        .rotaryEmbeddingShortMScale(mscale)
                        .rotaryEmbeddingLongMScale(mscale);
            }
            default -> {}
        }
        builder.rotaryScaling(parameters);
    }

    /** Phi-3: the factors and the original context live in top-level keys of the checkpoint. */
    private void longRope(GptAttentionConfig.Builder builder) {
        int original = keys.requiredInt("original_max_position_embeddings");
        // Hugging Face's default attention factor, unless the checkpoint states its own (Phi-3-small, PhiMoE).
        double mscale = RotaryTables.longRopeAttentionFactor(maxPositionEmbeddings(), original);
        builder.rotaryEmbeddingScaleType(RotaryScalingType.LONGROPE)
                .rotaryEmbeddingOriginalMaxPositions(original)
                .rotaryEmbeddingShortMScale((float) keys.optionalDouble("longrope_short_mscale", mscale))
                .rotaryEmbeddingLongMScale((float) keys.optionalDouble("longrope_long_mscale", mscale))
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLongRope(
                        factors(keys, "longrope_scaling_short_factors"), factors(keys, "longrope_scaling_long_factors")));
    }

    /**
     * The variant named by {@code type} or {@code rope_type}, with Hugging Face's two other
     * spellings: {@code default} is plain RoPE and {@code su} is LongRoPE's first name.
     */
    static RotaryScalingType scalingType(JsonKeys scaling) {
        String key = scaling.has("type") ? "type" : "rope_type";
        String name = scaling.optionalString(key, "none");
        return switch (name) {
            case "default" -> RotaryScalingType.NONE;
            case "su" -> RotaryScalingType.LONGROPE;
            default -> {
                try {
                    yield TensorRtLlmEnum.fromName(RotaryScalingType.class, name);
                } catch (IllegalArgumentException e) {
                    throw scaling.problem(key, "= " + name + ": " + e.getMessage());
                }
            }
        };
    }

    static List<Double> factors(JsonKeys keys, String key) {
        JsonNode list = keys.get(key);
        if (list == null || !list.isArray()) {
            throw keys.problem(key, "must be a list of numbers");
        }
        List<Double> factors = new ArrayList<>();
        for (JsonNode factor : list) {
            if (!factor.isNumber()) {
                throw keys.problem(key, "must be a list of numbers, holds " + factor);
            }
            factors.add(factor.asDouble());
        }
        return factors;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CheckpointConfig that && json.equals(that.json);
    }

    @Override
    public int hashCode() {
        return json.hashCode();
    }

    @Override
    public String toString() {
        return "CheckpointConfig[" + architecture() + ", " + keys.source() + "]";
    }
}
