/*
 * ISO C mode (-std=c11) keeps GCC from fusing a * b + c into one fused multiply-add; the kernels here
 * are built of such sums, and the fused form is both faster and (one rounding instead of two) closer.
 */
#pragma GCC optimize("fp-contract=fast")

#include "attention.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>

#include "rotary.h"
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
    float *logits; /* [MAX_TILE_ROWS, KEY_BLOCK] */
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
    return aligned(MAX_TILE_ROWS * d * 4) * 2 + aligned(MAX_TILE_ROWS * KEY_BLOCK * 4) + aligned(KEY_BLOCK * d * 4) * 2 +
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
    base += aligned(MAX_TILE_ROWS * KEY_BLOCK * 4);
    sc.keys = (float *)base;
    base += aligned(KEY_BLOCK * d * 4);
    sc.values = (float *)base;
    base += aligned(KEY_BLOCK * d * 4);
    sc.row_max = (float *)base;
    base += aligned(MAX_TILE_ROWS * 4);
    sc.row_sum = (float *)base;
    return sc;
}

/* The cos/sin tables each request type reads this step: long_rope's choice is made per type. */
typedef struct rope_plan {
    const float *cos_sin[2]; /* by enum trtllm4j_request_type */
} rope_plan;

static rope_plan plan_rope(const trtllm4j_params *p, const trtllm4j_attention_step *s) {
    rope_plan plan = {{s->rotary_cos_sin.data, s->rotary_cos_sin.data}};
    for (int32_t type = TRTLLM4J_REQUEST_CONTEXT; type <= TRTLLM4J_REQUEST_GENERATION; type++) {
        if (trtllm4j_long_rope_uses_long(p, s->batch_size, s->host_request_types.data, s->past_lengths.data,
                                         s->input_lengths.data, type)) {
            plan.cos_sin[type] = s->long_rope_rotary_cos_sin.data;
        }
    }
    return plan;
}

/*
 * The [rotary_dim / 2][cos, sin] angles of sequence b at position pos: a row of its table, or, when
 * dynamic NTK grows the sequence's base, computed into row.
 */
static const float *rope_angles(const trtllm4j_params *p, const trtllm4j_attention_step *s, const rope_plan *plan,
                                int b, int32_t pos, float *row) {
    const int32_t type = ((const int32_t *)s->host_request_types.data)[b];
    const int32_t length = trtllm4j_rotary_dynamic_length(type, ((const int32_t *)s->past_lengths.data)[b],
                                                          ((const int32_t *)s->input_lengths.data)[b]);
    const int half = p->rotary_embedding_dim / 2;
    if (!trtllm4j_rotary_grows_base(p, length)) return plan->cos_sin[type] + (int64_t)pos * half * 2;
    for (int i = 0; i < half; i++) trtllm4j_rotary_cos_sin(p, NULL, length, pos, i, &row[2 * i], &row[2 * i + 1]);
    return row;
}

