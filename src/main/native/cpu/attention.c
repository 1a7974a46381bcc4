#include "attention.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "storage.h"

/*
 * Work is split into tiles: one sequence, one KV head, a few of the query heads that share it, and
 * a run of that sequence's new tokens. A tile streams its KV head's cache once in blocks of
 * KEY_BLOCK positions, for all of its query rows together, with an online softmax (as flash
 * attention does), so decode reads each cached key and value once per step.
 */
enum {
    MAX_TILE_ROWS = 64, /* query rows (tokens x heads) per tile */
    MAX_TILE_HEADS = 16,
    KEY_BLOCK = 64,
    ALIGN = 64
};

typedef struct tile {
    int32_t sequence, kv_head, first_head, heads, first_token, tokens;
} tile;

/* Per-thread scratch; every array is float32. */
typedef struct scratch {
    float *q;      /* [MAX_TILE_ROWS, head_size], RoPE applied */
    float *out;    /* [MAX_TILE_ROWS, head_size], unnormalised */
    float *logits; /* [KEY_BLOCK] */
    float *keys;   /* [KEY_BLOCK, head_size] */
    float *values; /* [KEY_BLOCK, head_size] */
    float *row_max, *row_sum; /* [MAX_TILE_ROWS] */
} scratch;

static int64_t aligned(int64_t bytes) {
    return (bytes + ALIGN - 1) / ALIGN * ALIGN;
}

static int tile_heads(const trtllm4j_params *p) {
    int group = p->num_heads / p->num_kv_heads;
    return group < MAX_TILE_HEADS ? group : MAX_TILE_HEADS;
}

static int64_t scratch_bytes(const trtllm4j_params *p) {
    int64_t d = p->head_size;
    return aligned(MAX_TILE_ROWS * d * 4) * 2 + aligned(KEY_BLOCK * 4) + aligned(KEY_BLOCK * d * 4) * 2 +
           aligned(MAX_TILE_ROWS * 4) * 2;
}

static int64_t max_tiles(const trtllm4j_params *p, const trtllm4j_attention_step *s) {
    int chunks = (p->num_heads / p->num_kv_heads + tile_heads(p) - 1) / tile_heads(p);
    return (int64_t)s->num_tokens * p->num_kv_heads * chunks;
}

int64_t cpu_attention_workspace(const trtllm4j_params *p, const trtllm4j_attention_step *s, int threads) {
    return aligned((int64_t)s->batch_size * 4) + aligned(max_tiles(p, s) * (int64_t)sizeof(tile)) +
           threads * scratch_bytes(p);
}

static scratch thread_scratch(char *base, const trtllm4j_params *p) {
    int64_t d = p->head_size;
    scratch sc;
    sc.q = (float *)base;
    base += aligned(MAX_TILE_ROWS * d * 4);
    sc.out = (float *)base;
    base += aligned(MAX_TILE_ROWS * d * 4);
    sc.logits = (float *)base;
    base += aligned(KEY_BLOCK * 4);
    sc.keys = (float *)base;
    base += aligned(KEY_BLOCK * d * 4);
    sc.values = (float *)base;
    base += aligned(KEY_BLOCK * d * 4);
    sc.row_max = (float *)base;
    base += aligned(MAX_TILE_ROWS * 4);
    sc.row_sum = (float *)base;
    return sc;
}

/* Rotates the first rotary_embedding_dim features of x for position pos, from the cos/sin table. */
static void apply_rope(float *x, const trtllm4j_params *p, const float *cos_sin, int32_t pos) {
    int half = p->rotary_embedding_dim / 2;
    const float *angle = cos_sin + (int64_t)pos * half * 2; /* [half][cos, sin] */
    if (p->position_embedding_type == POS_ROPE_GPTJ) {
        /* GPT-J: interleaved pairs (2i, 2i+1). */
        for (int i = 0; i < half; i++) {
            float c = angle[2 * i], s = angle[2 * i + 1];
            float x0 = x[2 * i], x1 = x[2 * i + 1];
            x[2 * i] = x0 * c - x1 * s;
            x[2 * i + 1] = x1 * c + x0 * s;
        }
    } else {
        /* GPT-NeoX (also long_rope and yarn): pairs (i, i + half). */
        for (int i = 0; i < half; i++) {
            float c = angle[2 * i], s = angle[2 * i + 1];
            float x0 = x[i], x1 = x[i + half];
            x[i] = x0 * c - x1 * s;
            x[i + half] = x1 * c + x0 * s;
        }
    }
}

/* Offsets, in elements, of the step's tensors. */
static int64_t qkv_offset(const trtllm4j_params *p, int64_t token, int column_head) {
    return (token * (p->num_heads + 2 * p->num_kv_heads) + column_head) * p->head_size;
}

static int64_t cache_offset(const trtllm4j_params *p, const trtllm4j_attention_step *s, int b, int kv, int g,
                            int64_t pos) {
    /* [batch, 2 (K, V), num_kv_heads, max_seq_len, head_size] */
    return ((((int64_t)b * 2 + kv) * p->num_kv_heads + g) * s->max_seq_len + pos) * p->head_size;
}

