package dev.trtllm4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trtllm4j.attention.ContextFmhaType;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.TensorRtLlmEnum;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A {@code trtllm-build} build configuration: the sizes an engine is built for and the
 * {@code plugin_config} keys that become GPT attention plugin fields, with TensorRT-LLM's key names
 * and defaults ({@code BuildConfig} and {@code PluginConfig}). Other keys of a file are TensorRT-LLM's
 * business and are ignored when reading.
 *
 * @param maxBatchSize {@code max_batch_size}, default 2048
 * @param maxInputLen {@code max_input_len}, default 1024: the plugin's {@code max_context_length}
 * @param maxSeqLen {@code max_seq_len}: prompt plus generated tokens
 * @param maxNumTokens {@code max_num_tokens}, default 8192: tokens of one batch after padding removal
 * @param maxBeamWidth {@code max_beam_width}, default 1
 * @param plugin the {@code plugin_config} keys that reach the attention plugin
 */
public record BuildConfig(int maxBatchSize, int maxInputLen, int maxSeqLen, int maxNumTokens, int maxBeamWidth,
        PluginConfig plugin) {

    /** TensorRT-LLM's {@code BuildConfig} defaults. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 2048;
    public static final int DEFAULT_MAX_INPUT_LEN = 1024;
    public static final int DEFAULT_MAX_NUM_TOKENS = 8192;
    /** TensorRT-LLM's {@code max_seq_len} when the model states no {@code max_position_embeddings}. */
    public static final int FALLBACK_MAX_SEQ_LEN = 2048;

    /**
     * The {@code plugin_config} keys that become plugin fields.
     *
     * @param dtype {@code dtype}: the model's type
     * @param gptAttentionPlugin {@code gpt_attention_plugin}: {@code auto} (the model's dtype), a dtype
     *     name, or null when the plugin is disabled
     * @param contextFmha {@code context_fmha}, default true
     * @param bertContextFmhaFp32Acc {@code bert_context_fmha_fp32_acc}, default false
     * @param pagedKvCache {@code paged_kv_cache}: TensorRT-LLM's default KV cache is paged
     * @param removeInputPadding {@code remove_input_padding}, default true
     * @param tokensPerBlock {@code tokens_per_block}, default 32
     * @param usePagedContextFmha {@code use_paged_context_fmha}, default true
     * @param useFp8ContextFmha {@code use_fp8_context_fmha}, default true
     * @param streamingllm {@code streamingllm}, default false
     * @param fuseFp4Quant {@code fuse_fp4_quant}, default false
     */
    public record PluginConfig(String dtype, String gptAttentionPlugin, boolean contextFmha,
            boolean bertContextFmhaFp32Acc, boolean pagedKvCache, boolean removeInputPadding, int tokensPerBlock,
            boolean usePagedContextFmha, boolean useFp8ContextFmha, boolean streamingllm, boolean fuseFp4Quant) {

        /** TensorRT-LLM's defaults for a model of this dtype. */
        public static PluginConfig defaults(DataType dtype) {
            return new PluginConfig(dtype.tensorRtLlmName(), dtype.tensorRtLlmName(), true, false, true, true, 32,
                    true, true, false, false);
        }

        /** The same keys with another KV cache kind. */
        public PluginConfig withPagedKvCache(boolean paged) {
            return new PluginConfig(dtype, gptAttentionPlugin, contextFmha, bertContextFmhaFp32Acc, paged,
                    removeInputPadding, tokensPerBlock, usePagedContextFmha, useFp8ContextFmha, streamingllm,
                    fuseFp4Quant);
        }
    }

    public BuildConfig {
        check(maxBatchSize >= 1, "max_batch_size", maxBatchSize, "must be at least 1");
        check(maxInputLen >= 1, "max_input_len", maxInputLen, "must be at least 1");
        check(maxSeqLen >= maxInputLen, "max_seq_len", maxSeqLen, "must be at least max_input_len = " + maxInputLen);
        check(maxNumTokens >= 1, "max_num_tokens", maxNumTokens, "must be at least 1");
        check(maxBeamWidth >= 1, "max_beam_width", maxBeamWidth, "must be at least 1");
        check(plugin.tokensPerBlock() >= 1, "plugin_config.tokens_per_block", plugin.tokensPerBlock(), "must be at least 1");
    }

    /**
     * What {@code trtllm-build} uses for this checkpoint when given no options: TensorRT-LLM's
     * defaults, {@code max_seq_len} from {@code max_position_embeddings} (times the factor of
     * linear, dynamic or yarn scaling, as {@code trtllm-build} deduces it), a paged KV cache.
     */
    public static BuildConfig defaults(CheckpointConfig checkpoint) {
        int maxSeqLen = checkpoint.hasMaxPositionEmbeddings() ? checkpoint.maxPositionEmbeddings() : FALLBACK_MAX_SEQ_LEN;
        maxSeqLen = (int) Math.min(Integer.MAX_VALUE, (long) (maxSeqLen * checkpoint.maxSeqLenFactor()));
        return new BuildConfig(DEFAULT_MAX_BATCH_SIZE, Math.min(DEFAULT_MAX_INPUT_LEN, maxSeqLen), maxSeqLen,
                DEFAULT_MAX_NUM_TOKENS, 1, PluginConfig.defaults(checkpoint.dtype()));
    }

    /** The same sizes and keys with another KV cache kind. */
    public BuildConfig withPagedKvCache(boolean paged) {
        return new BuildConfig(maxBatchSize, maxInputLen, maxSeqLen, maxNumTokens, maxBeamWidth,
                plugin.withPagedKvCache(paged));
    }

    /**
     * Reads a build configuration; keys left out take TensorRT-LLM's defaults, with
     * {@code max_seq_len} required.
     *
     * @throws IllegalArgumentException naming the file and the key when it is invalid
     */
    public static BuildConfig read(Path path) {
        return parse(JsonKeys.readObject(path), path.toString());
    }

    /**
     * A build configuration from its JSON.
     *
     * @param source how to name the file in error messages
     * @throws IllegalArgumentException naming the source and the key when it is invalid
     */
    public static BuildConfig parse(JsonNode json, String source) {
        JsonKeys keys = new JsonKeys(json, source);
        JsonKeys plugin = keys.optionalObject("plugin_config");
        if (plugin == null) {
            plugin = new JsonKeys(JsonKeys.JSON.createObjectNode(), source + ": plugin_config");
        }
        String dtype = plugin.optionalString("dtype", "float16");
        // trtllm-build writes "gpt_attention_plugin": null for a disabled plugin.
        String attentionPlugin = plugin.node().has("gpt_attention_plugin") && plugin.node().get("gpt_attention_plugin").isNull()
                ? null : plugin.optionalString("gpt_attention_plugin", "auto");
        boolean paged = plugin.has("paged_kv_cache")
                ? plugin.optionalBoolean("paged_kv_cache", true)
                : !"CONTINUOUS".equals(keys.optionalString("kv_cache_type", "PAGED"));
        PluginConfig pluginConfig = new PluginConfig(dtype, attentionPlugin,
                plugin.optionalBoolean("context_fmha", true),
                plugin.optionalBoolean("bert_context_fmha_fp32_acc", false),
                paged,
                plugin.optionalBoolean("remove_input_padding", true),
                plugin.optionalInt("tokens_per_block", 32),
                plugin.optionalBoolean("use_paged_context_fmha", true),
                plugin.optionalBoolean("use_fp8_context_fmha", true),
                plugin.optionalBoolean("streamingllm", false),
                plugin.optionalBoolean("fuse_fp4_quant", false));
        try {
            return new BuildConfig(keys.optionalInt("max_batch_size", DEFAULT_MAX_BATCH_SIZE),
                    keys.optionalInt("max_input_len", DEFAULT_MAX_INPUT_LEN),
                    keys.requiredInt("max_seq_len"),
                    keys.optionalInt("max_num_tokens", DEFAULT_MAX_NUM_TOKENS),
                    keys.optionalInt("max_beam_width", 1),
                    pluginConfig);
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(source) ? e : new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /** The JSON object, with {@code kv_cache_type} spelled out as {@code trtllm-build} resolves it. */
    public ObjectNode toJsonNode() {
        ObjectNode json = JsonKeys.JSON.createObjectNode();
        json.put("max_input_len", maxInputLen);
        json.put("max_seq_len", maxSeqLen);
        json.put("max_batch_size", maxBatchSize);
        json.put("max_beam_width", maxBeamWidth);
        json.put("max_num_tokens", maxNumTokens);
        json.put("kv_cache_type", plugin.pagedKvCache() ? "PAGED" : "CONTINUOUS");
        ObjectNode pluginJson = json.putObject("plugin_config");
        pluginJson.put("dtype", plugin.dtype());
        pluginJson.put("gpt_attention_plugin", plugin.gptAttentionPlugin());
        pluginJson.put("context_fmha", plugin.contextFmha());
        pluginJson.put("bert_context_fmha_fp32_acc", plugin.bertContextFmhaFp32Acc());
        pluginJson.put("paged_kv_cache", plugin.pagedKvCache());
        pluginJson.put("remove_input_padding", plugin.removeInputPadding());
        pluginJson.put("tokens_per_block", plugin.tokensPerBlock());
        pluginJson.put("use_paged_context_fmha", plugin.usePagedContextFmha());
        pluginJson.put("use_fp8_context_fmha", plugin.useFp8ContextFmha());
        pluginJson.put("streamingllm", plugin.streamingllm());
        pluginJson.put("fuse_fp4_quant", plugin.fuseFp4Quant());
        return json;
    }

    /** Writes this configuration as indented JSON. */
    public void write(Path path) throws IOException {
        Files.writeString(path, toJsonNode().toPrettyString() + System.lineSeparator());
    }

    /** Sets the plugin fields that {@code plugin_config} and the sizes decide. */
    void pluginFields(GptAttentionConfig.Builder builder, DataType modelDtype) {
        builder.typeId(attentionDtype(modelDtype))
                .maxContextLength(maxInputLen)
                .contextFmhaType(plugin.contextFmha()
                        ? (plugin.bertContextFmhaFp32Acc() ? ContextFmhaType.ENABLED_WITH_FP32_ACC : ContextFmhaType.ENABLED)
                        : ContextFmhaType.DISABLED)
                .pagedKvCache(plugin.pagedKvCache())
                .removeInputPadding(plugin.removeInputPadding())
                .tokensPerBlock(plugin.tokensPerBlock())
                .usePagedContextFmha(plugin.usePagedContextFmha())
                .useFp8ContextFmha(plugin.useFp8ContextFmha())
                // StreamingLLM turns on both the position shift and dense context attention.
                .posShiftEnabled(plugin.streamingllm())
                .denseContextFmha(plugin.streamingllm())
                .fuseFp4Quant(plugin.fuseFp4Quant());
    }

    /** The plugin's {@code type_id}: {@code gpt_attention_plugin}, with {@code auto} meaning the model's dtype. */
    DataType attentionDtype(DataType modelDtype) {
        String name = plugin.gptAttentionPlugin();
        if (name == null) {
            throw new IllegalArgumentException("plugin_config.gpt_attention_plugin is disabled (null):"
                    + " the GPT attention plugin is not in this engine");
        }
        if (name.equals("auto")) {
            return modelDtype;
        }
        try {
            return TensorRtLlmEnum.fromName(DataType.class, name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("plugin_config.gpt_attention_plugin = " + name
                    + ": the plugin's type_id takes auto, float32, float16 or bfloat16");
        }
    }

    private static void check(boolean holds, String key, int value, String rule) {
        if (!holds) {
            throw new IllegalArgumentException(key + " = " + value + ": " + rule);
        }
    }
}
