/*
 * The CUDA attention step: bookkeeping into the workspace, then up to four launches on the step's
 * stream. A pre-pass over the new tokens (O(tokens), not O(tokens^2)) rotates K and writes it and V
 * to the cache and, for 16-bit context requests, rotates Q into the workspace (unless the sm_90a
 * kernel reads it from qkv). Context requests in float16 and bfloat16 then run on tensor cores, reading
 * K and V from the cache: warpgroup MMA on sm_90a devices where the step allows it (context_wgmma.cu), else mma.sync
 * (context_mma.cu); float32 context requests take a simpler SIMT kernel. Generation requests run a
 * split-K (flash-decoding) kernel that reads each cache entry once for all the query heads of its KV
 * group. In float16 and bfloat16 it is one launch on tensor cores that also writes the new token's K
 * and V (the pre-pass leaves those to it) and adds the splits; float32's new K and V come from the
 * pre-pass, its kernel loads directly, and a reduction kernel adds the splits after.
 */
#include <algorithm>
#include <cmath>
#include <new>
#include <type_traits>
#include <vector>

#include "cuda_attention.h"
#include "kernels.cuh"
#include "status.h"

namespace {

enum {
    DECODE_THREADS = 128,
    DECODE_CHUNK = 128, /* keys per pass of the float32 decode block; one per thread for the logits */
    MMA_WARPS = DECODE_THREADS / 32,
    CHUNK_KEYS = 16,    /* keys of one warp's step in the 16-bit decode: the M of its m16n8k16 tiles */
    BLOCK_KEYS = MMA_WARPS * CHUNK_KEYS, /* splits of the 16-bit decode begin at multiples of this */
    MMA_HEADS = 8,      /* query heads of a 16-bit decode block: the N of its tiles */
    MAX_SPLITS = 64,    /* decode blocks per (sequence, KV head block) */
    ALIGN = 256
};
/*
 * How the decode's split count is chosen (decode_splits): waves of DECODE_SLOTS blocks, the 16-bit
 * kernel's 2 resident blocks (3 buffer stages) on each of an H100's or H200's 132 multiprocessors,
 * and a block's fixed cost (its queries, its pipeline's first loads, its partial results) as
 * DECODE_BLOCK_COST keys. Constants, not the device's: the split count decides the result's last
 * bits, which must not depend on the GPU (nor differ between this backend and the TensorRT plugin).
 * Both can be overridden at build time (-D) to compare variants.
 */
#ifndef DECODE_SLOTS
#define DECODE_SLOTS 264
#endif
#ifndef DECODE_BLOCK_COST
#define DECODE_BLOCK_COST 128
#endif

int64_t aligned(int64_t bytes) {
    return (bytes + ALIGN - 1) / ALIGN * ALIGN;
}

/* Query heads of one float32 decode block. */
int decode_heads(int group) {
    return group == 1 ? 1 : group == 2 ? 2 : group <= 4 ? 4 : 8;
}

/* Query heads of one decode block, either kernel. */
int decode_block_heads(const trtllm4j_params *p) {
    return p->type_id == TRTLLM4J_FLOAT32 ? decode_heads(std::min(p->num_heads / p->num_kv_heads, 8)) : MMA_HEADS;
}

/* Decode blocks per (sequence, KV head), split aside. */
int decode_head_blocks(const trtllm4j_params *p) {
    return (p->num_heads / p->num_kv_heads + decode_block_heads(p) - 1) / decode_block_heads(p);
}

/* Keys per decode tile: splits begin at multiples of it. */
int decode_tile_keys(const trtllm4j_params *p) {
    return p->type_id == TRTLLM4J_FLOAT32 ? DECODE_CHUNK : BLOCK_KEYS;
}

int64_t decode_tiles(const trtllm4j_params *p, int64_t most_keys) {
    return std::max<int64_t>(1, (most_keys + decode_tile_keys(p) - 1) / decode_tile_keys(p));
}

/* Decode blocks of one split: one per (generation sequence, KV head, block of its query heads). */
int64_t decode_split_blocks(const trtllm4j_params *p, int64_t generation_count) {
    return std::max<int64_t>(1, generation_count * p->num_kv_heads * decode_head_blocks(p));
}

/*
 * The most splits of one sequence's keys among decode blocks: MAX_SPLITS, one per tile of the
 * longest sequence, and about 4 waves of blocks in all (more only add blocks' fixed costs). Never
 * fewer for more keys, so the workspace sized for max_seq_len holds any step's partials.
 */
int64_t decode_split_bound(const trtllm4j_params *p, int64_t generation_count, int64_t most_keys) {
    const int64_t blocks = decode_split_blocks(p, generation_count);
    return std::min<int64_t>({MAX_SPLITS, decode_tiles(p, most_keys), std::max<int64_t>(1, (4 * DECODE_SLOTS + blocks - 1) / blocks)});
}

/*
 * The splits a step uses: of the counts up to the bound that splitting the tiles evenly gives
 * exactly, the one with the least estimated time, whole waves of DECODE_SLOTS blocks (a partly
 * filled last wave still takes a wave) times a block's keys plus its fixed cost. Rounding to waves
 * matters: at 64 sequences of 4096 keys, 1 split is 1.9 waves (2 to wait for) of 4,160 keys a
 * block, 2 splits 3.9 waves (4) of 2,112.
 */
int decode_splits(const trtllm4j_params *p, int64_t generation_count, int64_t most_keys) {
    const int64_t tiles = decode_tiles(p, most_keys), blocks = decode_split_blocks(p, generation_count);
    const int64_t bound = decode_split_bound(p, generation_count, most_keys);
    int64_t best = 1, best_cost = INT64_MAX;
    for (int64_t splits = 1; splits <= bound; splits++) {
        const int64_t per_split = (tiles + splits - 1) / splits;
        if ((tiles + per_split - 1) / per_split != splits) continue; /* that count is another's */
        const int64_t waves = (splits * blocks + DECODE_SLOTS - 1) / DECODE_SLOTS;
        const int64_t cost = waves * (per_split * decode_tile_keys(p) + DECODE_BLOCK_COST);
        if (cost < best_cost) {
            best = splits;
            best_cost = cost;
        }
    }
    return (int)best;
}

/*
 * Where things lie in the workspace: the bookkeeping (sequences, generation list, the 16-bit
 * decode's counters of finished splits, which are zeros, and the context tiles last, so that the one
 * copy covers only the tiles a step has), then the decode partials, then the rotated Q.
 */
struct workspace_layout {
    int64_t sequences, generation, counters, tiles, copied, partials, q_rotated, total;
};

workspace_layout layout_of(const trtllm4j_params *p, const trtllm4j_attention_step *s) {
    workspace_layout w;
    w.sequences = 0;
    w.generation = aligned((int64_t)s->batch_size * sizeof(seq_meta));
    w.counters = w.generation + (int64_t)s->batch_size * 4;
    const int64_t counters = p->type_id == TRTLLM4J_FLOAT32 ? 0 : (int64_t)s->batch_size * p->num_kv_heads * decode_head_blocks(p);
    w.tiles = aligned(w.counters + counters * 4);
    /* A context tile holds at least one token, so num_tokens bounds their count. */
    w.copied = w.tiles + (int64_t)s->num_tokens * sizeof(context_tile);
    w.partials = aligned(w.copied);
    /* The most (sequences x splits) any count of generation sequences up to the step's bound takes. */
    const int64_t generation = std::min<int64_t>(s->batch_size, s->num_tokens);
    int64_t rows = 0;
    for (int64_t n = 1; n <= generation; n++) rows = std::max(rows, n * decode_split_bound(p, n, s->max_seq_len));
    w.q_rotated = aligned(w.partials + rows * p->num_heads * (int64_t)(p->head_size + 2) * 4);
    /* Every token's query heads, rotated and in the storage type: the 16-bit context kernels' Q. */
    const int64_t q_bytes = p->type_id == TRTLLM4J_FLOAT32 ? 0 : (int64_t)s->num_tokens * p->num_heads * p->head_size * 2;
    w.total = w.q_rotated + q_bytes;
    return w;
}

/* ---- the pre-pass: new K and V into the cache, rotated Q into the workspace ------------------------ */

/* Threads of a pre-pass block at most, and pieces each loads at once. */
enum { PREPARE_THREADS = 256, PREPARE_UNROLL = 4 };

/* The sequence of a token: the last one starting at or before it. */
__device__ __forceinline__ int sequence_of(const step_args &a, int batch_size, int64_t token) {
    int lo = 0, hi = batch_size - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (a.sequences[mid].token_start <= token) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/*
 * For every token whose request type is in type_mask: rotates K and writes it and V to the cache,
 * but for the K or V (kernel_writes: KERNEL_WRITES_K, KERNEL_WRITES_V) of context tokens in whole
 * tiles of key_tile positions, which the wgmma kernel writes; for a context token of a 16-bit step,
 * also rotates its query heads into q_rotated, where that is not NULL (the wgmma kernel may read Q
 * from qkv: without RoPE, or rotating it itself). Rounded to the storage type once, as the cache
 * holds them, so that every kernel reads what the CPU backend computes.
 * One block a token, as many threads as the step's widest token needs (run). The token's 16-byte
 * pieces go through shared memory in chunks of PREPARE_UNROLL pieces a thread, each chunk's loads all
 * issued before any is used (the kernel is bound by memory: with one load in flight a thread it ran
 * at half the DRAM's rate), with the token's RoPE angles; a GPT-NeoX piece finds its partner there
 * too, unless the chunk splits their head.
 */
template <typename T>
__global__ void __launch_bounds__(PREPARE_THREADS)
prepare_kernel(const step_args a, int batch_size, int type_mask, int kernel_writes, int key_tile) {
    extern __shared__ uint4 pieces_s[]; /* [blockDim.x * PREPARE_UNROLL] */
    /*
     * (cos, sin) of the token's pairs, pair p at (p % E) * (half / E) + p / E: the lanes of a warp take
     * pieces E pairs apart, so that they read neighbouring entries, not one bank (rotary_dim <= 256).
     */
    __shared__ float2 angles_s[128];
    const int64_t token = blockIdx.x;
    const int lo = sequence_of(a, batch_size, token);
    const seq_meta sq = a.sequences[lo];
    if (!(type_mask & (1 << sq.request_type))) return;
    const int32_t pos = sq.past_length + (int32_t)(token - sq.token_start);
    const bool queries = a.q_rotated != nullptr && sq.request_type == TRTLLM4J_REQUEST_CONTEXT;
    /* The wgmma kernel writes the K (V) of a context token in a whole key tile where kernel_writes says so. */
    const bool in_whole_tile = sq.request_type == TRTLLM4J_REQUEST_CONTEXT && kernel_writes != 0 &&
                               whole_key_tile(pos / key_tile * key_tile, key_tile, sq.input_length);
    const int kernel_takes = in_whole_tile ? kernel_writes : 0;
    /* Column heads of qkv: Q, then K, then V; this block's are [first_column, end_column). */
    const int first_column = queries ? 0 : kernel_takes & KERNEL_WRITES_K ? a.num_heads + a.num_kv_heads : a.num_heads;
    const int end_column = a.num_heads + (kernel_takes & KERNEL_WRITES_V ? 1 : 2) * a.num_kv_heads;
    if (first_column >= end_column) return;
    constexpr int E = vec_width<T>::value;              /* head sizes are multiples of 8: whole 16-byte pieces */
    const int D = a.head_size, pieces = D / E, half = a.rotary_dim / 2;
    const int first = first_column * pieces, total = end_column * pieces;
    const T *row = static_cast<const T *>(a.qkv) + qkv_offset(a, token, 0);
    T *cache = static_cast<T *>(a.kv_cache);
    /* The usual case, a table whose pairs of a piece are 16-byte aligned and contiguous: whole pieces of angles. */
    const float *table = sq.long_rope ? a.long_rope_rotary_cos_sin : a.rotary_cos_sin;
    const bool whole_pieces = a.rope != 0 && !sq.grows_base && half % E == 0 && ((uintptr_t)table & 15) == 0;
    if (whole_pieces) {
        for (int i = threadIdx.x; i < half; i += blockDim.x) {
            angles_s[(i % E) * (half / E) + i / E] = reinterpret_cast<const float2 *>(table)[(int64_t)pos * half + i];
        }
    }
    const int chunk_pieces = blockDim.x * PREPARE_UNROLL;
    for (int chunk = first; chunk < total; chunk += chunk_pieces) {
        const int count = min(chunk_pieces, total - chunk);
        if (chunk > first) __syncthreads(); /* the previous chunk's pieces are read */
#pragma unroll
        for (int u = 0; u < PREPARE_UNROLL; u++) {
            const int k = u * blockDim.x + threadIdx.x;
            if (k < count) pieces_s[k] = *reinterpret_cast<const uint4 *>(row + (int64_t)(chunk + k) * E);
        }
        __syncthreads();
#pragma unroll 1
        for (int u = 0; u < PREPARE_UNROLL; u++) {
            const int k = u * blockDim.x + threadIdx.x;
            if (k >= count) break;
            const int idx = chunk + k, column = idx / pieces, i0 = (idx - column * pieces) * E;
            const T *head = row + column * D;
            uint4 piece = pieces_s[k];
            if (column < a.num_heads + a.num_kv_heads && i0 < a.rotary_dim && whole_pieces) {
                T *x = reinterpret_cast<T *>(&piece);
                float in[E];
#pragma unroll
                for (int e = 0; e < E; e++) in[e] = to_float(x[e]);
                if (a.rope == 1) {
                    /* GPT-J: pairs (2p, 2p + 1) inside the piece, pairs i0 / 2 on. */
#pragma unroll
                    for (int p = 0; p < E / 2; p++) {
                        const int pair = i0 / 2 + p;
                        const float2 c = angles_s[(pair % E) * (half / E) + pair / E];
                        x[2 * p] = from_float<T>(rope_rotate(in[2 * p], in[2 * p + 1], true, c));
                        x[2 * p + 1] = from_float<T>(rope_rotate(in[2 * p + 1], in[2 * p], false, c));
                    }
                } else {
                    /* GPT-NeoX: the partners are the piece half a rotary dimension away, pairs i0 mod half on. */
                    const bool first_half = i0 < half;
                    const int pair0 = first_half ? i0 : i0 - half;
                    const int partner = idx + (first_half ? half : -half) / E - chunk;
                    const uint4 other = partner >= 0 && partner < count
                                            ? pieces_s[partner]
                                            : *reinterpret_cast<const uint4 *>(head + (first_half ? i0 + half : i0 - half));
                    const T *y = reinterpret_cast<const T *>(&other);
#pragma unroll
                    for (int e = 0; e < E; e++) {
                        x[e] = from_float<T>(rope_rotate(in[e], to_float(y[e]), first_half, angles_s[e * (half / E) + pair0 / E]));
                    }
                }
            } else if (column < a.num_heads + a.num_kv_heads && i0 < a.rotary_dim) {
                T *x = reinterpret_cast<T *>(&piece);
#pragma unroll
                for (int e = 0; e < E; e++) {
                    int pair;
                    bool first_of_pair;
                    const int partner = rope_partner(a, i0 + e, &pair, &first_of_pair);
                    if (partner >= 0) {
                        x[e] = from_float<T>(rope_rotate(to_float(head[i0 + e]), to_float(head[partner]), first_of_pair,
                                                         rope_cos_sin(a, sq, pos, pair)));
                    }
                }
            }
            T *dst = column < a.num_heads                    ? static_cast<T *>(a.q_rotated) + q_rotated_offset(a, token, column)
                     : column < a.num_heads + a.num_kv_heads ? cache + cache_offset(a, lo, 0, column - a.num_heads, pos)
                                                             : cache + cache_offset(a, lo, 1, column - a.num_heads - a.num_kv_heads, pos);
            *reinterpret_cast<uint4 *>(dst + i0) = piece;
        }
    }
}

/*
 * The pre-pass of a 16-bit prefill whose wgmma kernel rotates Q and writes V itself (every context
 * sequence from position 0; GPT-J pairs, or GPT-NeoX over the whole head; rotary_dim a multiple of 16
 * and tables 16-byte aligned: run's keys_only): rotates each context token's K into the cache and
 * copies its V there where the token lies in its sequence's last, partial tile of key_tile positions.
 * A thread takes one 16-byte piece of a token's K heads (GPT-J) or the two pieces half a head apart
 * (GPT-NeoX) in every KV head: their angles loaded once, as 16-byte loads, then the heads' pieces, HB
 * heads' loads issued before any is used; no shared memory and no barrier.
 */
template <typename T, int ROPE, int HB>
__global__ void __launch_bounds__(256) rotate_keys_kernel(const step_args a, int batch_size, int key_tile) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900 /* it runs beside the sm_90a kernel alone; for sm_80, 8 heads' loads spill */
    constexpr int E = vec_width<T>::value;
    const int D = a.head_size, units = ROPE == 2 ? D / (2 * E) : D / E; /* threads a token */
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)a.num_tokens * units) return;
    const int unit = (int)(i % units);
    const int64_t token = i / units;
    const int b = sequence_of(a, batch_size, token);
    const seq_meta sq = a.sequences[b];
    if (sq.request_type != TRTLLM4J_REQUEST_CONTEXT) return;
    const int32_t pos = sq.past_length + (int32_t)(token - sq.token_start);
    const int f0 = unit * E, half = D / 2; /* features [f0, f0 + E), and with GPT-NeoX their partners [half + f0, ...) */
    const bool rotated = ROPE == 2 || f0 < a.rotary_dim;
    /* The position's (cos, sin) pairs, two to a float4: GPT-NeoX pairs f0 .. f0 + E - 1, GPT-J f0 / 2 .. f0 / 2 + E / 2 - 1. */
    const float4 *angles = reinterpret_cast<const float4 *>((sq.long_rope ? a.long_rope_rotary_cos_sin : a.rotary_cos_sin) +
                                                            (int64_t)pos * a.rotary_dim);
    constexpr int C = ROPE == 2 ? E / 2 : E / 4;
    float4 c[C];