/* Rotates the first rotary_embedding_dim features of x by angles ([rotary_dim / 2][cos, sin]). */
static void apply_rope(float *x, const trtllm4j_params *p, const float *angle) {
    int half = p->rotary_embedding_dim / 2;
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

/* Phase 1 for one (token, KV head): rotate its K and write K and V into the cache at its position. */
static void write_cache_item(const trtllm4j_params *p, const trtllm4j_attention_step *s, const rope_plan *plan,
                             const int32_t *token_start, int64_t item) {
    const int32_t *past_lengths = s->past_lengths.data;
    int d = p->head_size;
    int64_t token = item / p->num_kv_heads;
    int g = (int)(item % p->num_kv_heads);
    int b = 0;
    while (b + 1 < s->batch_size && token_start[b + 1] <= token) b++; /* batch is small */
    int32_t pos = past_lengths[b] + (int32_t)(token - token_start[b]);
    float row[256], angles[256];
    load_row(row, s->qkv.data, qkv_offset(p, token, p->num_heads + g), d, p->type_id);
    if (trtllm4j_is_rope(p->position_embedding_type)) apply_rope(row, p, rope_angles(p, s, plan, b, pos, angles));
    store_row(s->kv_cache.data, cache_offset(p, s, b, 0, g, pos), row, d, p->type_id);
    load_row(row, s->qkv.data, qkv_offset(p, token, p->num_heads + p->num_kv_heads + g), d, p->type_id);
    store_row(s->kv_cache.data, cache_offset(p, s, b, 1, g, pos), row, d, p->type_id);
}

/* Phase 1: every new token's K and V into the cache. */
static void write_cache(const trtllm4j_params *p, const trtllm4j_attention_step *s, const rope_plan *plan,
                        const int32_t *token_start, int threads) {
    int64_t items = (int64_t)s->num_tokens * p->num_kv_heads;
    if (items * p->head_size <= 65536) {
        /* Too little work to be worth waking other threads for: even an OpenMP region that runs on one
           thread costs about a microsecond, more than a decode step's cache writes. */
        for (int64_t item = 0; item < items; item++) write_cache_item(p, s, plan, token_start, item);
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t item = 0; item < items; item++) write_cache_item(p, s, plan, token_start, item);
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

/*
 * The kernels below work on 8 floats at a time (256 bits): every head size the plugin supports is a
 * multiple of 8, AVX2 has 256-bit registers, and Zen 4 runs 512-bit arithmetic as two 256-bit halves
 * anyway, so the wider vectors would only add tails.
 */
typedef float v8 __attribute__((vector_size(32)));
typedef float v8_unaligned __attribute__((vector_size(32), aligned(4)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline v8 load8(const float *p) {
    return *(const v8_unaligned *)p;
}

static inline void store8(float *p, v8 v) {
    *(v8_unaligned *)p = v;
}

/* x in every lane; a shuffle, because GCC builds the eight-element initializer lane by lane. */
static inline v8 splat8(float x) {
    const v8i first = {0, 0, 0, 0, 0, 0, 0, 0};
    return __builtin_shuffle((v8){x}, first);
}

static inline v8 max8(v8 a, v8 b) {
    v8i a_larger = a > b;
    return (v8)(((v8i)a & a_larger) | ((v8i)b & ~a_larger));
}

/* exp(x) for x <= 0, within 2 ulp; exactly 0 below -87 (and for -inf, a masked logit). */
static inline v8 exp8(v8 x) {
    const v8 lowest = splat8(-87.0f);
    v8i underflow = x < lowest;
    x = max8(x, lowest);
    /* x = n ln 2 + r with |r| <= ln 2 / 2; adding 1.5 * 2^23 rounds n to an integer. */
    const v8 round = splat8(12582912.0f);
    v8 n = (x * splat8(1.44269504f) + round) - round;
    v8 r = x - n * splat8(0.693145752f);
    r = r - n * splat8(1.42860677e-6f);
    /* Taylor series of exp(r) to degree 6: its remainder is below 2^-24 on |r| <= ln 2 / 2. */
    v8 e = splat8(1.0f / 720);
    e = e * r + splat8(1.0f / 120);
    e = e * r + splat8(1.0f / 24);
    e = e * r + splat8(1.0f / 6);
    e = e * r + splat8(0.5f);
    e = e * r + splat8(1.0f);
    e = e * r + splat8(1.0f);
    v8i two_to_n = (__builtin_convertvector(n, v8i) + 127) << 23;
    return (v8)((v8i)(e * (v8)two_to_n) & ~underflow);
}

/* out[0..3] = the sums of the 8 lanes of a, b, c and d. */
static inline void sum4(v8 a, v8 b, v8 c, v8 d, float *out) {
    const v8i low = {0, 1, 2, 3, 8, 9, 10, 11}, high = {4, 5, 6, 7, 12, 13, 14, 15};
    v8 ab = __builtin_shuffle(a, b, low) + __builtin_shuffle(a, b, high); /* 4 partial sums of a, then of b */
    v8 cd = __builtin_shuffle(c, d, low) + __builtin_shuffle(c, d, high);
    const v8i even = {0, 1, 4, 5, 8, 9, 12, 13}, odd = {2, 3, 6, 7, 10, 11, 14, 15};
    v8 abcd = __builtin_shuffle(ab, cd, even) + __builtin_shuffle(ab, cd, odd); /* 2 each of a, b, c, d */
    out[0] = abcd[0] + abcd[1];
    out[1] = abcd[2] + abcd[3];
    out[2] = abcd[4] + abcd[5];
    out[3] = abcd[6] + abcd[7];
}

/*
 * s[r][c] = q[r] . k[c] for rows r < NR and keys c < NK (at most 4 each): 16 accumulators stay in
 * registers while the head's features stream past. Inlined with constant NR and NK at each call.
 */
static inline __attribute__((always_inline)) void qk_tile(const float *q, int d, const float *k, float *s,
                                                          int nr, int nk) {
    v8 acc[4][4];
    for (int r = 0; r < nr; r++) {
        for (int c = 0; c < 4; c++) acc[r][c] = splat8(0.0f);
    }
    for (int i = 0; i < d; i += 8) {
        v8 key[4];
        for (int c = 0; c < nk; c++) key[c] = load8(k + (int64_t)c * d + i);
        for (int r = 0; r < nr; r++) {
            v8 query = load8(q + (int64_t)r * d + i);
            for (int c = 0; c < nk; c++) acc[r][c] += query * key[c];
        }
    }
    for (int r = 0; r < nr; r++) {
        float sums[4];
        sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], sums);
        for (int c = 0; c < nk; c++) s[r * KEY_BLOCK + c] = sums[c];
    }
}

/*
 * out[r][0 .. 8 NV) = out[r] * correction[r] + sum over the block's keys j of p[r][j] v[j], for rows
 * r < NR (at most 4) and NV (at most 4) vectors of features: 16 accumulators in registers.
 */
static inline __attribute__((always_inline)) void pv_tile(const float *p, const float *v, int d, int keys,
                                                          const float *correction, float *out, int nr, int nv) {
    v8 acc[4][4];
    for (int r = 0; r < nr; r++) {
        for (int c = 0; c < nv; c++) acc[r][c] = correction[r] * load8(out + (int64_t)r * d + 8 * c);
    }
    for (int j = 0; j < keys; j++) {
        v8 value[4];
        for (int c = 0; c < nv; c++) value[c] = load8(v + (int64_t)j * d + 8 * c);
        for (int r = 0; r < nr; r++) {
            const float weight = p[r * KEY_BLOCK + j];
            for (int c = 0; c < nv; c++) acc[r][c] += weight * value[c];
        }
    }
    for (int r = 0; r < nr; r++) {
        for (int c = 0; c < nv; c++) store8(out + (int64_t)r * d + 8 * c, acc[r][c]);
    }
}

#define TILE_CASE(call, NR, NC) \
    case (NR) * 8 + (NC):       \
        call(NR, NC);           \
        break;
#define TILE_CASES(call)                                                                          \
    TILE_CASE(call, 1, 1) TILE_CASE(call, 1, 2) TILE_CASE(call, 1, 3) TILE_CASE(call, 1, 4)        \
    TILE_CASE(call, 2, 1) TILE_CASE(call, 2, 2) TILE_CASE(call, 2, 3) TILE_CASE(call, 2, 4)        \
    TILE_CASE(call, 3, 1) TILE_CASE(call, 3, 2) TILE_CASE(call, 3, 3) TILE_CASE(call, 3, 4)        \
    TILE_CASE(call, 4, 1) TILE_CASE(call, 4, 2) TILE_CASE(call, 4, 3) TILE_CASE(call, 4, 4)

/* Whether every row of the tile sees every key of [first, last]: then the block needs no mask. */
static int block_fully_visible(int32_t first, int32_t last, int32_t first_pos, int32_t last_pos, int32_t window,
                               int32_t sinks) {
    int causal = last <= first_pos;
    int in_window = last < sinks || first > last_pos - (window - sinks);
    return causal && in_window;
}

/* Phase 2 for one tile: attention of its query rows over the cached keys and values. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
static void attend_tile(const trtllm4j_params *p, const trtllm4j_attention_step *s, const rope_plan *plan,
                        const int32_t *token_start, const tile *t, scratch *sc) {
    const int d = p->head_size;
    const int32_t past = ((const int32_t *)s->past_lengths.data)[t->sequence];
    const float *slopes = s->alibi_slopes.data;
    const int rope = trtllm4j_is_rope(p->position_embedding_type);
    const int alibi = trtllm4j_is_alibi(p->position_embedding_type);
    /* Plain logits are q . k * scale: the scale is folded into q. Soft-capping and ALiBi need q . k. */
    const int plain = !alibi && p->attn_logit_softcapping_scale <= 0;
    const float scale = 1.0f / (p->q_scaling * sqrtf((float)d));
    const int rows = t->tokens * t->heads;
    const int decode = t->tokens == 1;
    const int32_t window = s->max_attention_window, sinks = s->sink_token_length;

    /* Query rows, token-major: row r is token r / heads, head first_head + r % heads. */
    for (int r = 0; r < rows; r++) {
        int64_t token = token_start[t->sequence] + t->first_token + r / t->heads;
        int head = t->first_head + r % t->heads;
        float *q = sc->q + (int64_t)r * d;
        load_row(q, s->qkv.data, qkv_offset(p, token, head), d, p->type_id);
        if (rope) {
            float angles[256];
            apply_rope(q, p, rope_angles(p, s, plan, t->sequence, past + t->first_token + r / t->heads, angles));
        }
        if (plain) {
            for (int i = 0; i < d; i++) q[i] *= scale;
        }
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
    const int element = trtllm4j_data_type_size(p->type_id);
    const int64_t row_bytes = (int64_t)d * element;
    float *logits = sc->logits; /* [rows, KEY_BLOCK]: logits, then softmax weights */
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

            /* The next block's keys and values, fetched while this one is computed: decode reads the
               cache once and waits on memory otherwise (the hardware prefetchers alone fell well short
               of the read bandwidth). */
            int32_t next = block + KEY_BLOCK < ranges[range][1] ? block + KEY_BLOCK
                           : range == 0 && ranges[1][0] < ranges[1][1] ? ranges[1][0]
                                                                       : -1;
            int next_keys = 0;
            const char *next_k = NULL, *next_v = NULL;
            if (next >= 0) {
                int32_t next_end = next >= ranges[1][0] ? ranges[1][1] : ranges[0][1];
                next_keys = next_end - next < KEY_BLOCK ? next_end - next : KEY_BLOCK;
                next_k = (const char *)s->kv_cache.data + cache_offset(p, s, t->sequence, 0, t->kv_head, next) * element;
                next_v = (const char *)s->kv_cache.data + cache_offset(p, s, t->sequence, 1, t->kv_head, next) * element;
            }

            /* logits = Q K^T. A decode tile (one token) streams the block's keys once, in order, each
               against all of its rows: with so few rows, a cache line feeds few multiply-adds, and the
               access pattern, not arithmetic, sets the pace. Otherwise, 4 x 4 tiles. */
            if (decode) {
                for (int j = 0; j < keys; j++) {
                    const float *k = k_block + (int64_t)j * d;
                    /* While the keys are used, the values behind them are fetched for the P V pass, into
                       L2 (a block of keys and one of values would overflow L1): a decode step reads the
                       cache once, and these loops are too busy to keep enough misses in flight alone. */
                    for (int64_t line = 0; line < row_bytes; line += 64) {
                        __builtin_prefetch((const char *)v_block + j * row_bytes + line, 0, 2);
                    }
                    for (int r0 = 0; r0 < rows; r0 += 4) {
                        const int nr = rows - r0 < 4 ? rows - r0 : 4;
                        const float *q = sc->q + (int64_t)r0 * d;
                        v8 acc[4] = {splat8(0.0f), splat8(0.0f), splat8(0.0f), splat8(0.0f)};
                        for (int i = 0; i < d; i += 8) {
                            const v8 key = load8(k + i);
                            for (int r = 0; r < nr; r++) acc[r] += load8(q + (int64_t)r * d + i) * key;
                        }
                        float sums[4];
                        sum4(acc[0], acc[1], acc[2], acc[3], sums);
                        for (int r = 0; r < nr; r++) logits[(r0 + r) * KEY_BLOCK + j] = sums[r];
                    }
                }
            } else {
                for (int r0 = 0; r0 < rows; r0 += 4) {
                    int nr = rows - r0 < 4 ? rows - r0 : 4;
                    for (int j0 = 0; j0 < keys; j0 += 4) {
                        int nk = keys - j0 < 4 ? keys - j0 : 4;
                        if (r0 == 0 && j0 < next_keys) {
                            int64_t at = (int64_t)j0 * row_bytes;
                            int64_t bytes = (int64_t)(next_keys - j0 < 4 ? next_keys - j0 : 4) * row_bytes;
                            for (int64_t line = 0; line < bytes; line += 64) {
                                __builtin_prefetch(next_k + at + line);
                                __builtin_prefetch(next_v + at + line);
                            }
                        }
                        const float *q = sc->q + (int64_t)r0 * d, *k = k_block + (int64_t)j0 * d;
                        float *l = logits + r0 * KEY_BLOCK + j0;
#define QK(NR, NK) qk_tile(q, d, k, l, NR, NK)
                        switch (nr * 8 + nk) { TILE_CASES(QK) }
#undef QK
                    }
                }
            }

            /* Mask, scale and bias the logits where this block needs it. */
            int masked = !block_fully_visible(block, block + keys - 1, first_pos, last_pos, window, sinks);
            if (masked || !plain) {
                for (int r = 0; r < rows; r++) {
                    const int32_t pos = first_pos + r / t->heads;
                    const float slope = alibi ? slopes[t->first_head + r % t->heads] : 0.0f;
                    float *l = logits + r * KEY_BLOCK;
                    for (int j = 0; j < keys; j++) {
                        if (!visible(pos, block + j, window, sinks)) {
                            l[j] = -INFINITY;
                        } else if (!plain) {
                            l[j] = logit(p, l[j], scale, slope, block + j, pos);
                        }
                    }
                }
            }

            /* Online softmax: each row's weights against its new running maximum, and the factor that
               rescales what was summed so far. */
            float correction[MAX_TILE_ROWS];
            const int vectors = (keys + 7) / 8;
            for (int r = 0; r < rows; r++) {
                float *l = logits + r * KEY_BLOCK;
                for (int j = keys; j < vectors * 8; j++) l[j] = -INFINITY;
                v8 block_max = splat8(-INFINITY);
                for (int j = 0; j < vectors; j++) block_max = max8(block_max, load8(l + 8 * j));
                float new_max = sc->row_max[r];
                for (int i = 0; i < 8; i++) new_max = block_max[i] > new_max ? block_max[i] : new_max;
                if (new_max == -INFINITY) { /* no key seen yet: nothing to add, nothing to rescale */
                    for (int j = 0; j < vectors; j++) store8(l + 8 * j, splat8(0.0f));
                    correction[r] = 1.0f;
                    continue;
                }
                correction[r] = expf(sc->row_max[r] - new_max);
                v8 sum = splat8(0.0f);
                for (int j = 0; j < vectors; j++) {
                    v8 weight = exp8(load8(l + 8 * j) - splat8(new_max));
                    store8(l + 8 * j, weight);
                    sum += weight;
                }
                float block_sum = 0.0f;
                for (int i = 0; i < 8; i++) block_sum += sum[i];
                sc->row_sum[r] = sc->row_sum[r] * correction[r] + block_sum;
                sc->row_max[r] = new_max;
            }

            /* out = out * correction + P V: a decode tile streams the values in order, four at a time,
               into each row; otherwise tiles of 4 rows by 32 features. */
            if (decode) {
                for (int r = 0; r < rows; r++) {
                    float *out = sc->out + (int64_t)r * d;
                    for (int i = 0; i < d; i += 8) store8(out + i, correction[r] * load8(out + i));
                }
                int j = 0;
                for (; j + 4 <= keys; j += 4) {
                    const float *v = v_block + (int64_t)j * d;
                    /* And while the values are used, the next block's keys are fetched. */
                    for (int64_t at = (int64_t)j * row_bytes; at < (int64_t)(j + 4) * row_bytes && j < next_keys;
                         at += 64) {
                        __builtin_prefetch(next_k + at, 0, 2);
                    }
                    for (int r = 0; r < rows; r++) {
                        const float *w = logits + r * KEY_BLOCK + j;
                        float *out = sc->out + (int64_t)r * d;
                        for (int i = 0; i < d; i += 8) {
                            store8(out + i, load8(out + i) + w[0] * load8(v + i) + w[1] * load8(v + d + i) +
                                                w[2] * load8(v + 2 * d + i) + w[3] * load8(v + 3 * d + i));
                        }
                    }
                }
                for (; j < keys; j++) {
                    const float *v = v_block + (int64_t)j * d;
                    for (int r = 0; r < rows; r++) {
                        const float w = logits[r * KEY_BLOCK + j];
                        float *out = sc->out + (int64_t)r * d;
                        for (int i = 0; i < d; i += 8) store8(out + i, load8(out + i) + w * load8(v + i));
                    }
                }
                continue;
            }
            for (int r0 = 0; r0 < rows; r0 += 4) {
                int nr = rows - r0 < 4 ? rows - r0 : 4;
                for (int c0 = 0; c0 < d; c0 += 32) {
                    int nv = (d - c0) / 8 < 4 ? (d - c0) / 8 : 4;
                    const float *w = logits + r0 * KEY_BLOCK;
                    float *out = sc->out + (int64_t)r0 * d + c0;
#define PV(NR, NV) pv_tile(w, v_block + c0, d, keys, correction + r0, out, NR, NV)
                    switch (nr * 8 + nv) { TILE_CASES(PV) }
#undef PV
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

    const rope_plan plan = plan_rope(p, s);
    write_cache(p, s, &plan, token_start, threads);

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
    if (count == 1) { /* one tile: no OpenMP region, which would cost more than a small tile */
        scratch sc = thread_scratch(scratch_base, p);
        attend_tile(p, s, &plan, token_start, &tiles[0], &sc);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        scratch sc = thread_scratch(scratch_base + omp_get_thread_num() * per_thread, p);
        /* Later tiles of a sequence see more keys, so hand them out first. */
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = count - 1; i >= 0; i--) {
            attend_tile(p, s, &plan, token_start, &tiles[i], &sc);
        }
    }
}
