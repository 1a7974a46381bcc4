package dev.trtllm4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trtllm4j.attention.DataType;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Turns a Hugging Face {@code config.json} into TensorRT-LLM's checkpoint config, as the
 * {@code from_hugging_face} converters of TensorRT-LLM's model families do: {@code rope_theta} to
 * {@code rotary_base}, {@code rope_scaling} to {@code rotary_scaling}, {@code head_dim} to
 * {@code head_size}, the family's rotary fraction ({@code rotary_dim}, {@code rotary_pct},
 * {@code partial_rotary_factor}), its {@code position_embedding_type}, and
 * {@code num_key_value_heads}.
 *
 * <p>Families, by {@code model_type}: llama, mistral, qwen2, qwen3, gemma, gemma2 and phi3 (Llama-like
 * names), phi, gptj, gpt_neox, falcon (also the older RefinedWeb names), bloom and mpt. Keys a
 * family's Hugging Face class gives a default are optional here with the same default; the model's
 * sizes are required.
 */
public final class HuggingFaceConfig {

    /** The {@code model_type}s this converter knows. */
    public static final List<String> MODEL_TYPES = List.of("llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2",
            "phi3", "phi", "gptj", "gpt_neox", "falcon", "bloom", "mpt");

    private HuggingFaceConfig() {}

    /**
     * Reads and converts a Hugging Face config.
     *
     * @param dtype the checkpoint's dtype, or null for TensorRT-LLM's {@code auto}: the config's
     *     {@code torch_dtype}, with float32 (and an absent one) becoming float16
     * @throws IllegalArgumentException naming the file and the key when the architecture is unknown
     *     or a required key is missing or mistyped
     */
    public static CheckpointConfig read(Path path, DataType dtype) {
        return convert(JsonKeys.readObject(path), path.toString(), dtype);
    }

    /**
     * Converts a Hugging Face config.
     *
     * @param source how to name the file in error messages
     * @param dtype the checkpoint's dtype, or null for {@code auto}
     * @throws IllegalArgumentException naming the source and the key when the architecture is
     *     unknown or a required key is missing or mistyped
     */
    public static CheckpointConfig convert(JsonNode json, String source, DataType dtype) {
        JsonKeys hf = new JsonKeys(json, source);
        String modelType = hf.requiredString("model_type");
        ObjectNode out = JsonKeys.JSON.createObjectNode();
        switch (familyOf(hf, modelType)) {
            case "llama" -> llamaLike(hf, out, modelType);
            case "phi" -> phi(hf, out);
            case "gptj" -> gptj(hf, out);
            case "gpt_neox" -> gptNeox(hf, out);
            case "falcon" -> falcon(hf, out);
            case "bloom" -> bloom(hf, out);
            case "mpt" -> mpt(hf, out);
            default -> throw new AssertionError(modelType);
        }
        out.put("dtype", (dtype == null ? inferDtype(hf) : dtype).tensorRtLlmName());
        out.put("logits_dtype", "float32");
        if (hf.has("vocab_size")) {
            out.put("vocab_size", hf.requiredInt("vocab_size"));
        }
        ObjectNode mapping = out.putObject("mapping");
        mapping.put("world_size", 1).put("tp_size", 1).put("pp_size", 1).put("cp_size", 1);
        ObjectNode quantization = out.putObject("quantization");
        quantization.putNull("quant_algo");
        quantization.putNull("kv_cache_quant_algo");
        return CheckpointConfig.parse(out, source);
    }

    private static String familyOf(JsonKeys hf, String modelType) {
        return switch (modelType) {
            case "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3" -> "llama";
            case "phi", "gptj", "gpt_neox", "falcon", "bloom", "mpt" -> modelType;
            // Falcon's configs before its transformers port.
            case "RefinedWeb", "RefinedWebModel" -> "falcon";
            default -> throw hf.problem("model_type", "= " + modelType + ": not an architecture trtllm4j converts;"
                    + " known: " + String.join(", ", MODEL_TYPES));
        };
    }

    /** TensorRT-LLM's {@code infer_dtype}: the config's torch_dtype, float32 and unknown become float16. */
    static DataType inferDtype(JsonKeys hf) {
        String key = hf.has("torch_dtype") ? "torch_dtype" : "dtype";
        String name = hf.optionalString(key, "float16").toLowerCase(Locale.ROOT);
        return switch (name) {
            case "bfloat16" -> DataType.BFLOAT16;
            default -> DataType.FLOAT16;
        };
    }

