/*
 * The GPT attention plugin's fields, parsed from a TensorRT PluginFieldCollection the way
 * TensorRT-LLM's PluginFieldParser reads them (by name, exact type, length 1), then validated with
 * the rules of the Java side (dev.trtllm4j.attention.ConfigRules).
 */
#ifndef TRTLLM4J_PLUGIN_PARAMS_H
#define TRTLLM4J_PLUGIN_PARAMS_H

#include "trtllm4j.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, wire type, C type) for every scalar field TensorRT-LLM sends; cp_group is parsed apart. */
#define TRTLLM4J_SCALAR_FIELDS(X)                          \
    X(layer_idx, INT32, int32_t)                           \
    X(num_heads, INT32, int32_t)                           \
    X(vision_start, INT32, int32_t)                        \
    X(vision_length, INT32, int32_t)                       \
    X(num_kv_heads, INT32, int32_t)                        \
    X(num_kv_heads_origin, INT32, int32_t)                 \
    X(head_size, INT32, int32_t)                           \
    X(unidirectional, INT32, int32_t)                      \
    X(q_scaling, FLOAT32, float)                           \
    X(attn_logit_softcapping_scale, FLOAT32, float)        \
    X(position_embedding_type, INT8, int8_t)               \
    X(rotary_embedding_dim, INT32, int32_t)                \
    X(rotary_embedding_base, FLOAT32, float)               \
    X(rotary_embedding_scale_type, INT8, int8_t)           \
    X(rotary_embedding_scale, FLOAT32, float)              \
    X(rotary_embedding_short_m_scale, FLOAT32, float)      \
    X(rotary_embedding_long_m_scale, FLOAT32, float)       \
    X(rotary_embedding_max_positions, INT32, int32_t)      \
    X(rotary_embedding_original_max_positions, INT32, int32_t) \
    X(tp_size, INT32, int32_t)                             \
    X(tp_rank, INT32, int32_t)                             \
    X(unfuse_qkv_gemm, INT8, int8_t)                       \
    X(context_fmha_type, INT8, int8_t)                     \
    X(kv_cache_quant_mode, INT32, int32_t)                 \
    X(remove_input_padding, INT8, int8_t)                  \
    X(mask_type, INT32, int32_t)                           \
    X(block_sparse_block_size, INT32, int32_t)             \
    X(block_sparse_homo_head_pattern, INT8, int8_t)        \
    X(block_sparse_num_local_blocks, INT32, int32_t)       \
    X(block_sparse_vertical_stride, INT32, int32_t)        \
    X(paged_kv_cache, INT32, int32_t)                      \
    X(tokens_per_block, INT32, int32_t)                    \
    X(type_id, INT32, int32_t)                             \
    X(max_context_length, INT32, int32_t)                  \
    X(qkv_bias_enabled, INT8, int8_t)                      \
    X(do_cross_attention, INT8, int8_t)                    \
    X(max_distance, INT32, int32_t)                        \
    X(pos_shift_enabled, INT8, int8_t)                     \
    X(dense_context_fmha, INT8, int8_t)                    \
    X(use_paged_context_fmha, INT8, int8_t)                \
    X(use_fp8_context_fmha, INT8, int8_t)                  \
    X(has_full_attention_mask, INT8, int8_t)               \
    X(use_cache, INT32, int32_t)                           \
    X(is_spec_decoding_enabled, INT8, int8_t)              \
    X(spec_decoding_is_generation_length_variable, INT8, int8_t) \
    X(spec_decoding_max_generation_length, INT32, int32_t) \
    X(is_mla_enabled, INT8, int8_t)                        \
    X(q_lora_rank, INT32, int32_t)                         \
    X(kv_lora_rank, INT32, int32_t)                        \
    X(qk_nope_head_dim, INT32, int32_t)                    \
    X(qk_rope_head_dim, INT32, int32_t)                    \
    X(v_head_dim, INT32, int32_t)                          \
    X(fuse_fp4_quant, INT8, int8_t)                        \
    X(skip_attn, INT8, int8_t)                             \
    X(cp_size, INT32, int32_t)                             \
    X(cp_rank, INT32, int32_t)                             \
    X(use_logn_scaling, INT8, int8_t)

/* PositionEmbeddingType and RotaryScalingType codes (gptKernels.h). */
enum {
    POS_LEARNED_ABSOLUTE = 0, POS_ROPE_GPTJ = 1, POS_ROPE_GPT_NEOX = 2, POS_LONG_ROPE = 3,
    POS_ALIBI = 4, POS_ALIBI_WITH_SCALE = 5, POS_RELATIVE = 6, POS_CHATGLM = 7, POS_YARN = 8,
    POS_ROPE_M = 9
};
enum {
    SCALE_NONE = 0, SCALE_LINEAR = 1, SCALE_DYNAMIC = 2, SCALE_LONG = 3, SCALE_LLAMA3 = 4,
    SCALE_YARN = 5, SCALE_MROPE = 6
};
enum { MASK_CAUSAL = 1, MASK_SLIDING_WINDOW_CAUSAL = 2, MASK_CUSTOM = 6 };

typedef struct trtllm4j_params {
#define TRTLLM4J_PARAM_MEMBER(name, wire, ctype) ctype name;
    TRTLLM4J_SCALAR_FIELDS(TRTLLM4J_PARAM_MEMBER)
#undef TRTLLM4J_PARAM_MEMBER
    int32_t cp_group_size;
} trtllm4j_params;

/* Parses every field (all are required, unknown names are rejected) and validates the result. */
int32_t trtllm4j_params_parse(const trtllm4j_plugin_field_collection *fields, trtllm4j_params *params);

int trtllm4j_is_rope(int32_t position_embedding_type);
int trtllm4j_is_alibi(int32_t position_embedding_type);
/* Bytes per element of a type_id, 0 when the type is not one the plugin computes in. */
int trtllm4j_data_type_size(int32_t type_id);

#ifdef __cplusplus
}
#endif

#endif