#pragma unroll
    for (int j = 0; j < C; j++) c[j] = rotated ? angles[(ROPE == 2 ? f0 / 2 : f0 / 4) + j] : make_float4(1.0f, 0.0f, 1.0f, 0.0f);
    const T *k = static_cast<const T *>(a.qkv) + qkv_offset(a, token, a.num_heads) + f0; /* head g: + g D */
    T *cache = static_cast<T *>(a.kv_cache);
    T *k_cache = cache + cache_offset(a, b, 0, 0, pos) + f0; /* head g: + g head_rows */
    const int64_t head_rows = (int64_t)a.max_seq_len * D;
    for (int g0 = 0; g0 < a.num_kv_heads; g0 += HB) {
        uint4 x[HB], y[HB];
#pragma unroll
        for (int j = 0; j < HB; j++) {
            if (g0 + j < a.num_kv_heads) {
                x[j] = *reinterpret_cast<const uint4 *>(k + (g0 + j) * D);
                if (ROPE == 2) y[j] = *reinterpret_cast<const uint4 *>(k + (g0 + j) * D + half);
            }
        }
#pragma unroll
        for (int j = 0; j < HB; j++) {
            if (g0 + j >= a.num_kv_heads) continue;
            T *xe = reinterpret_cast<T *>(&x[j]);
            T *dst = k_cache + (g0 + j) * head_rows;
            if (ROPE == 2) {
                T *ye = reinterpret_cast<T *>(&y[j]);
#pragma unroll
                for (int e = 0; e < E; e++) {
                    const float2 cs = e % 2 ? make_float2(c[e / 2].z, c[e / 2].w) : make_float2(c[e / 2].x, c[e / 2].y);
                    const float xf = to_float(xe[e]), yf = to_float(ye[e]);
                    xe[e] = from_float<T>(rope_rotate(xf, yf, true, cs));
                    ye[e] = from_float<T>(rope_rotate(yf, xf, false, cs));
                }
                *reinterpret_cast<uint4 *>(dst + half) = y[j];
            } else if (rotated) {
#pragma unroll
                for (int p = 0; p < E / 2; p++) {
                    const float2 cs = p % 2 ? make_float2(c[p / 2].z, c[p / 2].w) : make_float2(c[p / 2].x, c[p / 2].y);
                    const float x0 = to_float(xe[2 * p]), x1 = to_float(xe[2 * p + 1]);
                    xe[2 * p] = from_float<T>(rope_rotate(x0, x1, true, cs));
                    xe[2 * p + 1] = from_float<T>(rope_rotate(x1, x0, false, cs));
                }
            }
            *reinterpret_cast<uint4 *>(dst) = x[j];
        }
    }
    if (!whole_key_tile(pos / key_tile * key_tile, key_tile, sq.input_length)) { /* V of the last, partial key tile: this pre-pass's */
        const T *v = static_cast<const T *>(a.qkv) + qkv_offset(a, token, a.num_heads + a.num_kv_heads) + f0;
        T *v_cache = cache + cache_offset(a, b, 1, 0, pos) + f0;
        for (int g = 0; g < a.num_kv_heads; g++) {
            *reinterpret_cast<uint4 *>(v_cache + g * head_rows) = *reinterpret_cast<const uint4 *>(v + g * D);
            if (ROPE == 2) *reinterpret_cast<uint4 *>(v_cache + g * head_rows + half) = *reinterpret_cast<const uint4 *>(v + g * D + half);
        }
    }
