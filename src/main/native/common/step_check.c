#include "step_check.h"

#include <stddef.h>

#include "status.h"

static const char *location_name(int32_t location) {
    return location == TRTLLM4J_DEVICE ? "device" : location == TRTLLM4J_HOST ? "host" : "unknown";
}

static int32_t check_buffer(const char *name, const trtllm4j_buffer *buffer, int32_t location, int32_t data_type,
                            int64_t expected_bytes) {
    if (buffer->data == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: buffer is NULL", name);
    }
    if (buffer->location != location) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: buffer is in %s memory, this backend needs %s memory",
                             name, location_name(buffer->location), location_name(location));
    }
    if (buffer->data_type != data_type) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: data_type is %d, expected %d", name, buffer->data_type,
                             data_type);
    }
    if (buffer->size_bytes != expected_bytes) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: buffer has %lld bytes, expected %lld", name,
                             (long long)buffer->size_bytes, (long long)expected_bytes);
    }
    return TRTLLM4J_OK;
}

#define CHECK(call)                                   \
    do {                                              \
        int32_t status_ = (call);                     \
        if (status_ != TRTLLM4J_OK) return status_;   \
    } while (0)

int32_t trtllm4j_check_step(const trtllm4j_params *p, const trtllm4j_attention_step *s, int32_t location,
                            int64_t workspace_bytes) {
    if (s == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "the attention step is NULL");
    }
    if (s->batch_size < 1 || s->num_tokens < 1 || s->max_seq_len < 1) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "batch_size = %d, num_tokens = %d, max_seq_len = %d: each must be at least 1",
                             s->batch_size, s->num_tokens, s->max_seq_len);
    }
    if (s->max_attention_window < 1 || s->sink_token_length < 0 ||
        (s->sink_token_length > 0 && s->sink_token_length >= s->max_attention_window)) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "max_attention_window = %d, sink_token_length = %d: need a window of at least 1 "
                             "that holds more than its sink tokens",
                             s->max_attention_window, s->sink_token_length);
    }
    int64_t batch_ints = (int64_t)s->batch_size * 4;
    CHECK(check_buffer("input_lengths", &s->input_lengths, TRTLLM4J_HOST, TRTLLM4J_INT32, batch_ints));
    CHECK(check_buffer("past_lengths", &s->past_lengths, TRTLLM4J_HOST, TRTLLM4J_INT32, batch_ints));
    CHECK(check_buffer("host_request_types", &s->host_request_types, TRTLLM4J_HOST, TRTLLM4J_INT32, batch_ints));

    const int32_t *input_lengths = s->input_lengths.data;
    const int32_t *past_lengths = s->past_lengths.data;
    const int32_t *request_types = s->host_request_types.data;
    int64_t tokens = 0;
    int32_t longest = 0;
    for (int32_t b = 0; b < s->batch_size; b++) {
        int32_t type = request_types[b];
        if (type != TRTLLM4J_REQUEST_CONTEXT && type != TRTLLM4J_REQUEST_GENERATION) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "host_request_types[%d] = %d: must be 0 (context) or 1 (generation)", b, type);
        }
        if (input_lengths[b] < 1 || past_lengths[b] < 0) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "sequence %d: input_lengths = %d, past_lengths = %d: need at least one new token "
                                 "and no negative past",
                                 b, input_lengths[b], past_lengths[b]);
        }
        if (type == TRTLLM4J_REQUEST_GENERATION && input_lengths[b] != 1) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "sequence %d: a generation request has exactly 1 new token, got input_lengths = %d",
                                 b, input_lengths[b]);
        }
        int64_t end = (int64_t)past_lengths[b] + input_lengths[b];
        if (end > s->max_seq_len) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "sequence %d: past_lengths %d + input_lengths %d exceeds max_seq_len %d of kv_cache",
                                 b, past_lengths[b], input_lengths[b], s->max_seq_len);
        }
        if (end > longest) longest = (int32_t)end;
        tokens += input_lengths[b];
    }
    if (tokens != s->num_tokens) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "num_tokens = %d but input_lengths add up to %lld",
                             s->num_tokens, (long long)tokens);
    }

    int64_t element = trtllm4j_data_type_size(p->type_id);
    int64_t head = p->head_size;
    CHECK(check_buffer("qkv", &s->qkv, location, p->type_id,
                       s->num_tokens * (int64_t)(p->num_heads + 2 * p->num_kv_heads) * head * element));
    CHECK(check_buffer("kv_cache", &s->kv_cache, location, p->type_id,
                       (int64_t)s->batch_size * 2 * p->num_kv_heads * s->max_seq_len * head * element));
    CHECK(check_buffer("context", &s->context, location, p->type_id,
                       s->num_tokens * (int64_t)p->num_heads * head * element));
    if (trtllm4j_is_rope(p->position_embedding_type)) {
        int64_t half = p->rotary_embedding_dim / 2;
        if (s->rotary_positions < longest) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "rotary_cos_sin: %d positions, but this step reaches position %d",
                                 s->rotary_positions, longest - 1);
        }
        CHECK(check_buffer("rotary_inv_freq", &s->rotary_inv_freq, location, TRTLLM4J_FLOAT32, half * 4));
        CHECK(check_buffer("rotary_cos_sin", &s->rotary_cos_sin, location, TRTLLM4J_FLOAT32,
                           (int64_t)s->rotary_positions * half * 2 * 4));
        if (p->position_embedding_type == POS_LONG_ROPE) {
            /* The long factors' tables, which the backend picks over the short ones past
               rotary_embedding_original_max_positions, cover the same positions. */
            CHECK(check_buffer("long_rope_rotary_inv_freq", &s->long_rope_rotary_inv_freq, location, TRTLLM4J_FLOAT32,
                               half * 4));
            CHECK(check_buffer("long_rope_rotary_cos_sin", &s->long_rope_rotary_cos_sin, location, TRTLLM4J_FLOAT32,
                               (int64_t)s->rotary_positions * half * 2 * 4));
        }
    }
    if (trtllm4j_is_alibi(p->position_embedding_type)) {
        CHECK(check_buffer("alibi_slopes", &s->alibi_slopes, location, TRTLLM4J_FLOAT32, (int64_t)p->num_heads * 4));
    }
    if (workspace_bytes > 0 && (s->workspace.data == NULL || s->workspace.size_bytes < workspace_bytes)) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: %lld bytes, this step needs %lld",
                             (long long)(s->workspace.data == NULL ? 0 : s->workspace.size_bytes),
                             (long long)workspace_bytes);
    }
    return TRTLLM4J_OK;
}
