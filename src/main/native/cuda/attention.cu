/*
 * The CUDA attention step: bookkeeping into the workspace, then up to four launches on the step's
 * stream. A pre-pass over the new tokens (O(tokens), not O(tokens^2)) rotates K and writes it and V
 * to the cache and, for 16-bit context requests, rotates Q into the workspace. Context requests in
 * float16 and bfloat16 then run on tensor cores, reading Q from the workspace and K and V from the
 * cache: warpgroup MMA on sm_90a devices where the step allows it (context_wgmma.cu), else mma.sync
 * (context_mma.cu); float32 context requests take a simpler SIMT kernel. Generation requests run
 * a split-K (flash-decoding) kernel
 * that reads each cache entry once for all the query heads of its KV group (float16 and bfloat16:
 * K and V tiles staged through shared memory with cp.async; float32: direct loads), and a reduction.
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
    TILE_CHUNKS = 1024, /* 16-byte pieces of K (and as many of V) in one shared-memory tile of the 16-bit decode */
    MAX_SPLITS = 64,    /* decode blocks per (sequence, KV head block) */
    ALIGN = 256
};
/*
 * Decode blocks a step aims for: about 8 per multiprocessor of a 132-SM H100/H200, 2.6 waves of 3
 * resident blocks. A constant, not the device's SM count: the split count decides the result's last
 * bits, which must not depend on the GPU (nor differ between this backend and the TensorRT plugin).
 * Both settings can be overridden at build time (-D) to compare variants.
 */
#ifndef DECODE_TARGET_BLOCKS
#define DECODE_TARGET_BLOCKS 1024 /* measured on an H200: 512, 2048 and 4096 were slower */
#endif
#ifndef DECODE_STAGES
#define DECODE_STAGES 2 /* shared-memory tiles of the 16-bit decode in flight or in use; 3 was slower (2 blocks a multiprocessor instead of 3) */
#endif

int64_t aligned(int64_t bytes) {
    return (bytes + ALIGN - 1) / ALIGN * ALIGN;
}

/* Query heads of one decode block and the blocks per KV head. */
int decode_heads(int group) {
    return group == 1 ? 1 : group == 2 ? 2 : group <= 4 ? 4 : 8;
}

/* 16-byte pieces per cache row in the 16-bit decode's tiles: D / 8 rounded up to a power of two, at least 8. */
int decode_row_chunks(int head_size) {
    int chunks = 8;
    while (chunks < head_size / 8) chunks *= 2;
    return chunks;
}

/* Keys per decode tile: the 16-bit kernel's tile rows, or the float32 kernel's chunk. */
int decode_tile_keys(const trtllm4j_params *p) {
    return p->type_id == TRTLLM4J_FLOAT32 ? DECODE_CHUNK : TILE_CHUNKS / decode_row_chunks(p->head_size);
}

/*
 * Splits of one sequence's keys among decode blocks, before rounding: enough blocks for
 * DECODE_TARGET_BLOCKS in all, at most MAX_SPLITS, at most one per tile of the longest sequence.
 */
int64_t decode_split_bound(const trtllm4j_params *p, int64_t generation_count, int64_t most_keys) {
    const int tile = decode_tile_keys(p);
    const int64_t tiles = std::max<int64_t>(1, (most_keys + tile - 1) / tile);
    const int group = p->num_heads / p->num_kv_heads, ng = decode_heads(std::min(group, 8));
    const int64_t blocks = std::max<int64_t>(1, generation_count * p->num_kv_heads * ((group + ng - 1) / ng));
    return std::min<int64_t>({MAX_SPLITS, tiles, std::max<int64_t>(1, (DECODE_TARGET_BLOCKS + blocks - 1) / blocks)});
}

/* The splits a step uses: the bound, less those that rounding the tiles per split would leave empty. */
int decode_splits(const trtllm4j_params *p, int64_t generation_count, int64_t most_keys) {
    const int tile = decode_tile_keys(p);
    const int64_t tiles = std::max<int64_t>(1, (most_keys + tile - 1) / tile);
    const int64_t per_split = (tiles + decode_split_bound(p, generation_count, most_keys) - 1) /
                              decode_split_bound(p, generation_count, most_keys);
    return (int)((tiles + per_split - 1) / per_split);
}