#endif
}

/* ---- generation: split-K attention ------------------------------------------------------------ */

/* Keys a query at pos sees, in order: the sinks [0, sink_end), then [window_start, pos]. */
struct key_range {
    int32_t sink_end, window_start, count;
    __host__ __device__ key_range(int32_t pos, int32_t window, int32_t sinks) {
        window_start = pos - (window - sinks) + 1;
        sink_end = sinks;
        if (window_start <= sinks) window_start = sink_end = 0;
        count = sink_end + pos + 1 - window_start;
    }
    __host__ __device__ int32_t at(int32_t i) const {
        return i < sink_end ? i : window_start + (i - sink_end);
    }
};

/*
 * The float32 decode. One block: one generation sequence, one KV head, up to NG of its query heads,
 * and one split of the keys the token sees. Each thread takes one key for Q K^T (a whole row, 16 bytes at a time, against
 * the NG queries in shared memory); then threads take 16-byte columns of V. Writes the split's
 * unnormalised output, running maximum and sum per head to partials.
 */
template <typename T, int NG>
__global__ void __launch_bounds__(DECODE_THREADS)
decode_split_kernel(const step_args a, const int32_t *__restrict__ generation, int splits, float *__restrict__ partials) {
    constexpr int E = vec_width<T>::value;
    __shared__ __align__(16) float q_s[NG][256];
    __shared__ __align__(16) float out_s[NG][256];
    __shared__ float w_s[NG][DECODE_CHUNK];
    __shared__ float max_s[NG], sum_s[NG], correction_s[NG];

    const int split = blockIdx.x;
    const int head_blocks = (a.group + NG - 1) / NG;
    const int g = blockIdx.y / head_blocks;
    const int first_head = g * a.group + (blockIdx.y % head_blocks) * NG;
    const int heads = min(NG, (g + 1) * a.group - first_head);
    const int b = generation[blockIdx.z];
    const seq_meta sq = a.sequences[b];
    const int32_t pos = sq.past_length;
    const int D = a.head_size, tid = threadIdx.x;
    const T *qkv = static_cast<const T *>(a.qkv);
    const T *cache = static_cast<const T *>(a.kv_cache);

    const key_range keys(pos, a.window, a.sinks);
    const int32_t per_split = ((keys.count + DECODE_CHUNK - 1) / DECODE_CHUNK + splits - 1) / splits * DECODE_CHUNK;
    const int32_t begin = split * per_split, end = min(keys.count, begin + per_split);
    float *part = partials + (((int64_t)blockIdx.z * a.num_heads + first_head) * splits + split) * (D + 2);
    const int64_t head_stride = (int64_t)splits * (D + 2);
    if (begin >= end) {
        if (tid < heads) {
            part[tid * head_stride + D] = -INFINITY;
            part[tid * head_stride + D + 1] = 0.0f;
        }
        return;
    }

    for (int idx = tid; idx < NG * D; idx += DECODE_THREADS) {
        int hq = idx / D, i = idx - hq * D;
        float x = 0.0f;
        if (hq < heads) {
            const T *q = qkv + qkv_offset(a, sq.token_start, first_head + hq);
            x = to_float(q[i]);
            int pair;
            bool first;
            int partner = rope_partner(a, i, &pair, &first);
            if (partner >= 0) x = rope_rotate(x, to_float(q[partner]), first, rope_cos_sin(a, sq, pos, pair));
            if (a.plain) x *= a.scale; /* plain logits are (q * scale) . k, as on the CPU */
        }
        q_s[hq][i] = x;
        out_s[hq][i] = 0.0f;
    }
    if (tid < NG) {
        max_s[tid] = -INFINITY;
        sum_s[tid] = 0.0f;
    }
    float slope[NG];
#pragma unroll
    for (int hq = 0; hq < NG; hq++) slope[hq] = a.alibi != ALIBI_NONE && hq < heads ? a.alibi_slopes[first_head + hq] : 0.0f;
    __syncthreads();

    const int vectors = D / E;
    const int key_groups = DECODE_THREADS / vectors; /* threads of the P V pass: key_groups x vectors */
    const int key_group = tid / vectors, column = tid - key_group * vectors;
    float acc[NG][E];
#pragma unroll
    for (int hq = 0; hq < NG; hq++) {
#pragma unroll
        for (int e = 0; e < E; e++) acc[hq][e] = 0.0f;
    }

    for (int32_t c0 = begin; c0 < end; c0 += DECODE_CHUNK) {
        const int n = min(DECODE_CHUNK, end - c0);
        if (tid < n) {
            const int32_t j = keys.at(c0 + tid);
            const T *k = cache + cache_offset(a, b, 0, g, j);
            float dot[NG];
#pragma unroll
            for (int hq = 0; hq < NG; hq++) dot[hq] = 0.0f;
#pragma unroll 4
            for (int v = 0; v < vectors; v++) {
                float kv[E];
                load_vec(k + v * E, kv);
#pragma unroll
                for (int hq = 0; hq < NG; hq++) {
#pragma unroll
                    for (int e = 0; e < E; e++) dot[hq] += q_s[hq][v * E + e] * kv[e];
                }
            }
#pragma unroll
            for (int hq = 0; hq < NG; hq++) {
                w_s[hq][tid] = hq >= heads ? -INFINITY : a.plain ? dot[hq] : attention_logit(a, dot[hq], slope[hq], j, pos);
            }
        } else {
#pragma unroll
            for (int hq = 0; hq < NG; hq++) w_s[hq][tid] = -INFINITY;
        }
        __syncthreads();

        /* Online softmax: warp w updates heads w, w + 4, ... over the chunk. */
        for (int hq = tid / 32; hq < NG; hq += DECODE_THREADS / 32) {
            const int lane = tid % 32;
            float x[DECODE_CHUNK / 32], chunk_max = -INFINITY;
#pragma unroll
            for (int i = 0; i < DECODE_CHUNK / 32; i++) {
                x[i] = w_s[hq][lane + 32 * i];
                chunk_max = fmaxf(chunk_max, x[i]);
            }
#pragma unroll
            for (int o = 16; o > 0; o /= 2) chunk_max = fmaxf(chunk_max, __shfl_xor_sync(0xffffffffu, chunk_max, o));
            const float old_max = max_s[hq], new_max = fmaxf(old_max, chunk_max);
            float total = 0.0f;
#pragma unroll
            for (int i = 0; i < DECODE_CHUNK / 32; i++) {
                float w = new_max == -INFINITY ? 0.0f : expf(x[i] - new_max);
                w_s[hq][lane + 32 * i] = w;
                total += w;
            }
#pragma unroll
            for (int o = 16; o > 0; o /= 2) total += __shfl_xor_sync(0xffffffffu, total, o);
            __syncwarp();
            if (lane == 0) {
                const float correction = new_max == -INFINITY ? 1.0f : expf(old_max - new_max);
                correction_s[hq] = correction;
                sum_s[hq] = sum_s[hq] * correction + total;
                max_s[hq] = new_max;
            }
        }
        __syncthreads();

        if (key_group < key_groups) {
#pragma unroll
            for (int hq = 0; hq < NG; hq++) {
                const float correction = correction_s[hq];
#pragma unroll
                for (int e = 0; e < E; e++) acc[hq][e] *= correction;
            }
            for (int kk = key_group; kk < n; kk += key_groups) {
                float vv[E];
                load_vec(cache + cache_offset(a, b, 1, g, keys.at(c0 + kk)) + column * E, vv);
#pragma unroll
                for (int hq = 0; hq < NG; hq++) {
                    const float w = w_s[hq][kk];
#pragma unroll
                    for (int e = 0; e < E; e++) acc[hq][e] += w * vv[e];
                }
            }
        }
        __syncthreads();
    }

    /* The key groups' sums, added in group order: atomics would make the result vary in its last
       bits from run to run, and the TensorRT plugin must equal this backend byte for byte. */
    for (int turn = 0; turn < key_groups; turn++) {
        if (key_group == turn) {
#pragma unroll
            for (int hq = 0; hq < NG; hq++) {
#pragma unroll
                for (int e = 0; e < E; e++) out_s[hq][column * E + e] += acc[hq][e];
            }
        }
        __syncthreads();
    }
    for (int idx = tid; idx < heads * D; idx += DECODE_THREADS) {
        int hq = idx / D, i = idx - hq * D;
        part[hq * head_stride + i] = out_s[hq][i];
    }
    if (tid < heads) {
        part[tid * head_stride + D] = max_s[tid];
        part[tid * head_stride + D + 1] = sum_s[tid];
    }
}

