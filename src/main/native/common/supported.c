#include "supported.h"

#include "status.h"

#define UNSUPPORTED_IF(condition, ...)                                         \
    do {                                                                       \
        if (condition) return trtllm4j_fail(TRTLLM4J_UNSUPPORTED, __VA_ARGS__); \
    } while (0)

int32_t trtllm4j_check_supported(const trtllm4j_params *p, const char *b) {
    UNSUPPORTED_IF(p->paged_kv_cache, "paged_kv_cache = 1: the %s backend keeps a contiguous KV cache", b);
    UNSUPPORTED_IF(!p->remove_input_padding, "remove_input_padding = 0: the %s backend takes packed tokens", b);
    UNSUPPORTED_IF(!p->use_cache, "use_cache = 0: the %s backend always writes the KV cache", b);
    UNSUPPORTED_IF(p->kv_cache_quant_mode != 0, "kv_cache_quant_mode = %d: the %s backend stores the KV cache in type_id",
                   p->kv_cache_quant_mode, b);
    UNSUPPORTED_IF(p->position_embedding_type == POS_RELATIVE || p->position_embedding_type == POS_CHATGLM ||
                       p->position_embedding_type == POS_ROPE_M,
                   "position_embedding_type = %d: the %s backend implements learned_absolute, rope_gptj, "
                   "rope_gpt_neox, long_rope, yarn, alibi and alibi_with_scale",
                   p->position_embedding_type, b);
    UNSUPPORTED_IF(p->rotary_embedding_scale_type == SCALE_MROPE, "rotary_embedding_scale_type = mrope: not on the %s backend", b);
    UNSUPPORTED_IF(p->mask_type != MASK_CAUSAL && p->mask_type != MASK_SLIDING_WINDOW_CAUSAL,
                   "mask_type = %d: the %s backend implements causal and sliding_window_causal", p->mask_type, b);
    UNSUPPORTED_IF(p->unfuse_qkv_gemm, "unfuse_qkv_gemm = 1: the %s backend takes one packed qkv", b);
    UNSUPPORTED_IF(p->qkv_bias_enabled, "qkv_bias_enabled = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->do_cross_attention, "do_cross_attention = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->has_full_attention_mask, "has_full_attention_mask = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->is_spec_decoding_enabled, "is_spec_decoding_enabled = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->use_logn_scaling, "use_logn_scaling = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->skip_attn, "skip_attn = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->fuse_fp4_quant, "fuse_fp4_quant = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->pos_shift_enabled, "pos_shift_enabled = 1: not on the %s backend", b);
    UNSUPPORTED_IF(p->cp_size > 1, "cp_size = %d: context parallelism is not on the %s backend", p->cp_size, b);
    UNSUPPORTED_IF(p->vision_length > 0, "vision_length = %d: CogVLM attention is not on the %s backend",
                   p->vision_length, b);
    return TRTLLM4J_OK;
}