/* Phase 1: rotate each new token's K heads and write K and V into the cache at its position. */
static void write_cache(const trtllm4j_params *p, const trtllm4j_attention_step *s, const int32_t *token_start,
                        int threads) {
    const int32_t *past_lengths = s->past_lengths.data;
    const float *cos_sin = s->rotary_cos_sin.data;
    int rope = trtllm4j_is_rope(p->position_embedding_type);
    int d = p->head_size;
    int64_t items = (int64_t)s->num_tokens * p->num_kv_heads;
#pragma omp parallel for num_threads(threads) schedule(static) if (items * d > 65536)
    for (int64_t item = 0; item < items; item++) {
        int64_t token = item / p->num_kv_heads;
        int g = (int)(item % p->num_kv_heads);
        int b = 0;
        while (b + 1 < s->batch_size && token_start[b + 1] <= token) b++; /* batch is small */
        int32_t pos = past_lengths[b] + (int32_t)(token - token_start[b]);
        float row[256];
        load_row(row, s->qkv.data, qkv_offset(p, token, p->num_heads + g), d, p->type_id);
        if (rope) apply_rope(row, p, cos_sin, pos);
        store_row(s->kv_cache.data, cache_offset(p, s, b, 0, g, pos), row, d, p->type_id);
        load_row(row, s->qkv.data, qkv_offset(p, token, p->num_heads + p->num_kv_heads + g), d, p->type_id);
        store_row(s->kv_cache.data, cache_offset(p, s, b, 1, g, pos), row, d, p->type_id);
    }
}

static float dot(const float *restrict a, const float *restrict b, int n) {
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

/* Scaled, soft-capped, ALiBi-biased logit of one query row against one key. */
static inline float logit(const trtllm4j_params *p, float qk, float scale, float slope, int32_t key_pos,
                          int32_t query_pos) {
    float distance = (float)(key_pos - query_pos);
    if (p->position_embedding_type == POS_ALIBI_WITH_SCALE) {
        return (qk + slope * distance) * scale; /* (bmm1 + alibi) * scale */
    }
    float value = qk * scale;
    if (p->attn_logit_softcapping_scale > 0) {
        float cap = p->attn_logit_softcapping_scale;
        value = cap * tanhf(value / cap);
    }
    if (p->position_embedding_type == POS_ALIBI) {
        value += slope * distance; /* bmm1 * scale + alibi */
    }
    return value;
}

/* Whether a query at pos sees key_pos: causal, then the window of sinks plus the latest positions. */
static inline int visible(int32_t pos, int32_t key_pos, int32_t window, int32_t sinks) {
    return key_pos <= pos && (key_pos < sinks || key_pos > pos - (window - sinks));
}

/* Phase 2 for one tile: attention of its query rows over the cached keys and values. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
static void attend_tile(const trtllm4j_params *p, const trtllm4j_attention_step *s, const int32_t *token_start,
                        const tile *t, scratch *sc) {
    const int d = p->head_size;
    const int32_t past = ((const int32_t *)s->past_lengths.data)[t->sequence];
    const float *cos_sin = s->rotary_cos_sin.data;
    const float *slopes = s->alibi_slopes.data;
    const int rope = trtllm4j_is_rope(p->position_embedding_type);
    const int alibi = trtllm4j_is_alibi(p->position_embedding_type);
    const float scale = 1.0f / (p->q_scaling * sqrtf((float)d));
    const int rows = t->tokens * t->heads;
    const int32_t window = s->max_attention_window, sinks = s->sink_token_length;

    /* Query rows, token-major: row r is token r / heads, head first_head + r % heads. */
    for (int r = 0; r < rows; r++) {
        int64_t token = token_start[t->sequence] + t->first_token + r / t->heads;
        int head = t->first_head + r % t->heads;
        float *q = sc->q + (int64_t)r * d;
        load_row(q, s->qkv.data, qkv_offset(p, token, head), d, p->type_id);
        if (rope) apply_rope(q, p, cos_sin, past + t->first_token + r / t->heads);
        sc->row_max[r] = -INFINITY;
        sc->row_sum[r] = 0.0f;
        for (int i = 0; i < d; i++) sc->out[(int64_t)r * d + i] = 0.0f;
    }

    const int32_t first_pos = past + t->first_token, last_pos = first_pos + t->tokens - 1;
    /* Keys any row sees: the sinks [0, sinks) and the window (oldest start .. last_pos]. */
    int32_t window_start = first_pos - (window - sinks) + 1;
    if (window_start <= sinks) window_start = 0;
    const int32_t ranges[2][2] = {{0, window_start > 0 ? sinks : 0}, {window_start, last_pos + 1}};

    const int fp32 = p->type_id == TRTLLM4J_FLOAT32;
    for (int range = 0; range < 2; range++) {
        for (int32_t block = ranges[range][0]; block < ranges[range][1]; block += KEY_BLOCK) {
            int keys = ranges[range][1] - block < KEY_BLOCK ? ranges[range][1] - block : KEY_BLOCK;
            int64_t k_at = cache_offset(p, s, t->sequence, 0, t->kv_head, block);
            int64_t v_at = cache_offset(p, s, t->sequence, 1, t->kv_head, block);
            const float *k_block, *v_block; /* [keys, head_size] */
            if (fp32) {
                k_block = (const float *)s->kv_cache.data + k_at;
                v_block = (const float *)s->kv_cache.data + v_at;
            } else {
                load_row(sc->keys, s->kv_cache.data, k_at, keys * d, p->type_id);
                load_row(sc->values, s->kv_cache.data, v_at, keys * d, p->type_id);
                k_block = sc->keys;
                v_block = sc->values;
            }
            for (int r = 0; r < rows; r++) {
                const int32_t pos = first_pos + r / t->heads;
                const int head = t->first_head + r % t->heads;
                const float slope = alibi ? slopes[head] : 0.0f;
                const float *q = sc->q + (int64_t)r * d;
                float *out = sc->out + (int64_t)r * d;
                float *l = sc->logits;
                float block_max = -INFINITY;
                for (int j = 0; j < keys; j++) {
                    int32_t key_pos = block + j;
                    l[j] = visible(pos, key_pos, window, sinks)
                               ? logit(p, dot(q, k_block + (int64_t)j * d, d), scale, slope, key_pos, pos)
                               : -INFINITY;
                    block_max = l[j] > block_max ? l[j] : block_max;
                }
                if (block_max == -INFINITY) continue;
                /* Online softmax: rescale what was summed so far to the new running maximum. */
                float new_max = block_max > sc->row_max[r] ? block_max : sc->row_max[r];
                float correction = expf(sc->row_max[r] - new_max);
                float sum = 0.0f;
                for (int j = 0; j < keys; j++) {
                    l[j] = expf(l[j] - new_max);
                    sum += l[j];
                }
                sc->row_sum[r] = sc->row_sum[r] * correction + sum;
                sc->row_max[r] = new_max;
                for (int i = 0; i < d; i++) out[i] *= correction;
                for (int j = 0; j < keys; j++) {
                    const float w = l[j];
                    const float *v = v_block + (int64_t)j * d;
#pragma omp simd
                    for (int i = 0; i < d; i++) out[i] += w * v[i];
                }
            }
        }
    }

    for (int r = 0; r < rows; r++) {
        int64_t token = token_start[t->sequence] + t->first_token + r / t->heads;
        int head = t->first_head + r % t->heads;
        float *out = sc->out + (int64_t)r * d;
        float inverse = 1.0f / sc->row_sum[r];
        for (int i = 0; i < d; i++) out[i] *= inverse;
        store_row(s->context.data, (token * p->num_heads + head) * d, out, d, p->type_id);
    }
}