/*
 * The 16-bit decode on tensor cores. One block per (generation sequence, KV head, up to MMA_HEADS of
 * its query heads, split of the keys); each of its MMA_WARPS warps streams its own chunks of
 * CHUNK_KEYS keys (chunks warp, warp + MMA_WARPS, ... of the split) through STAGES
 * shared-memory buffers of its own with cp.async, so the main loop has no block-wide barrier.
 * The keys are the M side of both products, the query heads the N side (padded to 8), so a warp
 * computes S^T = K Q^T (m16n8k16, K from ldmatrix, Q^T in registers for the whole split) and
 * O^T += V^T P^T (V^T from ldmatrix.trans, P^T from S^T's accumulators by movmatrix), with an
 * online softmax per head on the accumulators in between. Q and P are rounded to the storage type
 * for the tensor cores, as in the context kernel. The new token's K and V are read from qkv (K
 * rotated in shared memory and rounded as the cache will hold it) and written to the cache by the
 * block that reads them for the KV group's first query heads; no block reads that cache entry.
 * The warps' results are combined in warp order; with several splits, the block that finishes a
 * (sequence, head block) last adds the splits' partials in split order, so equal inputs give
 * equal bytes whichever block that is.
 */
/* The transpose of an 8 x 8 matrix of 16-bit values held one pair a thread, as mma fragments hold it. */
__device__ __forceinline__ uint32_t transpose8x8(uint32_t x) {
    uint32_t y;
    asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(y) : "r"(x));
    return y;
}

/* Shared memory of the 16-bit decode at padded head size DP (a multiple of 32, as the context kernel
   pads) with STAGES buffers a warp. */
template <int DP, int STAGES> struct decode_mma_shape {
    static constexpr int KS = DP / 16;                  /* k-steps of Q K^T, m-tiles of P V */
    static constexpr int LDP = DP / 8 + 1;               /* 16-byte pieces a row, one more so that ldmatrix's 8 rows hit distinct banks */
    static constexpr int CHUNK = CHUNK_KEYS * LDP;       /* pieces of one chunk of K (or V) */
    static constexpr int WARP = STAGES * 2 * CHUNK;      /* pieces of one warp's buffers */
    static constexpr size_t tile_bytes = (size_t)MMA_WARPS * WARP * 16;
    static_assert((DP / 8) % 2 == 0, "rows of an odd number of 16-byte pieces");
    static_assert(2 * CHUNK * 16 >= (MMA_HEADS * DP + DP) * 4, "the queries and their angles are staged in one buffer of K and V");
    static_assert(tile_bytes >= (MMA_WARPS * MMA_HEADS * DP + MMA_HEADS * (MAX_SPLITS + 1)) * 4,
                  "the warps' outputs and the splits' weights fit the tile buffers");
    /* Blocks a multiprocessor holds: 3 where their shared memory fits (228 KB a multiprocessor, 1 KB
       of it reserved a block) and 168 registers a thread do without spilling (head sizes 64 to 128),
       else 2 (or what shared memory allows). */
    static constexpr int min_blocks = DP >= 64 && DP <= 128 && 3 * (tile_bytes + 2048) <= 228 * 1024 ? 3 : 2;
};