    /** Llama and the families whose converters read Llama's key names. */
    private static void llamaLike(JsonKeys hf, ObjectNode out, String modelType) {
        architecture(hf, out, switch (modelType) {
            case "mistral" -> "MistralForCausalLM";
            case "qwen2" -> "Qwen2ForCausalLM";
            case "qwen3" -> "Qwen3ForCausalLM";
            case "gemma" -> "GemmaForCausalLM";
            case "gemma2" -> "Gemma2ForCausalLM";
            case "phi3" -> "Phi3ForCausalLM";
            default -> "LlamaForCausalLM";
        });
        int hidden = positive(hf, "hidden_size");
        int heads = positive(hf, "num_attention_heads");
        sizes(out, hidden, positive(hf, "num_hidden_layers"), heads, hf.optionalInt("num_key_value_heads", heads));
        out.put("head_size", hf.optionalInt("head_dim", hidden / heads));
        optionalInt(hf, out, "intermediate_size", "intermediate_size");
        out.put("hidden_act", hf.optionalString(modelType.startsWith("gemma") ? "hidden_activation" : "hidden_act",
                hf.optionalString("hidden_act", "silu")));
        out.put("norm_epsilon", hf.optionalDouble("rms_norm_eps", 1e-6));
        out.put("max_position_embeddings", hf.requiredInt("max_position_embeddings"));
        // Qwen's converter defaults rope_theta to 100000 where the others default to 10000.
        double defaultBase = modelType.startsWith("qwen") ? 100000.0 : 10000.0;
        out.put("rotary_base", hf.optionalDouble("rope_theta", defaultBase));
        if (modelType.equals("phi3") && hf.has("rope_scaling")) {
            // Phi-3's converter moves LongRoPE's factors to top-level keys and switches the type.
            JsonKeys scaling = hf.optionalObject("rope_scaling");
            out.put("position_embedding_type", "long_rope");
            out.set("longrope_scaling_short_factors", numbers(scaling, "short_factor"));
            out.set("longrope_scaling_long_factors", numbers(scaling, "long_factor"));
            out.put("original_max_position_embeddings", hf.requiredInt("original_max_position_embeddings"));
        } else {
            out.put("position_embedding_type", "rope_gpt_neox");
            scalingOrNull(hf, out);
        }
        if (modelType.equals("gemma2")) {
            // Gemma 2 soft-caps attention logits and scales queries by query_pre_attn_scalar^-1/2.
            out.put("attn_logit_softcapping", hf.optionalDouble("attn_logit_softcapping", 50.0));
            out.put("final_logit_softcapping", hf.optionalDouble("final_logit_softcapping", 30.0));
            out.put("query_pre_attn_scalar", hf.optionalDouble("query_pre_attn_scalar", 256));
        }
    }

    private static void phi(JsonKeys hf, ObjectNode out) {
        architecture(hf, out, "PhiForCausalLM");
        int hidden = positive(hf, "hidden_size");
        int heads = positive(hf, "num_attention_heads");
        sizes(out, hidden, positive(hf, "num_hidden_layers"), heads, hf.optionalInt("num_key_value_heads", heads));
        optionalInt(hf, out, "intermediate_size", "intermediate_size");
        out.put("hidden_act", hf.optionalString("hidden_act", "gelu_new"));
        out.put("norm_epsilon", hf.optionalDouble("layer_norm_eps", 1e-5));
        out.put("max_position_embeddings", hf.requiredInt("max_position_embeddings"));
        out.put("position_embedding_type", "rope_gpt_neox");
        out.put("rotary_base", hf.optionalDouble("rope_theta", 10000.0));
        out.put("rotary_pct", hf.optionalDouble("partial_rotary_factor", 0.5));
        scalingOrNull(hf, out);
    }

    private static void gptj(JsonKeys hf, ObjectNode out) {
        architecture(hf, out, "GPTJForCausalLM");
        int hidden = positive(hf, "n_embd");
        int heads = positive(hf, "n_head");
        sizes(out, hidden, positive(hf, "n_layer"), heads, heads);
        optionalInt(hf, out, "n_inner", "intermediate_size");
        out.put("hidden_act", hf.optionalString("activation_function", "gelu_new"));
        out.put("norm_epsilon", hf.optionalDouble("layer_norm_epsilon", 1e-5));
        out.put("max_position_embeddings", hf.requiredInt("n_positions"));
        out.put("position_embedding_type", "rope_gptj");
        out.put("rotary_dim", hf.optionalInt("rotary_dim", 64));
        out.put("rotary_base", 10000.0);
    }

    private static void gptNeox(JsonKeys hf, ObjectNode out) {
        architecture(hf, out, "GPTNeoXForCausalLM");
        int hidden = positive(hf, "hidden_size");
        int heads = positive(hf, "num_attention_heads");
        sizes(out, hidden, positive(hf, "num_hidden_layers"), heads, heads);
        optionalInt(hf, out, "intermediate_size", "intermediate_size");
        out.put("hidden_act", hf.optionalString("hidden_act", "gelu"));
        out.put("norm_epsilon", hf.optionalDouble("layer_norm_eps", 1e-5));
        out.put("max_position_embeddings", hf.requiredInt("max_position_embeddings"));
        out.put("position_embedding_type", "rope_gpt_neox");
        out.put("rotary_pct", hf.optionalDouble("rotary_pct", 0.25));
        out.put("rotary_base", hf.optionalDouble("rotary_emb_base", hf.optionalDouble("rope_theta", 10000.0)));
        scalingOrNull(hf, out);
    }