/* Where things lie in the workspace: bookkeeping (copied in one piece), the decode partials, rotated Q. */
struct workspace_layout {
    int64_t sequences, tiles, generation, copied, partials, q_rotated, total;
};

workspace_layout layout_of(const trtllm4j_params *p, const trtllm4j_attention_step *s) {
    workspace_layout w;
    w.sequences = 0;
    w.tiles = aligned((int64_t)s->batch_size * sizeof(seq_meta));
    /* A context tile holds at least one token, so num_tokens bounds their count. */
    w.generation = w.tiles + aligned((int64_t)s->num_tokens * sizeof(context_tile));
    w.copied = w.generation + (int64_t)s->batch_size * 4;
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

/*
 * For every token whose request type is in type_mask: rotates K and writes it and V to the cache;
 * for a context token of a 16-bit step, also rotates its query heads into q_rotated. Rounded to the
 * storage type once, as the cache holds them, so that every kernel reads what the CPU backend computes.
 */
template <typename T>
__global__ void prepare_kernel(const step_args a, int batch_size, int type_mask) {
    const int64_t token = blockIdx.x;
    int lo = 0, hi = batch_size - 1; /* the last sequence starting at or before token */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (a.sequences[mid].token_start <= token) lo = mid;
        else hi = mid - 1;
    }
    const seq_meta sq = a.sequences[lo];
    if (!(type_mask & (1 << sq.request_type))) return;
    const int32_t pos = sq.past_length + (int32_t)(token - sq.token_start);
    const bool queries = a.q_rotated != nullptr && sq.request_type == TRTLLM4J_REQUEST_CONTEXT;
    const int first_column = queries ? 0 : a.num_heads; /* column heads of qkv: Q, then K, then V */
    constexpr int E = vec_width<T>::value;              /* head sizes are multiples of 8: whole 16-byte pieces */
    const int D = a.head_size, pieces = D / E, half = a.rotary_dim / 2;
    const T *row = static_cast<const T *>(a.qkv) + qkv_offset(a, token, 0);
    T *cache = static_cast<T *>(a.kv_cache);
    /* The usual case, a table whose pairs of a piece are 16-byte aligned and contiguous: whole pieces of angles. */
    const float *table = sq.long_rope ? a.long_rope_rotary_cos_sin : a.rotary_cos_sin;
    const bool whole_pieces = a.rope != 0 && !sq.grows_base && half % E == 0 && ((uintptr_t)table & 15) == 0;
    const float *angles = whole_pieces ? table + (int64_t)pos * half * 2 : nullptr; /* [half][cos, sin] at pos */
    for (int idx = first_column * pieces + threadIdx.x; idx < (a.num_heads + 2 * a.num_kv_heads) * pieces; idx += blockDim.x) {
        const int column = idx / pieces, i0 = (idx - column * pieces) * E;
        const T *head = row + column * D;
        uint4 piece = *reinterpret_cast<const uint4 *>(head + i0);
        if (column < a.num_heads + a.num_kv_heads && i0 < a.rotary_dim && whole_pieces) {
            T *x = reinterpret_cast<T *>(&piece);
            float in[E], cs[2 * E];
#pragma unroll
            for (int e = 0; e < E; e++) in[e] = to_float(x[e]);
            if (a.rope == 1) {
                /* GPT-J: pairs (2p, 2p + 1) inside the piece, pairs i0 / 2 on. */
#pragma unroll
                for (int v = 0; v < E / 4; v++) *reinterpret_cast<float4 *>(cs + 4 * v) = reinterpret_cast<const float4 *>(angles + i0)[v];
#pragma unroll
                for (int p = 0; p < E / 2; p++) {
                    const float2 c = make_float2(cs[2 * p], cs[2 * p + 1]);
                    x[2 * p] = from_float<T>(rope_rotate(in[2 * p], in[2 * p + 1], true, c));
                    x[2 * p + 1] = from_float<T>(rope_rotate(in[2 * p + 1], in[2 * p], false, c));
                }
            } else {
                /* GPT-NeoX: the partners are the piece half a rotary dimension away, pairs i0 mod half on. */
                const bool first = i0 < half;
                const int pair0 = first ? i0 : i0 - half;
                uint4 other = *reinterpret_cast<const uint4 *>(head + (first ? i0 + half : i0 - half));
                const T *y = reinterpret_cast<const T *>(&other);
#pragma unroll
                for (int v = 0; v < E / 2; v++) *reinterpret_cast<float4 *>(cs + 4 * v) = reinterpret_cast<const float4 *>(angles + 2 * pair0)[v];
#pragma unroll
                for (int e = 0; e < E; e++) {
                    x[e] = from_float<T>(rope_rotate(in[e], to_float(y[e]), first, make_float2(cs[2 * e], cs[2 * e + 1])));
                }
            }
        } else if (column < a.num_heads + a.num_kv_heads && i0 < a.rotary_dim) {
            T *x = reinterpret_cast<T *>(&piece);
#pragma unroll
            for (int e = 0; e < E; e++) {
                int pair;
                bool first;
                const int partner = rope_partner(a, i0 + e, &pair, &first);
                if (partner >= 0) {
                    x[e] = from_float<T>(rope_rotate(to_float(head[i0 + e]), to_float(head[partner]), first, rope_cos_sin(a, sq, pos, pair)));
                }
            }
        }
        T *dst = column < a.num_heads                    ? static_cast<T *>(a.q_rotated) + q_rotated_offset(a, token, column)
                 : column < a.num_heads + a.num_kv_heads ? cache + cache_offset(a, lo, 0, column - a.num_heads, pos)
                                                         : cache + cache_offset(a, lo, 1, column - a.num_heads - a.num_kv_heads, pos);
        *reinterpret_cast<uint4 *>(dst + i0) = piece;
    }
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
 * The 16-bit decode: one block per (generation sequence, KV head, up to NG of its query heads, split
 * of the keys), streaming K and V tiles of TILE_CHUNKS 16-byte pieces each through DECODE_STAGES
 * shared-memory buffers with cp.async, so that each block keeps tens of kilobytes of the cache in
 * flight while it computes on an earlier tile. Rows are padded to RC = decode_row_chunks(D) pieces,
 * so a tile holds TK = TILE_CHUNKS / RC keys, and every thread always takes 8 pieces of K for the
 * logits (its key's piece group tid) and 8 keys of one V column. Within each group of 8 pieces the
 * piece index is XORed with the group's index, so neither pass has shared-memory bank conflicts.
 */
__device__ __forceinline__ int swizzled(int piece) {
    return piece ^ ((piece >> 3) & 7);
}

template <typename T, int NG>
__global__ void __launch_bounds__(DECODE_THREADS, 2)
decode_tile_kernel(const step_args a, const int32_t *__restrict__ generation, int splits, int row_shift,
                   float *__restrict__ partials) {
    constexpr int E = 8;
    extern __shared__ __align__(16) uint4 tiles_s[]; /* [DECODE_STAGES][K, V][TILE_CHUNKS] */
    __shared__ __align__(16) float q_s[32 * NG * E + 16]; /* [piece][head][E], 4 floats more per 8 pieces */
    __shared__ float w_s[NG][128];
    __shared__ float max_s[NG], sum_s[NG], correction_s[NG];

    const int RC = 1 << row_shift, TK = TILE_CHUNKS >> row_shift, TPK = DECODE_THREADS / TK;
    const int split = blockIdx.x;
    const int head_blocks = (a.group + NG - 1) / NG;
    const int g = blockIdx.y / head_blocks;
    const int first_head = g * a.group + (blockIdx.y % head_blocks) * NG;
    const int heads = min(NG, (g + 1) * a.group - first_head);
    const int b = generation[blockIdx.z];
    const seq_meta sq = a.sequences[b];
    const int32_t pos = sq.past_length;
    const int D = a.head_size, VR = D / E, tid = threadIdx.x;
    const T *qkv = static_cast<const T *>(a.qkv);
    const T *k_cache = static_cast<const T *>(a.kv_cache) + cache_offset(a, b, 0, g, 0);
    const T *v_cache = static_cast<const T *>(a.kv_cache) + cache_offset(a, b, 1, g, 0);

    const key_range keys(pos, a.window, a.sinks);
    const int32_t tile_count = (keys.count + TK - 1) / TK, per_split = (tile_count + splits - 1) / splits;
    const int32_t begin = split * per_split * TK, end = min(keys.count, begin + per_split * TK);
    float *part = partials + (((int64_t)blockIdx.z * a.num_heads + first_head) * splits + split) * (D + 2);
    const int64_t head_stride = (int64_t)splits * (D + 2);
    if (begin >= end) {
        if (tid < heads) {
            part[tid * head_stride + D] = -INFINITY;
            part[tid * head_stride + D + 1] = 0.0f;
        }
        return;
    }
    const int tiles = (end - begin + TK - 1) / TK;

    /* Tile t's K and V pieces into buffer t % DECODE_STAGES; keys past the split and row padding stay unread. */
    auto load_tile = [&](int t) {
        uint4 *k_s = tiles_s + (t % DECODE_STAGES) * 2 * TILE_CHUNKS, *v_s = k_s + TILE_CHUNKS;
        const int32_t t0 = begin + t * TK, n = min(TK, end - t0), first = keys.at(t0);
        if (VR == RC && n == TK && keys.at(t0 + TK - 1) == first + TK - 1) {
            /* The usual tile: whole unpadded rows of consecutive positions, one contiguous block. */
            const T *k = k_cache + (int64_t)first * D, *v = v_cache + (int64_t)first * D;
#pragma unroll
            for (int j = 0; j < TILE_CHUNKS / DECODE_THREADS; j++) {
                const int piece = tid + j * DECODE_THREADS;
                cp_async16(k_s + swizzled(piece), k + piece * E, true);
                cp_async16(v_s + swizzled(piece), v + piece * E, true);
            }
            return;
        }
#pragma unroll
        for (int j = 0; j < TILE_CHUNKS / DECODE_THREADS; j++) {
            const int piece = tid + j * DECODE_THREADS, r = piece >> row_shift, c = piece & (RC - 1);
            if (r < n && c < VR) {
                const int64_t at = (int64_t)keys.at(t0 + r) * D + c * E;
                cp_async16(k_s + swizzled(piece), k_cache + at, true);
                cp_async16(v_s + swizzled(piece), v_cache + at, true);
            }
        }
    };
#pragma unroll
    for (int t = 0; t < DECODE_STAGES - 1; t++) {
        if (t < tiles) load_tile(t);
        cp_async_commit();
    }

    /* The block's queries, rotated (and scaled when plain), piece-major so a thread's 8 pieces sit together. */
    for (int idx = tid; idx < NG * D; idx += DECODE_THREADS) {
        const int hq = idx / D, i = idx - hq * D, c = i / E;
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
        q_s[(c * NG + hq) * E + (i - c * E) + (c >> 3) * 4] = x;
    }
    if (tid < NG) {
        max_s[tid] = -INFINITY;
        sum_s[tid] = 0.0f;
    }
    float slope[NG];
#pragma unroll
    for (int hq = 0; hq < NG; hq++) slope[hq] = a.alibi != ALIBI_NONE && hq < heads ? a.alibi_slopes[first_head + hq] : 0.0f;

    const int row = tid / TPK, part_of_row = tid - row * TPK; /* logits: key row, pieces 8 * part_of_row + [0, 8) */
    const int key_groups = DECODE_THREADS >> row_shift;      /* P V: column c of keys kg + key_groups * [0, 8) */
    const int kg = tid >> row_shift, column = tid & (RC - 1);
    float acc[NG][E];
#pragma unroll
    for (int hq = 0; hq < NG; hq++) {
#pragma unroll
        for (int e = 0; e < E; e++) acc[hq][e] = 0.0f;
    }

    for (int t = 0; t < tiles; t++) {
        cp_async_wait<DECODE_STAGES - 2>();
        __syncthreads(); /* tile t has landed for all threads; buffer (t - 1) % DECODE_STAGES is free */
        if (t + DECODE_STAGES - 1 < tiles) load_tile(t + DECODE_STAGES - 1);
        cp_async_commit();
        const uint4 *k_s = tiles_s + (t % DECODE_STAGES) * 2 * TILE_CHUNKS, *v_s = k_s + TILE_CHUNKS;
        const int32_t t0 = begin + t * TK, n = min(TK, end - t0);

        float dot[NG];
#pragma unroll
        for (int hq = 0; hq < NG; hq++) dot[hq] = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int c = part_of_row * 8 + i;
            if (c < VR) {
                float kv[E];
                const uint4 raw = k_s[tid * 8 + (i ^ (tid & 7))];
                const T *e8 = reinterpret_cast<const T *>(&raw);
#pragma unroll
                for (int e = 0; e < E; e++) kv[e] = to_float(e8[e]);
                const float *q = q_s + c * NG * E + (c >> 3) * 4;
#pragma unroll
                for (int hq = 0; hq < NG; hq++) {
                    const float4 q0 = *reinterpret_cast<const float4 *>(q + hq * E);
                    const float4 q1 = *reinterpret_cast<const float4 *>(q + hq * E + 4);
                    dot[hq] += q0.x * kv[0] + q0.y * kv[1] + q0.z * kv[2] + q0.w * kv[3] + q1.x * kv[4] + q1.y * kv[5] +
                               q1.z * kv[6] + q1.w * kv[7];
                }
            }
        }
        for (int o = TPK / 2; o > 0; o /= 2) {
#pragma unroll
            for (int hq = 0; hq < NG; hq++) dot[hq] += __shfl_xor_sync(0xffffffffu, dot[hq], o);
        }
        if (part_of_row == 0) {
            const int32_t j = keys.at(t0 + row);
#pragma unroll
            for (int hq = 0; hq < NG; hq++) {
                w_s[hq][row] = row >= n || hq >= heads ? -INFINITY
                               : a.plain                ? dot[hq]
                                                        : attention_logit(a, dot[hq], slope[hq], j, pos);
            }
        }
        __syncthreads();

        /* Online softmax: warp w updates heads w, w + 4 over the tile. */
        for (int hq = tid / 32; hq < NG; hq += DECODE_THREADS / 32) {
            const int lane = tid % 32;
            float x[4], tile_max = -INFINITY;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                x[i] = lane + 32 * i < TK ? w_s[hq][lane + 32 * i] : -INFINITY;
                tile_max = fmaxf(tile_max, x[i]);
            }
#pragma unroll
            for (int o = 16; o > 0; o /= 2) tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, o));
            const float old_max = max_s[hq], new_max = fmaxf(old_max, tile_max);
            float total = 0.0f;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                if (lane + 32 * i < TK) {
                    float w = new_max == -INFINITY ? 0.0f : expf(x[i] - new_max);
                    w_s[hq][lane + 32 * i] = w;
                    total += w;
                }
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

        if (column < VR) {
#pragma unroll
            for (int hq = 0; hq < NG; hq++) {
                const float correction = correction_s[hq];
#pragma unroll
                for (int e = 0; e < E; e++) acc[hq][e] *= correction;
            }
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int kk = kg + key_groups * i;
                if (kk < n) {
                    const uint4 raw = v_s[swizzled((kk << row_shift) + column)];
                    const T *e8 = reinterpret_cast<const T *>(&raw);
                    float vv[E];
#pragma unroll
                    for (int e = 0; e < E; e++) vv[e] = to_float(e8[e]);
#pragma unroll
                    for (int hq = 0; hq < NG; hq++) {
                        const float w = w_s[hq][kk];
#pragma unroll
                        for (int e = 0; e < E; e++) acc[hq][e] += w * vv[e];
                    }
                }
            }
        }
    }

    /* The key groups' sums, added in group order through the (now idle) tile buffers: atomics would
       make the result vary in its last bits from run to run, and the TensorRT plugin must equal this
       backend byte for byte. */
    cp_async_wait<0>();
    __syncthreads();
    float *red = reinterpret_cast<float *>(tiles_s); /* [key group][head][RC * E] */
    if (column < VR) {
#pragma unroll
        for (int hq = 0; hq < NG; hq++) {
            float4 *dst = reinterpret_cast<float4 *>(red + ((kg * NG + hq) << row_shift) * E + column * E);
            dst[0] = make_float4(acc[hq][0], acc[hq][1], acc[hq][2], acc[hq][3]);
            dst[1] = make_float4(acc[hq][4], acc[hq][5], acc[hq][6], acc[hq][7]);
        }
    }
    __syncthreads();
    for (int idx = tid; idx < heads * D; idx += DECODE_THREADS) {
        const int hq = idx / D, i = idx - hq * D;
        float value = 0.0f;
        for (int k = 0; k < key_groups; k++) value += red[((k * NG + hq) << row_shift) * E + i];
        part[hq * head_stride + i] = value;
    }
    if (tid < heads) {
        part[tid * head_stride + D] = max_s[tid];
        part[tid * head_stride + D + 1] = sum_s[tid];
    }
}