template <typename T, int DP, int STAGES>
__global__ void __launch_bounds__(DECODE_THREADS, decode_mma_shape<DP, STAGES>::min_blocks)
decode_mma_kernel(const step_args a, const int32_t *__restrict__ generation, int splits, float *__restrict__ partials,
                  int32_t *__restrict__ counters) {
    using shape = decode_mma_shape<DP, STAGES>;
    constexpr int KS = shape::KS, LDP = shape::LDP;
    /* [warp][stage][K, V][CHUNK_KEYS][LDP]; before the main loop, warp 0's last buffer (which the first
       loads leave alone) holds the queries as floats [MMA_HEADS][DP]; after it, the buffers hold the
       warps' outputs and the splits' weights (see below). */
    extern __shared__ __align__(16) uint4 tiles_s[];
    __shared__ float warp_max_s[MMA_WARPS][MMA_HEADS], warp_sum_s[MMA_WARPS][MMA_HEADS];
    __shared__ int last_s;

    const int split = blockIdx.x;
    const int head_blocks = (a.group + MMA_HEADS - 1) / MMA_HEADS;
    const int g = blockIdx.y / head_blocks, head_block = blockIdx.y % head_blocks;
    const int first_head = g * a.group + head_block * MMA_HEADS;
    const int heads = min(MMA_HEADS, (g + 1) * a.group - first_head);
    const int b = generation[blockIdx.z];
    const seq_meta sq = a.sequences[b];
    const int32_t pos = sq.past_length;
    const int D = a.head_size, VR = D / 8, tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const T *qkv = static_cast<const T *>(a.qkv);
    T *cache = static_cast<T *>(a.kv_cache);
    const T *k_cache = cache + cache_offset(a, b, 0, g, 0), *v_cache = cache + cache_offset(a, b, 1, g, 0);
    const T *k_new = qkv + qkv_offset(a, sq.token_start, a.num_heads + g);
    const T *v_new = qkv + qkv_offset(a, sq.token_start, a.num_heads + a.num_kv_heads + g);

    const key_range keys(pos, a.window, a.sinks);
    const int32_t newest = keys.count - 1; /* the new token's key index: its position is pos */
    const int32_t block_tiles = (keys.count + BLOCK_KEYS - 1) / BLOCK_KEYS, per_split = (block_tiles + splits - 1) / splits;
    const int32_t begin = split * per_split * BLOCK_KEYS, end = min(keys.count, begin + per_split * BLOCK_KEYS);
    const int chunks = end > begin ? (end - begin + CHUNK_KEYS - 1) / CHUNK_KEYS : 0;
    const int mine = chunks > warp ? (chunks - warp + MMA_WARPS - 1) / MMA_WARPS : 0; /* this warp's chunks */

    uint4 *warp_tiles = tiles_s + warp * shape::WARP;
    /* Chunk i of this warp into buffer i % STAGES, lanes along each row's pieces; keys past the
       split are zero-filled, so that P V adds exact zeros for them. */
    auto load_chunk = [&](int i) {
        uint4 *k_s = warp_tiles + (i % STAGES) * 2 * shape::CHUNK, *v_s = k_s + shape::CHUNK;
        const int32_t first = begin + (warp + MMA_WARPS * i) * CHUNK_KEYS, first_pos = keys.at(first);
        /* The usual chunk: whole, consecutive positions, all in the cache. */
        const bool usual = first + CHUNK_KEYS <= end && (newest < first || newest >= first + CHUNK_KEYS) &&
                           keys.at(first + CHUNK_KEYS - 1) == first_pos + CHUNK_KEYS - 1;
#pragma unroll
        for (int j = 0; j < CHUNK_KEYS * (DP / 8) / 32; j++) {
            const int f = lane + 32 * j, row = f / (DP / 8), piece = f % (DP / 8);
            if (piece >= VR) continue;
            const T *k, *v;
            bool valid = true;
            if (usual) {
                k = k_cache + (int64_t)(first_pos + row) * D;
                v = v_cache + (int64_t)(first_pos + row) * D;
            } else {
                const int32_t index = first + row;
                valid = index < end;
                const int64_t at = (int64_t)keys.at(valid ? index : begin) * D;
                k = index == newest ? k_new : k_cache + at;
                v = index == newest ? v_new : v_cache + at;
            }
            cp_async16(k_s + row * LDP + piece, k + piece * 8, valid);
            cp_async16(v_s + row * LDP + piece, v + piece * 8, valid);
        }
    };
#pragma unroll
    for (int i = 0; i < STAGES - 1; i++) {
        if (i < mine) load_chunk(i);
        cp_async_commit();
    }

    /*
     * The block's queries, rotated; heads past the block's and features past D are zero. The token's
     * angles go to shared memory first, one pair a thread, and each thread's elements and partners are
     * all loaded before any is used: loaded one element after another, with its angle, they were a
     * fifth of the kernel's stalls at batch 1.
     */
    float(*q_s)[DP] = reinterpret_cast<float(*)[DP]>(tiles_s + (STAGES - 1) * 2 * shape::CHUNK);
    float2 *angles_s = reinterpret_cast<float2 *>(q_s[MMA_HEADS]); /* after the queries: pair p's (cos, sin) */
    for (int p = tid; p < a.rotary_dim / 2; p += DECODE_THREADS) angles_s[p] = rope_cos_sin(a, sq, pos, p);
    constexpr int Q_PER_THREAD = MMA_HEADS * DP / DECODE_THREADS;
    static_assert(MMA_HEADS * DP % DECODE_THREADS == 0, "the queries' elements split evenly over the threads");
    /* The thread's u-th element: head hq, feature i, and its RoPE partner (-1 if none, or past the heads and D). */
    struct element {
        int hq, i, pair, partner;
        bool first;
    };
    const auto element_of = [&](int u) {
        element e;
        const int idx = tid + u * DECODE_THREADS;
        e.hq = idx / DP;
        e.i = idx - e.hq * DP;
        e.partner = e.hq < heads && e.i < D ? rope_partner(a, e.i, &e.pair, &e.first) : -1;
        return e;
    };
    float qx[Q_PER_THREAD], qp[Q_PER_THREAD];
#pragma unroll
    for (int u = 0; u < Q_PER_THREAD; u++) {
        const element e = element_of(u);
        const T *q = qkv + qkv_offset(a, sq.token_start, first_head + min(e.hq, heads - 1));
        qx[u] = e.hq < heads && e.i < D ? to_float(q[e.i]) : 0.0f;
        qp[u] = e.partner >= 0 ? to_float(q[e.partner]) : 0.0f;
    }
    __syncthreads(); /* the angles are in */
#pragma unroll
    for (int u = 0; u < Q_PER_THREAD; u++) {
        const element e = element_of(u);
        q_s[e.hq][e.i] = e.partner >= 0 ? rope_rotate(qx[u], qp[u], e.first, angles_s[e.pair]) : qx[u];
    }
    __syncthreads();
    /* Q^T as the B operand: head lane / 4, features 16 ks + 2 (lane % 4) + {0, 1} and 8 more. */
    uint32_t qb[KS][2];
#pragma unroll
    for (int ks = 0; ks < KS; ks++) {
        const float *q = &q_s[lane / 4][ks * 16 + 2 * (lane % 4)];
        qb[ks][0] = pack2<T>(q[0], q[1]);
        qb[ks][1] = pack2<T>(q[8], q[9]);
    }
    __syncthreads(); /* the queries' buffer is free */
    /* Features [D, DP) of K stay zero in every buffer (cp.async never writes them), so they add nothing to Q K^T. */
    if (DP > D) {
        for (int idx = lane; idx < STAGES * CHUNK_KEYS * (DP / 8 - VR); idx += 32) {
            const int per_stage = CHUNK_KEYS * (DP / 8 - VR), stage = idx / per_stage, rest = idx - stage * per_stage;
            const int row = rest / (DP / 8 - VR), piece = VR + rest % (DP / 8 - VR);
            warp_tiles[stage * 2 * shape::CHUNK + row * LDP + piece] = make_uint4(0, 0, 0, 0);
        }
    }
    /* This thread's heads in S^T's and O^T's columns: 2 (lane % 4) + {0, 1}. */
    float slope[2];
#pragma unroll
    for (int e = 0; e < 2; e++) {
        const int hq = 2 * (lane % 4) + e;
        slope[e] = a.alibi != ALIBI_NONE && hq < heads ? a.alibi_slopes[first_head + hq] : 0.0f;
    }

    float o[KS][4]; /* O^T: features 16 ks + lane / 4 (+ 8 for [2], [3]), heads 2 (lane % 4) + {0, 1} */
#pragma unroll
    for (int ks = 0; ks < KS; ks++) o[ks][0] = o[ks][1] = o[ks][2] = o[ks][3] = 0.0f;
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f}; /* row_sum: this thread's keys only */

    for (int i = 0; i < mine; i++) {
        cp_async_wait<STAGES - 2>();
        __syncwarp(); /* chunk i has landed for every lane; buffer (i - 1) % STAGES is free */
        if (i + STAGES - 1 < mine) load_chunk(i + STAGES - 1);
        cp_async_commit();
        uint4 *k_s = warp_tiles + (i % STAGES) * 2 * shape::CHUNK;
        const uint4 *v_s = k_s + shape::CHUNK;
        const int32_t base = begin + (warp + MMA_WARPS * i) * CHUNK_KEYS;

        if (newest >= base && newest < base + CHUNK_KEYS) {
            /* The new token: rotate its K as write_new_kv_kernel does, then the first head block writes K and V. */
            T *k_row = reinterpret_cast<T *>(k_s + (newest - base) * LDP);
            const T *v_row = reinterpret_cast<const T *>(v_s + (newest - base) * LDP);
            if (a.rope) {
                for (int pair = lane; pair < a.rotary_dim / 2; pair += 32) {
                    const int i0 = a.rope == 1 ? 2 * pair : pair, i1 = a.rope == 1 ? 2 * pair + 1 : pair + a.rotary_dim / 2;
                    const float2 cs = rope_cos_sin(a, sq, pos, pair);
                    const float x0 = to_float(k_row[i0]), x1 = to_float(k_row[i1]);
                    k_row[i0] = from_float<T>(rope_rotate(x0, x1, true, cs));
                    k_row[i1] = from_float<T>(rope_rotate(x1, x0, false, cs));
                }
                __syncwarp();
            }
            if (head_block == 0) {
                for (int c = lane; c < VR; c += 32) {
                    *reinterpret_cast<uint4 *>(cache + cache_offset(a, b, 0, g, pos) + c * 8) = reinterpret_cast<const uint4 *>(k_row)[c];
                    *reinterpret_cast<uint4 *>(cache + cache_offset(a, b, 1, g, pos) + c * 8) = reinterpret_cast<const uint4 *>(v_row)[c];
                }
            }
        }

        /* S^T = K Q^T: keys lane / 4 and lane / 4 + 8 of the chunk, this thread's two heads. */
        float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
        for (int ks = 0; ks < KS; ks++) {
            uint32_t ka[4];
            ldmatrix_x4(ka, k_s + ((lane % 8) + ((lane / 8) & 1) * 8) * LDP + 2 * ks + lane / 16);
            mma16816<T>(s, ka, qb[ks][0], qb[ks][1]);
        }

        /* Logits, keys past the split masked, online softmax per head over the warp's 16 keys. */
        float chunk_max[2] = {row_max[0], row_max[1]};
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int32_t index = base + lane / 4 + (e / 2) * 8;
            float x = a.plain ? s[e] * a.scale : attention_logit(a, s[e], slope[e % 2], keys.at(index), pos);
            s[e] = index < end ? x : -INFINITY;
            chunk_max[e % 2] = fmaxf(chunk_max[e % 2], s[e]);
        }
        float correction[2];
#pragma unroll
        for (int h = 0; h < 2; h++) {
#pragma unroll
            for (int o2 = 4; o2 < 32; o2 *= 2) chunk_max[h] = fmaxf(chunk_max[h], __shfl_xor_sync(0xffffffffu, chunk_max[h], o2));
            correction[h] = chunk_max[h] == -INFINITY ? 1.0f : exp2f((row_max[h] - chunk_max[h]) * LOG2E);
            row_max[h] = chunk_max[h];
        }