    private static void falcon(JsonKeys hf, ObjectNode out) {
        out.put("architecture", "FalconForCausalLM");
        int hidden = hf.has("hidden_size") ? positive(hf, "hidden_size") : positive(hf, "n_embed");
        int heads = hf.has("num_attention_heads") ? positive(hf, "num_attention_heads") : positive(hf, "n_head");
        int layers = hf.has("num_hidden_layers") ? positive(hf, "num_hidden_layers") : positive(hf, "n_layer");
        boolean newArchitecture = hf.optionalBoolean("new_decoder_architecture", false);
        // Falcon-40B's new architecture states its KV heads; the 7B one shares one KV head (multi-query).
        int kvHeads = newArchitecture
                ? hf.optionalInt("num_kv_heads", hf.optionalInt("n_head_kv", heads))
                : hf.optionalBoolean("multi_query", true) ? 1 : heads;
        sizes(out, hidden, layers, heads, kvHeads);
        out.put("hidden_act", "gelu");
        out.put("norm_epsilon", hf.optionalDouble("layer_norm_epsilon", 1e-5));
        // FalconConfig's default context.
        out.put("max_position_embeddings", hf.optionalInt("max_position_embeddings", 2048));
        boolean alibi = hf.optionalBoolean("alibi", false);
        // Falcon adds ALiBi before scaling the logits: alibi_with_scale, not alibi.
        out.put("position_embedding_type", alibi ? "alibi_with_scale" : "rope_gpt_neox");
        out.put("rotary_base", hf.optionalDouble("rope_theta", 10000.0));
        out.put("new_decoder_architecture", newArchitecture);
        out.put("parallel_attention", hf.optionalBoolean("parallel_attn", true));
        out.put("alibi", alibi);
        scalingOrNull(hf, out);
    }

    private static void bloom(JsonKeys hf, ObjectNode out) {
        architecture(hf, out, "BloomForCausalLM");
        int hidden = hf.has("hidden_size") ? positive(hf, "hidden_size") : positive(hf, "n_embed");
        int heads = positive(hf, "n_head");
        sizes(out, hidden, positive(hf, "n_layer"), heads, heads);
        out.put("hidden_act", "gelu");
        out.put("norm_epsilon", hf.optionalDouble("layer_norm_epsilon", 1e-5));
        out.put("position_embedding_type", "alibi");
    }

    private static void mpt(JsonKeys hf, ObjectNode out) {
        architecture(hf, out, "MPTForCausalLM");
        int hidden = positive(hf, "d_model");
        int heads = positive(hf, "n_heads");
        JsonKeys attention = hf.optionalObject("attn_config");
        int kvHeads = attention == null ? heads : attention.optionalInt("kv_n_heads", heads);
        sizes(out, hidden, positive(hf, "n_layers"), heads, kvHeads);
        out.put("hidden_act", "gelu");
        out.put("norm_epsilon", 1e-5);
        out.put("max_position_embeddings", hf.optionalInt("max_seq_len", 2048));
        boolean alibi = attention == null || attention.optionalBoolean("alibi", false);
        out.put("position_embedding_type", alibi ? "alibi" : "learned_absolute");
        if (attention != null && attention.has("softmax_scale")) {
            throw attention.problem("softmax_scale", "is set: trtllm4j converts MPT models with the default 1/sqrt(head_size)");
        }
    }

    private static void architecture(JsonKeys hf, ObjectNode out, String fallback) {
        JsonNode architectures = hf.get("architectures");
        out.put("architecture", architectures != null && architectures.isArray() && !architectures.isEmpty()
                && architectures.get(0).isTextual() ? architectures.get(0).asText() : fallback);
    }

    private static void sizes(ObjectNode out, int hidden, int layers, int heads, int kvHeads) {
        out.put("hidden_size", hidden);
        out.put("num_hidden_layers", layers);
        out.put("num_attention_heads", heads);
        out.put("num_key_value_heads", kvHeads);
    }

    private static int positive(JsonKeys hf, String key) {
        int value = hf.requiredInt(key);
        if (value < 1) {
            throw hf.problem(key, "must be at least 1, got " + value);
        }
        return value;
    }

    private static void optionalInt(JsonKeys hf, ObjectNode out, String from, String to) {
        if (hf.has(from)) {
            out.put(to, hf.requiredInt(from));
        }
    }

    private static void scalingOrNull(JsonKeys hf, ObjectNode out) {
        JsonKeys scaling = hf.optionalObject("rope_scaling");
        if (scaling == null) {
            out.putNull("rotary_scaling");
        } else {
            out.set("rotary_scaling", scaling.node().deepCopy());
        }
    }

    private static ArrayNode numbers(JsonKeys keys, String key) {
        ArrayNode list = JsonKeys.JSON.createArrayNode();
        CheckpointConfig.factors(keys, key).forEach(list::add);
        return list;
    }
}