void cpu_attention_run(const trtllm4j_params *p, const trtllm4j_attention_step *s, int threads) {
    char *workspace = s->workspace.data;
    int32_t *token_start = (int32_t *)workspace;
    tile *tiles = (tile *)(workspace + aligned((int64_t)s->batch_size * 4));
    char *scratch_base = (char *)tiles + aligned(max_tiles(p, s) * (int64_t)sizeof(tile));

    const int32_t *input_lengths = s->input_lengths.data;
    int32_t start = 0;
    for (int b = 0; b < s->batch_size; b++) {
        token_start[b] = start;
        start += input_lengths[b];
    }

    write_cache(p, s, token_start, threads);

    const int heads_per_tile = tile_heads(p);
    const int tokens_per_tile = MAX_TILE_ROWS / heads_per_tile;
    const int group = p->num_heads / p->num_kv_heads;
    int64_t count = 0;
    for (int b = 0; b < s->batch_size; b++) {
        for (int g = 0; g < p->num_kv_heads; g++) {
            for (int h = 0; h < group; h += heads_per_tile) {
                for (int t0 = 0; t0 < input_lengths[b]; t0 += tokens_per_tile) {
                    tile *t = &tiles[count++];
                    t->sequence = b;
                    t->kv_head = g;
                    t->first_head = g * group + h;
                    t->heads = group - h < heads_per_tile ? group - h : heads_per_tile;
                    t->first_token = t0;
                    t->tokens = input_lengths[b] - t0 < tokens_per_tile ? input_lengths[b] - t0 : tokens_per_tile;
                }
            }
        }
    }

    int64_t per_thread = scratch_bytes(p);
#pragma omp parallel num_threads(threads) if (count > 1)
    {
        scratch sc = thread_scratch(scratch_base + omp_get_thread_num() * per_thread, p);
        /* Later tiles of a sequence see more keys, so hand them out first. */
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = count - 1; i >= 0; i--) {
            attend_tile(p, s, token_start, &tiles[i], &sc);
        }
    }
}