#pragma unroll
        for (int e = 0; e < 4; e++) s[e] = row_max[e % 2] == -INFINITY ? 0.0f : exp2f((s[e] - row_max[e % 2]) * LOG2E);
        row_sum[0] = row_sum[0] * correction[0] + s[0] + s[2];
        row_sum[1] = row_sum[1] * correction[1] + s[1] + s[3];
#pragma unroll
        for (int ks = 0; ks < KS; ks++) {
            o[ks][0] *= correction[0];
            o[ks][1] *= correction[1];
            o[ks][2] *= correction[0];
            o[ks][3] *= correction[1];
        }

        /* O^T += V^T P^T: P^T's fragments are the transposes of S^T's two 8 x 8 halves. */
        const uint32_t p0 = transpose8x8(pack2<T>(s[0], s[1])), p1 = transpose8x8(pack2<T>(s[2], s[3]));
#pragma unroll
        for (int ks = 0; ks < KS; ks++) {
            uint32_t va[4];
            ldmatrix_x4_trans(va, v_s + ((lane % 8) + (lane / 16) * 8) * LDP + 2 * ks + ((lane / 8) & 1));
            mma16816<T>(o[ks], va, p0, p1);
        }
        __syncwarp(); /* every lane is done with the buffer before it is refilled */
    }
    cp_async_wait<0>();

    /* The warps' results, combined in warp order through the (now idle) tile buffers. */
#pragma unroll
    for (int h = 0; h < 2; h++) {
#pragma unroll
        for (int o2 = 4; o2 < 32; o2 *= 2) row_sum[h] += __shfl_xor_sync(0xffffffffu, row_sum[h], o2);
    }
    __syncthreads();
    float *out_s = reinterpret_cast<float *>(tiles_s); /* [warp][head][DP] */
    float(*weight_s)[MAX_SPLITS] = reinterpret_cast<float(*)[MAX_SPLITS]>(out_s + MMA_WARPS * MMA_HEADS * DP);
    float *total_s = weight_s[MMA_HEADS];
#pragma unroll
    for (int ks = 0; ks < KS; ks++) {
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int hq = 2 * (lane % 4) + e % 2, i = ks * 16 + lane / 4 + (e / 2) * 8;
            out_s[(warp * MMA_HEADS + hq) * DP + i] = o[ks][e];
        }
    }
    if (lane < 4) {
#pragma unroll
        for (int e = 0; e < 2; e++) {
            warp_max_s[warp][2 * lane + e] = row_max[e];
            warp_sum_s[warp][2 * lane + e] = row_sum[e];
        }
    }
    __syncthreads();
    const int64_t head_stride = (int64_t)splits * (D + 2);
    float *part = partials + (((int64_t)blockIdx.z * a.num_heads + first_head) * splits + split) * (D + 2);
    T *out = static_cast<T *>(a.context) + ((int64_t)sq.token_start * a.num_heads + first_head) * D;
    for (int idx = tid; idx < heads * D; idx += DECODE_THREADS) {
        const int hq = idx / D, i = idx - hq * D;
        float top = -INFINITY;
#pragma unroll
        for (int w = 0; w < MMA_WARPS; w++) top = fmaxf(top, warp_max_s[w][hq]);
        float value = 0.0f, sum = 0.0f;
#pragma unroll
        for (int w = 0; w < MMA_WARPS; w++) {
            const float m = warp_max_s[w][hq], weight = m == -INFINITY ? 0.0f : exp2f((m - top) * LOG2E);
            value += weight * out_s[(w * MMA_HEADS + hq) * DP + i];
            sum += weight * warp_sum_s[w][hq];
        }
        if (splits == 1) {
            out[idx] = from_float<T>(value / sum);
        } else {
            part[hq * head_stride + i] = value;
            if (i == 0) {
                part[hq * head_stride + D] = top;
                part[hq * head_stride + D + 1] = sum;
            }
        }
    }
    if (splits == 1) return;

    /* The last block of this (sequence, head block) to finish adds the splits in split order. */
    __threadfence();
    __syncthreads();
    if (tid == 0) last_s = atomicAdd(counters + (int64_t)blockIdx.z * gridDim.y + blockIdx.y, 1) == splits - 1;
    __syncthreads();
    if (!last_s) return;
    __threadfence();
    const float *first_part = partials + ((int64_t)blockIdx.z * a.num_heads + first_head) * head_stride;
    for (int hq = warp; hq < heads; hq += MMA_WARPS) {
        const float *p = first_part + hq * head_stride;
        float top = -INFINITY;
        for (int s = lane; s < splits; s += 32) top = fmaxf(top, __ldcg(p + s * (D + 2) + D));
#pragma unroll
        for (int o2 = 16; o2 > 0; o2 /= 2) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, o2));
        float sum = 0.0f;
        for (int s = lane; s < splits; s += 32) {
            const float m = __ldcg(p + s * (D + 2) + D), weight = m == -INFINITY ? 0.0f : expf(m - top);
            weight_s[hq][s] = weight;
            sum += weight * __ldcg(p + s * (D + 2) + D + 1);
        }
#pragma unroll
        for (int o2 = 16; o2 > 0; o2 /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o2);
        if (lane == 0) total_s[hq] = sum;
    }
    __syncthreads();
    for (int idx = tid; idx < heads * D; idx += DECODE_THREADS) {
        const int hq = idx / D, i = idx - hq * D;
        const float *p = first_part + hq * head_stride + i;
        float value = 0.0f;
        for (int s = 0; s < splits; s++) value += weight_s[hq][s] * __ldcg(p + s * (D + 2));
        out[idx] = from_float<T>(value / total_s[hq]);
    }
}

/* Combines the float32 decode's splits of one (generation sequence, query head) into its output row. */
template <typename T>
__global__ void decode_reduce_kernel(const step_args a, const int32_t *__restrict__ generation, int splits,
                                     const float *__restrict__ partials) {
    const int h = blockIdx.y, D = a.head_size;
    const float *part = partials + ((int64_t)blockIdx.z * a.num_heads + h) * splits * (D + 2);
    const seq_meta sq = a.sequences[generation[blockIdx.z]];
    float top = -INFINITY;
    for (int s = 0; s < splits; s++) top = fmaxf(top, part[s * (D + 2) + D]);
    float sum = 0.0f;
    for (int s = 0; s < splits; s++) {
        float m = part[s * (D + 2) + D];
        if (m != -INFINITY) sum += expf(m - top) * part[s * (D + 2) + D + 1];
    }
    T *out = static_cast<T *>(a.context) + ((int64_t)sq.token_start * a.num_heads + h) * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x) {
        float value = 0.0f;
        for (int s = 0; s < splits; s++) {
            float m = part[s * (D + 2) + D];
            if (m != -INFINITY) value += expf(m - top) * part[s * (D + 2) + i];
        }
        out[i] = from_float<T>(value / sum);
    }
}

/* ---- float32 context: SIMT, one warp per query row, keys from the cache (written just before) ------------------------- */

enum { SIMT_WARPS = 8, SIMT_FEATURES = 8 /* head_size / 32, rounded up */ };

__global__ void __launch_bounds__(SIMT_WARPS * 32, 1) context_simt_kernel(const step_args a, const context_tile *__restrict__ tiles) {
    const context_tile tile = tiles[blockIdx.x];
    const seq_meta sq = a.sequences[tile.sequence];
    const int h = blockIdx.y, g = h / a.group, D = a.head_size;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int rows = min((int)CONTEXT_TILE, sq.input_length - tile.first_token);
    const float *qkv = static_cast<const float *>(a.qkv);
    const float *cache = static_cast<const float *>(a.kv_cache);
    const float slope = a.alibi != ALIBI_NONE ? a.alibi_slopes[h] : 0.0f;

    for (int r = warp; r < rows; r += SIMT_WARPS) {
        const int32_t t = tile.first_token + r, pos = sq.past_length + t;
        const float *qrow = qkv + qkv_offset(a, sq.token_start + t, h);
        float q[SIMT_FEATURES], acc[SIMT_FEATURES];
#pragma unroll
        for (int k = 0; k < SIMT_FEATURES; k++) {
            const int i = lane + 32 * k;
            q[k] = acc[k] = 0.0f;
            if (i >= D) continue;
            float x = to_float(qrow[i]);
            int pair;
            bool first;
            int partner = rope_partner(a, i, &pair, &first);
            if (partner >= 0) {
                x = rope_rotate(x, to_float(qrow[partner]), first,
                                rope_cos_sin(a, sq, pos, pair));
            }
            q[k] = a.plain ? x * a.scale : x;
        }
        const key_range keys(pos, a.window, a.sinks);
        float running_max = -INFINITY, sum = 0.0f;
        for (int32_t n = 0; n < keys.count; n++) {
            const int32_t j = keys.at(n);
            const float *k = cache + cache_offset(a, tile.sequence, 0, g, j);
            const float *v = cache + cache_offset(a, tile.sequence, 1, g, j);
            float dot = 0.0f;
#pragma unroll
            for (int f = 0; f < SIMT_FEATURES; f++) {
                if (lane + 32 * f < D) dot += q[f] * to_float(k[lane + 32 * f]);
            }
#pragma unroll
            for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
            const float x = a.plain ? dot : attention_logit(a, dot, slope, j, pos);
            const float new_max = fmaxf(running_max, x);
            const float correction = expf(running_max - new_max), w = expf(x - new_max);
            sum = sum * correction + w;
            running_max = new_max;
#pragma unroll
            for (int f = 0; f < SIMT_FEATURES; f++) {
                if (lane + 32 * f < D) acc[f] = acc[f] * correction + w * to_float(v[lane + 32 * f]);
            }
        }
        float *out = static_cast<float *>(a.context) + ((int64_t)(sq.token_start + t) * a.num_heads + h) * D;
#pragma unroll
        for (int f = 0; f < SIMT_FEATURES; f++) {
            if (lane + 32 * f < D) out[lane + 32 * f] = acc[f] / sum;
        }
    }
}

