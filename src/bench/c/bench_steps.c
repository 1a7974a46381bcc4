#include "bench_steps.h"

#include <stdlib.h>
#include <string.h>

#include "plugin_params.h"

enum { FIELD_COUNT_MAX = 64 };

/* Every scalar field of the plugin (from the one X-macro table), zero unless named here. */
static void trivial_params(trtllm4j_params *p) {
    memset(p, 0, sizeof *p);
    p->num_heads = 1;
    p->num_kv_heads = 1;
    p->num_kv_heads_origin = -1;
    p->head_size = 32;
    p->unidirectional = 1;
    p->q_scaling = 1.0f;
    p->position_embedding_type = POS_LEARNED_ABSOLUTE;
    p->tp_size = 1;
    p->remove_input_padding = 1;
    p->mask_type = MASK_CAUSAL;
    p->tokens_per_block = 64;
    p->type_id = TRTLLM4J_FLOAT32;
    p->max_context_length = 1;
    p->use_cache = 1;
    p->cp_size = 1;
}

static trtllm4j_buffer host_buffer(void *data, int64_t bytes, int32_t data_type) {
    trtllm4j_buffer buffer = {data, bytes, TRTLLM4J_HOST, data_type};
    return buffer;
}

int32_t trtllm4j_bench_trivial(const trtllm4j_backend_api *api, trtllm4j_plugin **plugin,
                               trtllm4j_attention_step **step) {
    static trtllm4j_params params;
    static trtllm4j_plugin_field fields[FIELD_COUNT_MAX];
    static const int32_t cp_group[1] = {0};
    trivial_params(&params);
    int32_t count = 0;
#define TRTLLM4J_BENCH_FIELD(name, wire, ctype) \
    fields[count++] = (trtllm4j_plugin_field){#name, &params.name, TRTLLM4J_FIELD_##wire, 1};
    TRTLLM4J_SCALAR_FIELDS(TRTLLM4J_BENCH_FIELD)
#undef TRTLLM4J_BENCH_FIELD
    fields[count++] = (trtllm4j_plugin_field){"cp_group", cp_group, TRTLLM4J_FIELD_INT32, 1};
    trtllm4j_plugin_field_collection collection = {count, fields};
    int32_t status = api->create(&collection, plugin);
    if (status != TRTLLM4J_OK) return status;

    /* One token: qkv [1, 3 * 32], cache [1, 2, 1, 1, 32], context [1, 32]. */
    static int32_t input_lengths[1] = {1}, past_lengths[1] = {0}, request_types[1] = {TRTLLM4J_REQUEST_CONTEXT};
    static float qkv[96], cache[64], context[32];
    static trtllm4j_attention_step s;
    for (int i = 0; i < 96; i++) qkv[i] = (float)(i % 7) / 7.0f;
    s.batch_size = 1;
    s.num_tokens = 1;
    s.max_seq_len = 1;
    s.max_attention_window = 1;
    s.input_lengths = host_buffer(input_lengths, 4, TRTLLM4J_INT32);
    s.past_lengths = host_buffer(past_lengths, 4, TRTLLM4J_INT32);
    s.host_request_types = host_buffer(request_types, 4, TRTLLM4J_INT32);
    s.qkv = host_buffer(qkv, sizeof qkv, TRTLLM4J_FLOAT32);
    s.kv_cache = host_buffer(cache, sizeof cache, TRTLLM4J_FLOAT32);
    s.context = host_buffer(context, sizeof context, TRTLLM4J_FLOAT32);
    int64_t workspace_bytes = 0;
    status = api->workspace_size(*plugin, &s, &workspace_bytes);
    if (status != TRTLLM4J_OK) return status;
    s.workspace = host_buffer(aligned_alloc(64, (size_t)(workspace_bytes + 63) / 64 * 64), workspace_bytes,
                              TRTLLM4J_INT32);
    *step = &s;
    return TRTLLM4J_OK;
}

int32_t trtllm4j_bench_enqueue_loop(const trtllm4j_backend_api *api, trtllm4j_plugin *plugin,
                                    const trtllm4j_attention_step *step, int64_t calls) {
    int32_t first_failure = TRTLLM4J_OK;
    for (int64_t i = 0; i < calls; i++) {
        int32_t status = api->enqueue(plugin, step);
        if (status != TRTLLM4J_OK && first_failure == TRTLLM4J_OK) first_failure = status;
    }
    return first_failure;
}

void trtllm4j_bench_copy(void *dst, const void *src, int64_t bytes, int threads) {
    int64_t part = (bytes / threads + 63) / 64 * 64;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int t = 0; t < threads; t++) {
        int64_t start = t * part;
        int64_t end = start + part < bytes ? start + part : bytes;
        if (start < end) memcpy((char *)dst + start, (const char *)src + start, (size_t)(end - start));
    }
}

typedef float v8 __attribute__((vector_size(32), aligned(4)));

float trtllm4j_bench_read(const void *src, int64_t bytes, int threads) {
    int64_t vectors = bytes / sizeof(v8);
    float total = 0.0f;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        /* Four independent sums, so that the adds keep up with the loads. */
        v8 sum[4] = {{0}, {0}, {0}, {0}};
        const v8 *data = src;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < vectors; i += 4) {
            for (int k = 0; k < 4; k++) sum[k] += data[i + k];
        }
        v8 all = sum[0] + sum[1] + sum[2] + sum[3];
        for (int k = 0; k < 8; k++) total += all[k];
    }
    return total;
}
