#include "plugin_io.h"

#include <cstddef>

#include "status.h"
#include "supported.h"

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

/*
 * use_fp8_context_fmha is TensorRT-LLM's plugin_config default (1) and changes nothing without an FP8
 * KV cache, which supported.c refuses already: it is accepted here, as on the cpu and cuda backends.
 */
int32_t check_supported(const trtllm4j_params &p) {
    return trtllm4j_check_supported(&p, "tensorrt");
}

} // namespace trtllm4j