/* ---- launches ------------------------------------------------------------------------------- */

int32_t cuda_failure(const char *what, cudaError_t error) {
    return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "%s: %s (%s)", what, cudaGetErrorString(error), cudaGetErrorName(error));
}

template <int NG>
cudaError_t launch_decode_fp32(const step_args &a, const int32_t *generation, int count, int splits, float *partials,
                               cudaStream_t stream) {
    decode_split_kernel<float, NG><<<dim3(splits, a.num_kv_heads * ((a.group + NG - 1) / NG), count), DECODE_THREADS, 0,
                                     stream>>>(a, generation, splits, partials);
    cudaError_t status = cudaGetLastError();
    if (status != cudaSuccess) return status;
    decode_reduce_kernel<float><<<dim3(1, a.num_heads, count), 128, 0, stream>>>(a, generation, splits, partials);
    return cudaGetLastError();
}

template <typename T, int DP, int STAGES>
cudaError_t launch_decode_mma_stages(const step_args &a, const int32_t *generation, int count, int splits, float *partials,
                                     int32_t *counters, cudaStream_t stream) {
    const size_t bytes = decode_mma_shape<DP, STAGES>::tile_bytes;
    cudaError_t status = cudaFuncSetAttribute(decode_mma_kernel<T, DP, STAGES>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (status != cudaSuccess) return status;
    const dim3 grid(splits, a.num_kv_heads * ((a.group + MMA_HEADS - 1) / MMA_HEADS), count);
    decode_mma_kernel<T, DP, STAGES><<<grid, DECODE_THREADS, bytes, stream>>>(a, generation, splits, partials, counters);
    return cudaGetLastError();
}

/*
 * 3 buffers a warp (2 chunks in flight while it computes on the third) where two blocks of them fit
 * a multiprocessor (sm_90's 228 KB at head sizes up to 128), else 2 (1 in flight; 2 or 3 blocks a
 * multiprocessor). Measured on an H200 at B = 64: 3 stages (with splits chosen for 264 slots) 2%
 * faster than 2 (3 blocks, 396 slots); 4 stages (1 block) and L2 prefetching slower. The stages
 * change only the buffering, not the result.
 */
template <typename T, int DP>
cudaError_t launch_decode_mma(const step_args &a, const int32_t *generation, int count, int splits, float *partials,
                              int32_t *counters, cudaStream_t stream) {
    int device = 0, shared = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&shared, cudaDevAttrMaxSharedMemoryPerMultiprocessor, device) != cudaSuccess) {
        return cudaGetLastError();
    }
    if (2 * (decode_mma_shape<DP, 3>::tile_bytes + 2048) <= (size_t)shared) {
        return launch_decode_mma_stages<T, DP, 3>(a, generation, count, splits, partials, counters, stream);
    }
    return launch_decode_mma_stages<T, DP, 2>(a, generation, count, splits, partials, counters, stream);
}

/* Head sizes padded to a multiple of 32, as in the context kernel. */
template <typename T>
cudaError_t launch_decode(const step_args &a, const int32_t *generation, int count, int splits, float *partials,
                          int32_t *counters, cudaStream_t stream) {
    if constexpr (std::is_same_v<T, float>) {
        const int group = decode_heads(std::min(a.group, 8));
        if (group == 1) return launch_decode_fp32<1>(a, generation, count, splits, partials, stream);
        if (group == 2) return launch_decode_fp32<2>(a, generation, count, splits, partials, stream);
        if (group <= 4) return launch_decode_fp32<4>(a, generation, count, splits, partials, stream);
        return launch_decode_fp32<8>(a, generation, count, splits, partials, stream);
    } else {
        switch ((a.head_size + 31) / 32 * 32) {
        case 32: return launch_decode_mma<T, 32>(a, generation, count, splits, partials, counters, stream);
        case 64: return launch_decode_mma<T, 64>(a, generation, count, splits, partials, counters, stream);
        case 96: return launch_decode_mma<T, 96>(a, generation, count, splits, partials, counters, stream);
        case 128: return launch_decode_mma<T, 128>(a, generation, count, splits, partials, counters, stream);
        case 160: return launch_decode_mma<T, 160>(a, generation, count, splits, partials, counters, stream);
        case 192: return launch_decode_mma<T, 192>(a, generation, count, splits, partials, counters, stream);
        case 224: return launch_decode_mma<T, 224>(a, generation, count, splits, partials, counters, stream);
        default: return launch_decode_mma<T, 256>(a, generation, count, splits, partials, counters, stream);
        }
    }
}

template <typename T>
int32_t run(const step_args &a, const trtllm4j_attention_step *s, int32_t type_id, const context_tile *tiles,
            int tile_count, const wgmma_maps *wgmma, bool context_prepass, const int32_t *generation, int generation_count,
            int splits, float *partials, int32_t *counters, cudaStream_t stream) {
    /*
     * The 16-bit decode kernel writes its own new K and V; the pre-pass writes every other new token's,
     * but for what the wgmma kernel writes (wgmma->kernel_writes), and context tokens need it at all
     * only where context_prepass.
     */
    const bool fused_decode = !std::is_same_v<T, float>;
    const int mask = (generation_count > 0 && !fused_decode ? 1 << TRTLLM4J_REQUEST_GENERATION : 0) |
                     (tile_count > 0 && context_prepass ? 1 << TRTLLM4J_REQUEST_CONTEXT : 0);
    /*
     * Only K to rotate (the wgmma kernel writes V, so there is RoPE, and rotates Q, which the plan allows
     * for GPT-J pairs or GPT-NeoX over the whole head with 16-byte aligned tables; no generation token
     * here needs a pre-pass), in whole 16-byte pieces.
     */
    const bool keys_only = mask == 1 << TRTLLM4J_REQUEST_CONTEXT && wgmma && wgmma->kernel_writes == KERNEL_WRITES_V &&
                           a.q_rotated == nullptr && a.rotary_dim % (2 * vec_width<T>::value) == 0;
    if (keys_only) {
        const int64_t threads = (int64_t)s->num_tokens * (a.head_size / vec_width<T>::value / (a.rope == 2 ? 2 : 1));
        const unsigned blocks = (unsigned)((threads + 255) / 256);
        /* A thread holds up to 8 heads' pieces (GPT-NeoX: pairs of pieces) at once. */
        if (a.rope == 2) rotate_keys_kernel<T, 2, 8><<<blocks, 256, 0, stream>>>(a, s->batch_size, wgmma->key_tile);
        else rotate_keys_kernel<T, 1, 8><<<blocks, 256, 0, stream>>>(a, s->batch_size, wgmma->key_tile);
        cudaError_t status = cudaGetLastError();
        if (status != cudaSuccess) return cuda_failure("rotate_keys_kernel launch", status);
    } else if (mask != 0) {
        /* Threads for the most pieces a token has, PREPARE_UNROLL each: small blocks for K and V alone, more of them a multiprocessor. */
        const int pieces = (a.q_rotated != nullptr && tile_count > 0 ? a.num_heads + 2 * a.num_kv_heads : 2 * a.num_kv_heads) *
                           (a.head_size / vec_width<T>::value);
        const int threads = std::min<int>(PREPARE_THREADS, (pieces + 32 * PREPARE_UNROLL - 1) / (32 * PREPARE_UNROLL) * 32);
        prepare_kernel<T><<<s->num_tokens, threads, threads * PREPARE_UNROLL * sizeof(uint4), stream>>>(
            a, s->batch_size, mask, wgmma ? wgmma->kernel_writes : 0, wgmma ? wgmma->key_tile : 1);
        cudaError_t status = cudaGetLastError();
        if (status != cudaSuccess) return cuda_failure("prepare_kernel launch", status);
    }
    if (tile_count > 0) {
        cudaError_t status;
        const char *kernel = "context_mma_kernel";
        if constexpr (std::is_same_v<T, float>) {
            context_simt_kernel<<<dim3(tile_count, a.num_heads), SIMT_WARPS * 32, 0, stream>>>(a, tiles);
            status = cudaGetLastError();
            kernel = "context_simt_kernel";
        } else if (wgmma) {
            status = launch_context_wgmma(a, type_id, *wgmma, tiles, tile_count, stream);
            kernel = "context_wgmma_kernel";
        } else {
            status = launch_context_mma(a, type_id, tiles, tile_count, stream);
        }
        if (status != cudaSuccess) return cuda_failure(kernel, status);
    }
    if (generation_count > 0) {
        cudaError_t status = launch_decode<T>(a, generation, generation_count, splits, partials, counters, stream);
        if (status != cudaSuccess) return cuda_failure("decode kernels launch", status);
    }
    return TRTLLM4J_OK;
}

} // namespace

