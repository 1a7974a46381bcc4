package dev.trtllm4j.attention;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The one table of the GPT attention plugin's fields: every field TensorRT-LLM's {@code
 * gpt_attention} sends to the {@code GPTAttention} creator, in the order it sends them, with the
 * wire type the creator reads, TensorRT-LLM's default and a one-line description.
 *
 * <p>The builder's defaults, the native {@code PluginFieldCollection}, the names shown to users and
 * the plugin-field files all derive from this table. The creator also lists a 59th name, {@code
 * layer_idx_in_cache_pool}, that nothing sends or reads any more; it is left out on purpose.
 *
 * <p>Values are held as {@link Integer} for int, boolean (0 or 1) and enum fields (the enum's
 * code), {@link Float} for float fields and {@code int[]} for {@code cp_group}.
 */
public enum GptAttentionField {
    LAYER_IDX("layer_idx", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "Index of this layer in the model; selects its slice of a paged KV cache pool."),
    NUM_HEADS("num_heads", PluginFieldType.INT32, ValueKind.INT, null, null,
            "Query heads on this tensor-parallel rank."),
    VISION_START("vision_start", PluginFieldType.INT32, ValueKind.INT, -1, null,
            "First vision token of CogVLM inputs, -1 when unused."),
    VISION_LENGTH("vision_length", PluginFieldType.INT32, ValueKind.INT, -1, null,
            "Number of CogVLM vision tokens, -1 when unused."),
    NUM_KV_HEADS("num_kv_heads", PluginFieldType.INT32, ValueKind.INT, null, null,
            "Key/value heads on this rank: equal to num_heads for MHA, 1 for MQA, a divisor for GQA."),
    NUM_KV_HEADS_ORIGIN("num_kv_heads_origin", PluginFieldType.INT32, ValueKind.INT, -1, null,
            "Key/value heads before the tensor-parallel split; -1 means num_kv_heads."),
    HEAD_SIZE("head_size", PluginFieldType.INT32, ValueKind.INT, null, null,
            "Features per head (hidden_size_per_head)."),
    UNIDIRECTIONAL("unidirectional", PluginFieldType.INT32, ValueKind.INT, 1, null,
            "Causal attention; TensorRT-LLM always sends 1."),
    Q_SCALING("q_scaling", PluginFieldType.FLOAT32, ValueKind.FLOAT, 1.0f, null,
            "Logits are scaled by 1 / (q_scaling * sqrt(head_size))."),
    ATTN_LOGIT_SOFTCAPPING_SCALE("attn_logit_softcapping_scale", PluginFieldType.FLOAT32, ValueKind.FLOAT, 0.0f, null,
            "Soft-capping of logits as scale * tanh(logit / scale); 0 turns it off."),
    POSITION_EMBEDDING_TYPE("position_embedding_type", PluginFieldType.INT8, ValueKind.ENUM, PositionEmbeddingType.LEARNED_ABSOLUTE.code(), PositionEmbeddingType.class,
            "How positions enter attention: RoPE forms, ALiBi, or none."),
    ROTARY_EMBEDDING_DIM("rotary_embedding_dim", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "Leading features of each head that RoPE rotates; 0 without RoPE."),
    ROTARY_EMBEDDING_BASE("rotary_embedding_base", PluginFieldType.FLOAT32, ValueKind.FLOAT, 10000.0f, null,
            "RoPE theta: inv_freq[i] = base^(-2i / rotary_embedding_dim)."),
    ROTARY_EMBEDDING_SCALE_TYPE("rotary_embedding_scale_type", PluginFieldType.INT8, ValueKind.ENUM, RotaryScalingType.NONE.code(), RotaryScalingType.class,
            "RoPE frequency scaling variant."),
    ROTARY_EMBEDDING_SCALE("rotary_embedding_scale", PluginFieldType.FLOAT32, ValueKind.FLOAT, 1.0f, null,
            "Scaling factor of the linear, dynamic, llama3, yarn variants."),
    ROTARY_EMBEDDING_SHORT_M_SCALE("rotary_embedding_short_m_scale", PluginFieldType.FLOAT32, ValueKind.FLOAT, 1.0f, null,
            "LongRoPE attention factor for short sequences."),
    ROTARY_EMBEDDING_LONG_M_SCALE("rotary_embedding_long_m_scale", PluginFieldType.FLOAT32, ValueKind.FLOAT, 1.0f, null,
            "LongRoPE attention factor for long sequences."),
    ROTARY_EMBEDDING_MAX_POSITIONS("rotary_embedding_max_positions", PluginFieldType.INT32, ValueKind.INT, 1024, null,
            "max_position_embeddings: where dynamic NTK scaling starts."),
    ROTARY_EMBEDDING_ORIGINAL_MAX_POSITIONS("rotary_embedding_original_max_positions", PluginFieldType.INT32, ValueKind.INT, 1024, null,
            "Context length the model was trained at (llama3, yarn, longrope)."),
    TP_SIZE("tp_size", PluginFieldType.INT32, ValueKind.INT, 1, null,
            "Tensor-parallel size, used to slice ALiBi slopes."),
    TP_RANK("tp_rank", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "Tensor-parallel rank, used to slice ALiBi slopes."),
    UNFUSE_QKV_GEMM("unfuse_qkv_gemm", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Q, K and V arrive as three inputs rather than one packed qkv."),
    CONTEXT_FMHA_TYPE("context_fmha_type", PluginFieldType.INT8, ValueKind.ENUM, ContextFmhaType.ENABLED.code(), ContextFmhaType.class,
            "Fused context attention kernel (plugin_config.context_fmha)."),
    KV_CACHE_QUANT_MODE("kv_cache_quant_mode", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "QuantMode bits of the KV cache: 64 int8, 128 fp8; 0 stores it in type_id."),
    REMOVE_INPUT_PADDING("remove_input_padding", PluginFieldType.INT8, ValueKind.BOOLEAN, 1, null,
            "Tokens are packed without padding (plugin_config.remove_input_padding)."),
    MASK_TYPE("mask_type", PluginFieldType.INT32, ValueKind.ENUM, AttentionMaskType.CAUSAL.code(), AttentionMaskType.class,
            "Attention mask."),
    BLOCK_SPARSE_BLOCK_SIZE("block_sparse_block_size", PluginFieldType.INT32, ValueKind.INT, 64, null,
            "Block size of the block-sparse mask (Phi-3-small)."),
    BLOCK_SPARSE_HOMO_HEAD_PATTERN("block_sparse_homo_head_pattern", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Same block-sparse pattern on every head; declared kINT32 by the creator but sent and read as int8."),
    BLOCK_SPARSE_NUM_LOCAL_BLOCKS("block_sparse_num_local_blocks", PluginFieldType.INT32, ValueKind.INT, 16, null,
            "Local blocks of the block-sparse mask."),
    BLOCK_SPARSE_VERTICAL_STRIDE("block_sparse_vertical_stride", PluginFieldType.INT32, ValueKind.INT, 8, null,
            "Vertical stride of the block-sparse mask."),
    PAGED_KV_CACHE("paged_kv_cache", PluginFieldType.INT32, ValueKind.BOOLEAN, 0, null,
            "Paged KV cache (int32 on the wire); 0 is the contiguous cache of kv_cache_type CONTINUOUS."),
    TOKENS_PER_BLOCK("tokens_per_block", PluginFieldType.INT32, ValueKind.INT, 32, null,
            "Tokens per block of a paged KV cache (plugin_config.tokens_per_block)."),
    TYPE_ID("type_id", PluginFieldType.INT32, ValueKind.ENUM, DataType.FLOAT16.code(), DataType.class,
            "Storage type of qkv, KV cache and output (plugin_config.gpt_attention_plugin dtype)."),
    MAX_CONTEXT_LENGTH("max_context_length", PluginFieldType.INT32, ValueKind.INT, null, null,
            "Longest context (prompt) the plugin is sized for (max_input_len)."),
    QKV_BIAS_ENABLED("qkv_bias_enabled", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "A QKV bias input is fused into attention."),
    DO_CROSS_ATTENTION("do_cross_attention", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Cross attention over encoder outputs."),
    MAX_DISTANCE("max_distance", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "Maximum distance of relative attention buckets; 0 off."),
    POS_SHIFT_ENABLED("pos_shift_enabled", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "StreamingLLM position shift (plugin_config.streamingllm)."),
    DENSE_CONTEXT_FMHA("dense_context_fmha", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "StreamingLLM dense context attention (plugin_config.streamingllm)."),
    USE_PAGED_CONTEXT_FMHA("use_paged_context_fmha", PluginFieldType.INT8, ValueKind.BOOLEAN, 1, null,
            "Context attention reads the paged KV cache (chunked context, prefix reuse)."),
    USE_FP8_CONTEXT_FMHA("use_fp8_context_fmha", PluginFieldType.INT8, ValueKind.BOOLEAN, 1, null,
            "FP8 context attention where the KV cache is FP8."),
    HAS_FULL_ATTENTION_MASK("has_full_attention_mask", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "A full attention mask input is given."),
    USE_CACHE("use_cache", PluginFieldType.INT32, ValueKind.BOOLEAN, 1, null,
            "The KV cache is read and written (int32 on the wire)."),
    IS_SPEC_DECODING_ENABLED("is_spec_decoding_enabled", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Speculative decoding inputs are given."),
    SPEC_DECODING_IS_GENERATION_LENGTH_VARIABLE("spec_decoding_is_generation_length_variable", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Draft lengths vary between requests (ReDrafter)."),
    SPEC_DECODING_MAX_GENERATION_LENGTH("spec_decoding_max_generation_length", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "Most tokens a speculative generation step checks."),
    IS_MLA_ENABLED("is_mla_enabled", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "DeepSeek MLA; the TensorRT plugin rejects it (PyTorch workflow only)."),
    Q_LORA_RANK("q_lora_rank", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "MLA query LoRA rank."),
    KV_LORA_RANK("kv_lora_rank", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "MLA key/value LoRA rank."),
    QK_NOPE_HEAD_DIM("qk_nope_head_dim", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "MLA non-rotary query/key features."),
    QK_ROPE_HEAD_DIM("qk_rope_head_dim", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "MLA rotary query/key features."),
    V_HEAD_DIM("v_head_dim", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "MLA value head size."),
    FUSE_FP4_QUANT("fuse_fp4_quant", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Quantise the output to NVFP4 inside attention."),
    SKIP_ATTN("skip_attn", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "A skip_attn input may skip the layer at run time."),
    CP_SIZE("cp_size", PluginFieldType.INT32, ValueKind.INT, 1, null,
            "Context-parallel size."),
    CP_RANK("cp_rank", PluginFieldType.INT32, ValueKind.INT, 0, null,
            "Context-parallel rank."),
    CP_GROUP("cp_group", PluginFieldType.INT32, ValueKind.INT_LIST, new int[] {0}, null,
            "Ranks of the context-parallel group; the one field of several elements."),
    USE_LOGN_SCALING("use_logn_scaling", PluginFieldType.INT8, ValueKind.BOOLEAN, 0, null,
            "Qwen's log-n attention scaling input is given.");

    /** What a field's value means, beyond its wire type. */
    public enum ValueKind {
        INT, BOOLEAN, FLOAT, ENUM, INT_LIST
    }

    private static final Map<String, GptAttentionField> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(f -> f.fieldName, Function.identity()));

    private final String fieldName;
    private final PluginFieldType wireType;
    private final ValueKind kind;
    private final Object defaultValue;
    private final Class<? extends TensorRtLlmEnum> enumType;
    private final String description;

    GptAttentionField(String fieldName, PluginFieldType wireType, ValueKind kind, Object defaultValue,
            Class<? extends TensorRtLlmEnum> enumType, String description) {
        this.fieldName = fieldName;
        this.wireType = wireType;
        this.kind = kind;
        this.defaultValue = defaultValue;
        this.enumType = enumType;
        this.description = description;
    }

    /** The field's name exactly as TensorRT-LLM spells it, such as {@code rotary_embedding_dim}. */
    public String fieldName() {
        return fieldName;
    }

    /** The type the plugin creator reads this field as. */
    public PluginFieldType wireType() {
        return wireType;
    }

    /** Whether the value is a plain number, a flag, an enum code or a list. */
    public ValueKind kind() {
        return kind;
    }

    /** Whether a configuration must set this field: TensorRT-LLM has no default for it. */
    public boolean isRequired() {
        return defaultValue == null;
    }

    /** TensorRT-LLM's default, in this table's value representation; null for a required field. */
    Object defaultValue() {
        return defaultValue instanceof int[] list ? list.clone() : defaultValue;
    }

    /** The enum whose codes this field carries, or null when it is not an enum field. */
    public Class<? extends TensorRtLlmEnum> enumType() {
        return enumType;
    }

    /** One line on what the field does. */
    public String description() {
        return description;
    }

    /**
     * Finds a field by TensorRT-LLM's name.
     *
     * @throws IllegalArgumentException naming the unknown field
     */
    public static GptAttentionField byName(String fieldName) {
        GptAttentionField field = BY_NAME.get(fieldName);
        if (field == null) {
            throw new IllegalArgumentException("unknown GPT attention plugin field '" + fieldName + "'");
        }
        return field;
    }
}
