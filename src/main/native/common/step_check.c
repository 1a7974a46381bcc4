#include "step_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

static const char *location_name(int32_t location) {
    return location == TRTLLM4J_DEVICE ? "device" : location == TRTLLM4J_HOST ? "host" : "unknown";
}

/* Bytes per element of a step buffer's data_type: also the alignment its data needs. */
static int64_t element_bytes(int32_t data_type) {
    return data_type == TRTLLM4J_INT32 ? 4 : trtllm4j_data_type_size(data_type);
}

/*
 * Checks a tensor of the given shape against its buffer. The size is multiplied out with overflow
 * checks: a product that wrapped could match a size a caller made up and let a kernel run past the
 * buffer. Only the address is looked at, never the data, so device pointers are checked alike.
 */
static int32_t check_buffer(const char *name, const trtllm4j_buffer *buffer, int32_t location, int32_t data_type,
                            const int64_t *shape, int rank) {
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
    int64_t element = element_bytes(data_type);
    if ((uintptr_t)buffer->data % (uintptr_t)element != 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: data at %p is not aligned to its %lld-byte elements",
                             name, buffer->data, (long long)element);
    }
    if (buffer->size_bytes < 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: size_bytes = %lld: a size cannot be negative", name,
                             (long long)buffer->size_bytes);
    }
    int64_t expected = element;
    for (int i = 0; i < rank; i++) {
        if (__builtin_mul_overflow(expected, shape[i], &expected)) {
            char dims[160];
            int used = 0;
            for (int k = 0; k < rank && used < (int)sizeof dims; k++) {
                used += snprintf(dims + used, sizeof dims - used, "%lld x ", (long long)shape[k]);
            }
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "%s: [%s%lld bytes] does not fit in int64: the step's sizes are out of range",
                                 name, dims, (long long)element);
        }
    }
    if (buffer->size_bytes != expected) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: buffer has %lld bytes, expected %lld", name,
                             (long long)buffer->size_bytes, (long long)expected);
    }
    return TRTLLM4J_OK;
}

/* A shape as check_buffer takes it: the dimensions, then their count. */
#define SHAPE(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* The workspace holds whatever the backend lays out in it: it needs the alignment of any type. */
static int32_t check_workspace(const trtllm4j_buffer *workspace, int32_t location, int64_t needed) {
    if (workspace->data == NULL) {
        if (needed > 0) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: buffer is NULL, this step needs %lld bytes",
                                 (long long)needed);
        }
        return TRTLLM4J_OK;
    }
    if (workspace->location != location) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: buffer is in %s memory, this backend needs %s memory",
                             location_name(workspace->location), location_name(location));
    }
    if ((uintptr_t)workspace->data % TRTLLM4J_WORKSPACE_ALIGNMENT != 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: data at %p is not aligned to %d bytes",
                             workspace->data, TRTLLM4J_WORKSPACE_ALIGNMENT);
    }
    if (workspace->size_bytes < 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: size_bytes = %lld: a size cannot be negative",
                             (long long)workspace->size_bytes);
    }
    if (workspace->size_bytes < needed) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: %lld bytes, this step needs %lld",
                             (long long)workspace->size_bytes, (long long)needed);
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
    CHECK(check_buffer("input_lengths", &s->input_lengths, TRTLLM4J_HOST, TRTLLM4J_INT32, SHAPE(s->batch_size)));
    CHECK(check_buffer("past_lengths", &s->past_lengths, TRTLLM4J_HOST, TRTLLM4J_INT32, SHAPE(s->batch_size)));
    CHECK(check_buffer("host_request_types", &s->host_request_types, TRTLLM4J_HOST, TRTLLM4J_INT32,
                       SHAPE(s->batch_size)));

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

    /* In int64: num_heads + 2 * num_kv_heads alone can pass int32's range. */
    int64_t qkv_heads = (int64_t)p->num_heads + 2 * (int64_t)p->num_kv_heads;
    CHECK(check_buffer("qkv", &s->qkv, location, p->type_id, SHAPE(s->num_tokens, qkv_heads, p->head_size)));
    CHECK(check_buffer("kv_cache", &s->kv_cache, location, p->type_id,
                       SHAPE(s->batch_size, 2, p->num_kv_heads, s->max_seq_len, p->head_size)));
    CHECK(check_buffer("context", &s->context, location, p->type_id, SHAPE(s->num_tokens, p->num_heads, p->head_size)));
    if (trtllm4j_is_rope(p->position_embedding_type)) {
        int32_t half = p->rotary_embedding_dim / 2;
        if (s->rotary_positions < longest) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "rotary_cos_sin: %d positions, but this step reaches position %d",
                                 s->rotary_positions, longest - 1);
        }
        CHECK(check_buffer("rotary_inv_freq", &s->rotary_inv_freq, location, TRTLLM4J_FLOAT32, SHAPE(half)));
        CHECK(check_buffer("rotary_cos_sin", &s->rotary_cos_sin, location, TRTLLM4J_FLOAT32,
                           SHAPE(s->rotary_positions, half, 2)));
        if (p->position_embedding_type == POS_LONG_ROPE) {
            /* The long factors' tables, which the backend picks over the short ones past
               rotary_embedding_original_max_positions, cover the same positions. */
            CHECK(check_buffer("long_rope_rotary_inv_freq", &s->long_rope_rotary_inv_freq, location, TRTLLM4J_FLOAT32,
                               SHAPE(half)));
            CHECK(check_buffer("long_rope_rotary_cos_sin", &s->long_rope_rotary_cos_sin, location, TRTLLM4J_FLOAT32,
                               SHAPE(s->rotary_positions, half, 2)));
        }
    }
    if (trtllm4j_is_alibi(p->position_embedding_type)) {
        CHECK(check_buffer("alibi_slopes", &s->alibi_slopes, location, TRTLLM4J_FLOAT32, SHAPE(p->num_heads)));
    }
    return check_workspace(&s->workspace, location, workspace_bytes);
}