extern "C" __attribute__((visibility("default"))) int64_t
trtllm4j_cuda_workspace_size(const trtllm4j_params *params, const trtllm4j_attention_step *step) {
    return layout_of(params, step).total;
}

extern "C" __attribute__((visibility("default"))) int32_t
trtllm4j_cuda_attention_enqueue(const trtllm4j_params *p, const trtllm4j_attention_step *s) {
    const struct {
        const char *name;
        const void *data;
    } tensors[] = {{"qkv", s->qkv.data}, {"kv_cache", s->kv_cache.data}, {"context", s->context.data}};
    for (const auto &t : tensors) {
        if (!aligned16(t.data)) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s: device address %p is not 16-byte aligned", t.name, t.data);
        }
    }
    const workspace_layout w = layout_of(p, s);
    const int32_t *input_lengths = static_cast<const int32_t *>(s->input_lengths.data);
    const int32_t *past_lengths = static_cast<const int32_t *>(s->past_lengths.data);
    const int32_t *request_types = static_cast<const int32_t *>(s->host_request_types.data);

    /*
     * The bookkeeping goes to the device in one copy from pageable host memory: cudaMemcpyAsync
     * copies such a source into the driver's own staging memory before it returns, so the caller's
     * arrays (valid only during this call) and this vector may go right after, and the copy stays
     * ordered on the stream before the kernels. Only the tiles in use are copied: a larger copy
     * (64 KB of tile slots for 8,192 tokens) made the driver wait for the stream first, 3 ms of host
     * time in each prefill enqueue on an H200.
     */
    std::vector<unsigned char> staged;
    try {
        staged.assign(w.copied, 0);
    } catch (const std::bad_alloc &) {
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "enqueue: no host memory for %lld bytes of bookkeeping", (long long)w.copied);
    }
    seq_meta *sequences = reinterpret_cast<seq_meta *>(staged.data() + w.sequences);
    context_tile *tiles = reinterpret_cast<context_tile *>(staged.data() + w.tiles);
    int32_t *generation = reinterpret_cast<int32_t *>(staged.data() + w.generation);
    int tile_count = 0, generation_count = 0;
    int32_t start = 0, most_keys = 1, longest_context = 0;
    bool context_grown_base = false; /* a context sequence's RoPE angles from a grown base, not a table */
    bool fresh_contexts = true;      /* every context sequence starts at position 0 */
    const int long_context = trtllm4j_long_rope_uses_long(p, s->batch_size, request_types, past_lengths, input_lengths,
                                                          TRTLLM4J_REQUEST_CONTEXT);
    const int long_generation = trtllm4j_long_rope_uses_long(p, s->batch_size, request_types, past_lengths,
                                                             input_lengths, TRTLLM4J_REQUEST_GENERATION);
    for (int b = 0; b < s->batch_size; b++) {
        const int32_t dynamic_length = trtllm4j_rotary_dynamic_length(request_types[b], past_lengths[b], input_lengths[b]);
        const int grows = trtllm4j_rotary_grows_base(p, dynamic_length);
        sequences[b] = {start, input_lengths[b], past_lengths[b], request_types[b],
                        request_types[b] == TRTLLM4J_REQUEST_GENERATION ? long_generation : long_context, grows,
                        grows ? trtllm4j_rotary_grown_base(p, dynamic_length) : 0.0};
        start += input_lengths[b];
        if (request_types[b] == TRTLLM4J_REQUEST_GENERATION) {
            generation[generation_count++] = b;
            most_keys = std::max(most_keys, key_range(past_lengths[b], s->max_attention_window, s->sink_token_length).count);
        } else {
            longest_context = std::max(longest_context, past_lengths[b] + input_lengths[b]);
            context_grown_base = context_grown_base || grows;
            fresh_contexts = fresh_contexts && past_lengths[b] == 0;
        }
    }
    step_args a;
    a.qkv = s->qkv.data;
    a.kv_cache = s->kv_cache.data;
    a.context = s->context.data;
    a.rotary_cos_sin = static_cast<const float *>(s->rotary_cos_sin.data);
    a.long_rope_rotary_cos_sin = static_cast<const float *>(s->long_rope_rotary_cos_sin.data);
    a.alibi_slopes = static_cast<const float *>(s->alibi_slopes.data);
    a.sequences = reinterpret_cast<const seq_meta *>(static_cast<unsigned char *>(s->workspace.data) + w.sequences);
    a.q_rotated = p->type_id == TRTLLM4J_FLOAT32 ? nullptr : static_cast<unsigned char *>(s->workspace.data) + w.q_rotated;
    a.num_tokens = s->num_tokens;
    a.num_heads = p->num_heads;
    a.num_kv_heads = p->num_kv_heads;
    a.group = p->num_heads / p->num_kv_heads;
    a.head_size = p->head_size;
    a.rope = !trtllm4j_is_rope(p->position_embedding_type) ? 0 : p->position_embedding_type == POS_ROPE_GPTJ ? 1 : 2;
    a.rotary_dim = a.rope ? p->rotary_embedding_dim : 0;
    a.alibi = p->position_embedding_type == POS_ALIBI ? ALIBI_PLAIN
              : p->position_embedding_type == POS_ALIBI_WITH_SCALE ? ALIBI_WITH_SCALE
                                                                   : ALIBI_NONE;
    a.scale = 1.0f / (p->q_scaling * sqrtf((float)p->head_size));
    a.softcap = p->attn_logit_softcapping_scale;
    a.plain = a.alibi == ALIBI_NONE && !(a.softcap > 0);
    a.max_seq_len = s->max_seq_len;
    a.window = s->max_attention_window;
    a.sinks = s->sink_token_length;

    wgmma_maps maps;
    const bool wgmma = longest_context > 0 && context_wgmma_plan(a, p->type_id, s->batch_size, longest_context,
                                                                 context_grown_base, fresh_contexts, &maps);
    if (wgmma && maps.q_from_qkv) a.q_rotated = nullptr; /* the pre-pass leaves Q alone */
    /* Where the wgmma kernel writes K and V of whole key tiles and every context is whole tiles, context tokens skip the pre-pass. */
    bool context_prepass = !(wgmma && maps.kernel_writes == (KERNEL_WRITES_K | KERNEL_WRITES_V));
    for (int b = 0; b < s->batch_size && !context_prepass; b++) {
        context_prepass = request_types[b] != TRTLLM4J_REQUEST_GENERATION && input_lengths[b] % maps.key_tile != 0;
    }
    const int32_t context_tile_size = wgmma ? WGMMA_TILE : CONTEXT_TILE;
    for (int b = 0; b < s->batch_size; b++) {
        if (request_types[b] == TRTLLM4J_REQUEST_GENERATION) continue;
        for (int32_t t0 = 0; t0 < input_lengths[b]; t0 += context_tile_size) tiles[tile_count++] = {b, t0};
    }
    /* Tiles later in their sequence see more keys: start them first. */
    std::sort(tiles, tiles + tile_count, [&](const context_tile &x, const context_tile &y) {
        return past_lengths[x.sequence] + x.first_token > past_lengths[y.sequence] + y.first_token;
    });
    const int splits = decode_splits(p, generation_count, most_keys);

    cudaStream_t stream = static_cast<cudaStream_t>(s->stream);
    unsigned char *workspace = static_cast<unsigned char *>(s->workspace.data);
    cudaError_t status = cudaMemcpyAsync(workspace, staged.data(), w.tiles + tile_count * (int64_t)sizeof(context_tile),
                                         cudaMemcpyHostToDevice, stream);
    if (status != cudaSuccess) return cuda_failure("cudaMemcpyAsync of the step's bookkeeping", status);

    const context_tile *device_tiles = reinterpret_cast<const context_tile *>(workspace + w.tiles);
    const int32_t *device_generation = reinterpret_cast<const int32_t *>(workspace + w.generation);
    float *partials = reinterpret_cast<float *>(workspace + w.partials);
    int32_t *counters = reinterpret_cast<int32_t *>(workspace + w.counters);
    switch (p->type_id) {
    case TRTLLM4J_FLOAT16:
        return run<__half>(a, s, p->type_id, device_tiles, tile_count, wgmma ? &maps : nullptr, context_prepass, device_generation,
                           generation_count, splits, partials, counters, stream);
    case TRTLLM4J_BFLOAT16:
        return run<__nv_bfloat16>(a, s, p->type_id, device_tiles, tile_count, wgmma ? &maps : nullptr, context_prepass, device_generation,
                                  generation_count, splits, partials, counters, stream);
    default:
        return run<float>(a, s, p->type_id, device_tiles, tile_count, wgmma ? &maps : nullptr, context_prepass, device_generation,
                          generation_count, splits, partials, counters, stream);
    }
}
