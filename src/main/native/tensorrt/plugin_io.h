/*
 * The GPTAttention plugin's inputs and outputs for packed tokens and a contiguous KV cache, in
 * TensorRT-LLM's order (functional.gpt_attention appends them so, and its plugin's IdxEntry follows):
 * which of them a configuration has depends on its fields, as in TensorRT-LLM's GPTAttentionPlugin.
 * Shared by trtllm4j's own plugin and by the network the tensorrt backend builds, so the network
 * fits TensorRT-LLM's plugin and trtllm4j's alike.
 */
#ifndef TRTLLM4J_TENSORRT_PLUGIN_IO_H
#define TRTLLM4J_TENSORRT_PLUGIN_IO_H

#include <cstdint>

#include "plugin_params.h"

namespace trtllm4j {

enum class Input : int {
    qkv,
    sequence_length,               /* int32 [batch], device: past + new tokens */
    host_past_key_value_lengths,   /* int32 [batch], host */
    host_max_attention_window_sizes, /* int32 [layer_idx + 1], host: one window per layer */
    host_sink_token_length,        /* int32 [1], host */
    context_lengths,               /* int32 [batch], device */
    cache_indirection,             /* int32 [batch, 1, max_seq_len], device: beam width 1 */
    host_request_types,            /* int32 [batch], host */
    past_key_value,                /* type_id [batch, 2, num_kv_heads, max_seq_len, head_size] */
    rotary_inv_freq,               /* float32 [rotary_embedding_dim / 2]; RoPE types */
    rotary_cos_sin,                /* float32 [1, positions * rotary_embedding_dim]; RoPE types */
    alibi_slopes,                  /* float32 [num_heads]; ALiBi types */
    host_context_lengths,          /* int32 [batch], host: new tokens of each sequence */
    long_rope_rotary_inv_freq,     /* long_rope only */
    long_rope_rotary_cos_sin,      /* long_rope only */
    host_runtime_perf_knobs,       /* int64 [16], host */
    host_context_progress,         /* int64 [1], host */
    count
};

enum Output : int { context = 0, present_key_value = 1, output_count = 2 };

/* Index of each input in the plugin's input list, -1 where the configuration has none. */
struct InputLayout {
    int index[static_cast<int>(Input::count)];
    int nb_inputs;

    int at(Input input) const { return index[static_cast<int>(input)]; }
    bool has(Input input) const { return at(input) >= 0; }
};

InputLayout input_layout(const trtllm4j_params &params);

/* The tensor's name in TensorRT-LLM's words. */
const char *input_name(Input input);
const char *output_name(int output);

/* nvinfer1::DataType code of an input, and whether it is read on the host. */
int32_t input_data_type(Input input, const trtllm4j_params &params);
bool input_on_host(Input input);

constexpr int32_t kPerfKnobs = 16; /* TensorRT-LLM's host_runtime_perf_knobs holds 16 int64 */

/*
 * Valid TensorRT-LLM configurations that neither the network (packed tokens, a contiguous KV cache)
 * nor trtllm4j's kernels implement: the cuda backend's list (supported.h) and the inputs and outputs
 * the network does not wire. TRTLLM4J_UNSUPPORTED naming the field, else TRTLLM4J_OK.
 */
int32_t check_supported(const trtllm4j_params &params);

} // namespace trtllm4j

#endif
