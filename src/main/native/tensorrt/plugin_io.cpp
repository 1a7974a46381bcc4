#include "plugin_io.h"

#include <cstddef>

#include "status.h"

namespace trtllm4j {

InputLayout input_layout(const trtllm4j_params &p) {
    InputLayout layout{};
    int next = 0;
    for (int i = 0; i < static_cast<int>(Input::count); i++) {
        Input input = static_cast<Input>(i);
        bool present = true;
        switch (input) {
        case Input::rotary_inv_freq:
        case Input::rotary_cos_sin: present = trtllm4j_is_rope(p.position_embedding_type); break;
        case Input::alibi_slopes: present = trtllm4j_is_alibi(p.position_embedding_type); break;
        case Input::long_rope_rotary_inv_freq:
        case Input::long_rope_rotary_cos_sin: present = p.position_embedding_type == POS_LONG_ROPE; break;
        default: break;
        }
        layout.index[i] = present ? next++ : -1;
    }
    layout.nb_inputs = next;
    return layout;
}

const char *input_name(Input input) {
    static const char *const names[] = {"qkv",
                                        "sequence_length",
                                        "host_past_key_value_lengths",
                                        "host_max_attention_window_sizes",
                                        "host_sink_token_length",
                                        "context_lengths",
                                        "cache_indirection",
                                        "host_request_types",
                                        "past_key_value",
                                        "rotary_inv_freq",
                                        "rotary_cos_sin",
                                        "alibi_slopes",
                                        "host_context_lengths",
                                        "long_rope_rotary_inv_freq",
                                        "long_rope_rotary_cos_sin",
                                        "host_runtime_perf_knobs",
                                        "host_context_progress"};
    static_assert(sizeof names / sizeof names[0] == static_cast<size_t>(Input::count), "one name per input");
    return names[static_cast<int>(input)];
}

const char *output_name(int output) {
    return output == Output::context ? "context" : "present_key_value";
}

int32_t input_data_type(Input input, const trtllm4j_params &p) {
    switch (input) {
    case Input::qkv:
    case Input::past_key_value: return p.type_id;
    case Input::rotary_inv_freq:
    case Input::rotary_cos_sin:
    case Input::alibi_slopes:
    case Input::long_rope_rotary_inv_freq:
    case Input::long_rope_rotary_cos_sin: return TRTLLM4J_FLOAT32;
    case Input::host_runtime_perf_knobs:
    case Input::host_context_progress: return 8; /* nvinfer1::DataType::kINT64 */
    default: return TRTLLM4J_INT32;
    }
}

bool input_on_host(Input input) {
    switch (input) {
    case Input::host_past_key_value_lengths:
    case Input::host_max_attention_window_sizes:
    case Input::host_sink_token_length:
    case Input::host_request_types:
    case Input::host_context_lengths:
    case Input::host_runtime_perf_knobs:
    case Input::host_context_progress: return true;
    default: return false;
    }
}

#define UNSUPPORTED_IF(condition, ...)                                          \
    do {                                                                        \
        if (condition) return trtllm4j_fail(TRTLLM4J_UNSUPPORTED, __VA_ARGS__); \
    } while (0)

int32_t check_supported(const trtllm4j_params &p) {
    UNSUPPORTED_IF(p.paged_kv_cache, "paged_kv_cache = 1: the tensorrt backend wires a contiguous KV cache "
                                     "(past_key_value), not the paged block inputs");
    UNSUPPORTED_IF(!p.remove_input_padding, "remove_input_padding = 0: the tensorrt backend takes packed tokens");
    UNSUPPORTED_IF(!p.use_cache, "use_cache = 0: the tensorrt backend always reads and writes the KV cache");
    UNSUPPORTED_IF(p.kv_cache_quant_mode != 0,
                   "kv_cache_quant_mode = %d: the KV cache is stored in type_id; the quantisation scale inputs "
                   "are not wired",
                   p.kv_cache_quant_mode);
    UNSUPPORTED_IF(p.position_embedding_type == POS_RELATIVE || p.position_embedding_type == POS_CHATGLM ||
                       p.position_embedding_type == POS_ROPE_M,
                   "position_embedding_type = %d: implemented are learned_absolute, rope_gptj, rope_gpt_neox, "
                   "long_rope, yarn, alibi and alibi_with_scale",
                   p.position_embedding_type);
    UNSUPPORTED_IF(p.rotary_embedding_scale_type == SCALE_MROPE,
                   "rotary_embedding_scale_type = 6 (mrope): the mrope inputs are not wired");
    UNSUPPORTED_IF(p.mask_type != MASK_CAUSAL && p.mask_type != MASK_SLIDING_WINDOW_CAUSAL,
                   "mask_type = %d: implemented are causal (1) and sliding_window_causal (2)", p.mask_type);
    UNSUPPORTED_IF(p.unfuse_qkv_gemm, "unfuse_qkv_gemm = 1: the tensorrt backend takes one packed qkv input");
    UNSUPPORTED_IF(p.qkv_bias_enabled, "qkv_bias_enabled = 1: the qkv_bias input is not wired");
    UNSUPPORTED_IF(p.do_cross_attention, "do_cross_attention = 1: the cross_kv inputs are not wired");
    UNSUPPORTED_IF(p.has_full_attention_mask, "has_full_attention_mask = 1: the attention_mask input is not wired");
    UNSUPPORTED_IF(p.is_spec_decoding_enabled, "is_spec_decoding_enabled = 1: the spec_decoding inputs are not wired");
    UNSUPPORTED_IF(p.use_logn_scaling, "use_logn_scaling = 1: the logn_scaling input is not wired");
    UNSUPPORTED_IF(p.skip_attn, "skip_attn = 1: the skip_attn input is not wired");
    UNSUPPORTED_IF(p.fuse_fp4_quant, "fuse_fp4_quant = 1: the FP4 output and its scale input are not wired");
    UNSUPPORTED_IF(p.use_fp8_context_fmha,
                   "use_fp8_context_fmha = 1: the FP8 output and its quantisation scale input are not wired");
    UNSUPPORTED_IF(p.pos_shift_enabled, "pos_shift_enabled = 1: StreamingLLM's shifted positions are not implemented");
    UNSUPPORTED_IF(p.cp_size > 1, "cp_size = %d: context parallelism is not implemented", p.cp_size);
    UNSUPPORTED_IF(p.vision_length > 0, "vision_length = %d: CogVLM attention is not implemented", p.vision_length);
    return TRTLLM4J_OK;
}

} // namespace trtllm4j
