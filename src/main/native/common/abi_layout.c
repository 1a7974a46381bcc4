#include "abi_layout.h"

#include <stddef.h>

#define STRUCT(type) {#type, NULL, 0, (int64_t)sizeof(type)}
#define MEMBER(type, member) {#type, #member, (int64_t)offsetof(type, member), (int64_t)sizeof(((type *)0)->member)}

static const trtllm4j_layout_entry entries[] = {
    STRUCT(trtllm4j_plugin_field),
    MEMBER(trtllm4j_plugin_field, name),
    MEMBER(trtllm4j_plugin_field, data),
    MEMBER(trtllm4j_plugin_field, type),
    MEMBER(trtllm4j_plugin_field, length),
    STRUCT(trtllm4j_plugin_field_collection),
    MEMBER(trtllm4j_plugin_field_collection, nb_fields),
    MEMBER(trtllm4j_plugin_field_collection, fields),
    STRUCT(trtllm4j_buffer),
    MEMBER(trtllm4j_buffer, data),
    MEMBER(trtllm4j_buffer, size_bytes),
    MEMBER(trtllm4j_buffer, location),
    MEMBER(trtllm4j_buffer, data_type),
    STRUCT(trtllm4j_attention_step),
    MEMBER(trtllm4j_attention_step, batch_size),
    MEMBER(trtllm4j_attention_step, num_tokens),
    MEMBER(trtllm4j_attention_step, max_seq_len),
    MEMBER(trtllm4j_attention_step, max_attention_window),
    MEMBER(trtllm4j_attention_step, sink_token_length),
    MEMBER(trtllm4j_attention_step, rotary_positions),
    MEMBER(trtllm4j_attention_step, input_lengths),
    MEMBER(trtllm4j_attention_step, past_lengths),
    MEMBER(trtllm4j_attention_step, host_request_types),
    MEMBER(trtllm4j_attention_step, qkv),
    MEMBER(trtllm4j_attention_step, kv_cache),
    MEMBER(trtllm4j_attention_step, context),
    MEMBER(trtllm4j_attention_step, rotary_inv_freq),
    MEMBER(trtllm4j_attention_step, rotary_cos_sin),
    MEMBER(trtllm4j_attention_step, long_rope_rotary_inv_freq),
    MEMBER(trtllm4j_attention_step, long_rope_rotary_cos_sin),
    MEMBER(trtllm4j_attention_step, alibi_slopes),
    MEMBER(trtllm4j_attention_step, workspace),
    MEMBER(trtllm4j_attention_step, stream),
    STRUCT(trtllm4j_layout_entry),
    MEMBER(trtllm4j_layout_entry, struct_name),
    MEMBER(trtllm4j_layout_entry, member_name),
    MEMBER(trtllm4j_layout_entry, offset),
    MEMBER(trtllm4j_layout_entry, size),
    STRUCT(trtllm4j_backend_api),
    MEMBER(trtllm4j_backend_api, abi_version),
    MEMBER(trtllm4j_backend_api, name),
    MEMBER(trtllm4j_backend_api, tensor_location),
    MEMBER(trtllm4j_backend_api, describe),
    MEMBER(trtllm4j_backend_api, create),
    MEMBER(trtllm4j_backend_api, workspace_size),
    MEMBER(trtllm4j_backend_api, enqueue),
    MEMBER(trtllm4j_backend_api, destroy),
    MEMBER(trtllm4j_backend_api, last_error),
    MEMBER(trtllm4j_backend_api, layout),
    MEMBER(trtllm4j_backend_api, initialize),
    MEMBER(trtllm4j_backend_api, memory_info),
    MEMBER(trtllm4j_backend_api, allocate),
    MEMBER(trtllm4j_backend_api, release),
    MEMBER(trtllm4j_backend_api, copy),
    MEMBER(trtllm4j_backend_api, fill),
    MEMBER(trtllm4j_backend_api, stream_create),
    MEMBER(trtllm4j_backend_api, stream_synchronize),
    MEMBER(trtllm4j_backend_api, stream_destroy),
};

int32_t trtllm4j_abi_layout(const trtllm4j_layout_entry **out) {
    if (out != NULL) *out = entries;
    return (int32_t)(sizeof entries / sizeof entries[0]);
}