/* Combines the splits of one (generation sequence, query head) into its output row. */
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

template <typename T, int NG>
cudaError_t launch_decode(const step_args &a, const int32_t *generation, int count, int splits, float *partials,
                          cudaStream_t stream) {
    dim3 grid(splits, a.num_kv_heads * ((a.group + NG - 1) / NG), count);
    if constexpr (std::is_same_v<T, float>) {
        decode_split_kernel<T, NG><<<grid, DECODE_THREADS, 0, stream>>>(a, generation, splits, partials);
    } else {
        const size_t bytes = (size_t)DECODE_STAGES * 2 * TILE_CHUNKS * 16;
        cudaError_t raised =
            cudaFuncSetAttribute(decode_tile_kernel<T, NG>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
        if (raised != cudaSuccess) return raised;
        int row_shift = 3;
        while ((1 << row_shift) < decode_row_chunks(a.head_size)) row_shift++;
        decode_tile_kernel<T, NG><<<grid, DECODE_THREADS, bytes, stream>>>(a, generation, splits, row_shift, partials);
    }
    cudaError_t status = cudaGetLastError();
    if (status != cudaSuccess) return status;
    decode_reduce_kernel<T><<<dim3(1, a.num_heads, count), 128, 0, stream>>>(a, generation, splits, partials);
    return cudaGetLastError();
}

template <typename T>
int32_t run(const step_args &a, const trtllm4j_attention_step *s, int32_t type_id, const context_tile *tiles,
            int tile_count, const wgmma_maps *wgmma, const int32_t *generation, int generation_count, int splits, float *partials,
            cudaStream_t stream) {
    if (generation_count > 0 || tile_count > 0) {
        int mask = (generation_count > 0 ? 1 << TRTLLM4J_REQUEST_GENERATION : 0) |
                   (tile_count > 0 ? 1 << TRTLLM4J_REQUEST_CONTEXT : 0);
        prepare_kernel<T><<<s->num_tokens, 256, 0, stream>>>(a, s->batch_size, mask);
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
        const int group = decode_heads(std::min(a.group, 8));
        cudaError_t status;
        if (group == 1) status = launch_decode<T, 1>(a, generation, generation_count, splits, partials, stream);
        else if (group == 2) status = launch_decode<T, 2>(a, generation, generation_count, splits, partials, stream);
        else if (group <= 4) status = launch_decode<T, 4>(a, generation, generation_count, splits, partials, stream);
        else status = launch_decode<T, 8>(a, generation, generation_count, splits, partials, stream);
        if (status != cudaSuccess) return cuda_failure("decode kernels launch", status);
    }
    return TRTLLM4J_OK;
}

bool aligned16(const void *p) {
    return ((uintptr_t)p & 15) == 0;
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
     * ordered on the stream before the kernels.
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
    const bool wgmma = longest_context > 0 && context_wgmma_plan(a, p->type_id, s->batch_size, longest_context, &maps);
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
    cudaError_t status = cudaMemcpyAsync(workspace, staged.data(), w.copied, cudaMemcpyHostToDevice, stream);
    if (status != cudaSuccess) return cuda_failure("cudaMemcpyAsync of the step's bookkeeping", status);

    const context_tile *device_tiles = reinterpret_cast<const context_tile *>(workspace + w.tiles);
    const int32_t *device_generation = reinterpret_cast<const int32_t *>(workspace + w.generation);
    float *partials = reinterpret_cast<float *>(workspace + w.partials);
    switch (p->type_id) {
    case TRTLLM4J_FLOAT16:
        return run<__half>(a, s, p->type_id, device_tiles, tile_count, wgmma ? &maps : nullptr, device_generation, generation_count, splits, partials, stream);
    case TRTLLM4J_BFLOAT16:
        return run<__nv_bfloat16>(a, s, p->type_id, device_tiles, tile_count, wgmma ? &maps : nullptr, device_generation, generation_count, splits, partials, stream);
    default:
        return run<float>(a, s, p->type_id, device_tiles, tile_count, wgmma ? &maps : nullptr, device_generation, generation_count, splits, partials, stream);
    }
}
