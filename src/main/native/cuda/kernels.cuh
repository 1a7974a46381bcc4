/*
 * What the CUDA kernels share: the step as the device sees it, storage conversions, RoPE's angles,
 * the logit transform and the visibility rule, each written once so that every kernel computes the
 * CPU backend's function (src/main/native/cpu/attention.c).
 */
#ifndef TRTLLM4J_CUDA_KERNELS_CUH
#define TRTLLM4J_CUDA_KERNELS_CUH

#include <cuda.h> /* CUtensorMap: types only, the library does not link the driver */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "rotary.h"

/*
 * Per-sequence bookkeeping in the workspace, copied from the host arrays once per step, with the
 * sequence's RoPE rule decided on the host by common/rotary.h: which table, or a grown base.
 */
struct seq_meta {
    int32_t token_start, input_length, past_length, request_type;
    int32_t long_rope;  /* long_rope: this sequence's group uses the long-factor table */
    int32_t grows_base; /* dynamic NTK past max positions: angles from grown_base, not a table */
    double grown_base;
};

/* A context tile: query tokens [first_token, first_token + CONTEXT_TILE or WGMMA_TILE) of one sequence. */
struct context_tile {
    int32_t sequence, first_token;
};

/* Query tokens per context tile: the mma.sync kernel's, the wgmma kernel's. */
enum { CONTEXT_TILE = 64, WGMMA_TILE = 128 };
enum { ALIBI_NONE = 0, ALIBI_PLAIN = 1, ALIBI_WITH_SCALE = 2 };

/* The step, by value in every kernel's parameters. */
struct step_args {
    const void *qkv;
    void *kv_cache;
    void *context;
    const float *rotary_cos_sin;           /* [positions][rotary_dim / 2][cos, sin] */
    const float *long_rope_rotary_cos_sin; /* long_rope's long factors; NULL otherwise */
    const float *alibi_slopes;
    const seq_meta *sequences;
    void *q_rotated;   /* 16-bit context steps: Q after RoPE, [num_heads][num_tokens][head_size], in the workspace;
                          NULL where the context kernel reads Q from qkv (context_wgmma_plan) */
    int32_t num_tokens;
    int32_t num_heads, num_kv_heads, group, head_size;
    int32_t rope;      /* 0: none, 1: GPT-J pairs (2i, 2i+1), 2: GPT-NeoX pairs (i, i + rotary_dim / 2) */
    int32_t rotary_dim;
    int32_t alibi;     /* ALIBI_* */
    float scale;       /* 1 / (q_scaling * sqrt(head_size)) */
    float softcap;     /* attn_logit_softcapping_scale, 0 when off */
    int32_t plain;     /* no ALiBi, no soft-capping: logits are q . k * scale */
    int32_t max_seq_len, window, sinks;
};

/* Elements of the storage type in one 16-byte access. */
template <typename T> struct vec_width { static constexpr int value = 16 / sizeof(T); };

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

/* Round to nearest even, as the CPU backend's stores do. */
template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* 16 bytes at p (16-byte aligned) as floats. */
template <typename T> __device__ __forceinline__ void load_vec(const T *p, float (&out)[vec_width<T>::value]) {
    uint4 raw = *reinterpret_cast<const uint4 *>(p);
    const T *e = reinterpret_cast<const T *>(&raw);
#pragma unroll
    for (int i = 0; i < vec_width<T>::value; i++) out[i] = to_float(e[i]);
}

__device__ __forceinline__ uint32_t smem_address(const void *p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

/* 16 bytes global -> shared without a register round trip; zero-filled when !valid. */
__device__ __forceinline__ void cp_async16(void *dst, const void *src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address(dst)), "l"(src),
                 "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() {
    asm volatile("cp.async.commit_group;\n" ::);
}
template <int N> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

/* Tensor-core fragments (mma.sync m16n8k16), shared by the context and decode kernels. */
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_address(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void *p) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(smem_address(p)));
}

/* c += a b for one m16n8k16 tile, float32 accumulators. */
template <typename T> __device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);
template <> __device__ __forceinline__ void mma16816<__half>(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <> __device__ __forceinline__ void mma16816<__nv_bfloat16>(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Two floats rounded to the storage type, the first in the low half. */
template <typename T> __device__ __forceinline__ uint32_t pack2(float lo, float hi);
template <> __device__ __forceinline__ uint32_t pack2<__half>(float lo, float hi) {
    __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}
template <> __device__ __forceinline__ uint32_t pack2<__nv_bfloat16>(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

/* The two values of the storage type in a 32-bit register as floats, the low half first. */
template <typename T> __device__ __forceinline__ float2 unpack2(uint32_t v);
template <> __device__ __forceinline__ float2 unpack2<__half>(uint32_t v) {
    return __half22float2(*reinterpret_cast<__half2 *>(&v));
}
template <> __device__ __forceinline__ float2 unpack2<__nv_bfloat16>(uint32_t v) {
    return __bfloat1622float2(*reinterpret_cast<__nv_bfloat162 *>(&v));
}

/* 1 / each of a thread's two rows' softmax sums, whose parts the 4 threads of a quad hold (mma fragments). */
__device__ __forceinline__ void row_inverses(const float (&row_sum)[2], float (&inverse)[2]) {
#pragma unroll
    for (int r = 0; r < 2; r++) {
        float sum = row_sum[r];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        inverse[r] = 1.0f / sum;
    }
}

/* exp(x) = exp2(x log2 e): the kernels' softmax runs on powers of 2. */
constexpr float LOG2E = 1.4426950408889634f;

/* 2^x by the multi-function unit (MUFU.EX2), subnormal results flushed to zero. */
__device__ __forceinline__ float exp2_approx(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

/* Whether a device address suits 16-byte loads. */
inline bool aligned16(const void *p) {
    return ((uintptr_t)p & 15) == 0;
}

/* Offsets, in elements, of a token's head in qkv and of a cache row. */
__device__ __forceinline__ int64_t qkv_offset(const step_args &a, int64_t token, int column_head) {
    return (token * (a.num_heads + 2 * a.num_kv_heads) + column_head) * a.head_size;
}
__device__ __forceinline__ int64_t cache_offset(const step_args &a, int b, int kv, int g, int64_t pos) {
    return ((((int64_t)b * 2 + kv) * a.num_kv_heads + g) * a.max_seq_len + pos) * a.head_size;
}

/*
 * cos and sin of RoPE pair `pair` at position `pos` of sequence sq: the one place every kernel
 * takes RoPE angles from, following common/rotary.h as the CPU backend does.
 */
/* Dynamic NTK past max positions, in double: rare, so kept out of line, away from the hot loops' registers. */
static __device__ __noinline__ float2 rope_grown_cos_sin(double base, int32_t rotary_dim, int32_t pos, int pair) {
    float2 cs;
    trtllm4j_rotary_grown_cos_sin(base, rotary_dim, pos, pair, &cs.x, &cs.y);
    return cs;
}

__device__ __forceinline__ float2 rope_cos_sin(const step_args &a, const seq_meta &sq, int32_t pos, int pair) {
    if (sq.grows_base) return rope_grown_cos_sin(sq.grown_base, a.rotary_dim, pos, pair);
    const float *table = sq.long_rope ? a.long_rope_rotary_cos_sin : a.rotary_cos_sin;
    return *reinterpret_cast<const float2 *>(table + ((int64_t)pos * (a.rotary_dim / 2) + pair) * 2);
}

/* The partner of feature i in its RoPE pair and whether i is the pair's first element; -1 when unrotated. */
__device__ __forceinline__ int rope_partner(const step_args &a, int i, int *pair, bool *first) {
    if (a.rope == 0 || i >= a.rotary_dim) return -1;
    int half = a.rotary_dim / 2;
    if (a.rope == 1) {
        *pair = i >> 1;
        *first = (i & 1) == 0;
        return i ^ 1;
    }
    *first = i < half;
    *pair = *first ? i : i - half;
    return *first ? i + half : i - half;
}

/* Feature i of x after RoPE at pos, given x[i] and x[partner]. */
__device__ __forceinline__ float rope_rotate(float xi, float xp, bool first, float2 cs) {
    return first ? xi * cs.x - xp * cs.y : xi * cs.x + xp * cs.y;
}

/* Scaled, soft-capped, ALiBi-biased logit, as the CPU backend's logit(); qk is the raw q . k. */
__device__ __forceinline__ float attention_logit(const step_args &a, float qk, float slope, int32_t key_pos,
                                                 int32_t query_pos) {
    float distance = (float)(key_pos - query_pos);
    if (a.alibi == ALIBI_WITH_SCALE) return (qk + slope * distance) * a.scale;
    float value = qk * a.scale;
    if (a.softcap > 0) value = a.softcap * tanhf(value / a.softcap);
    if (a.alibi == ALIBI_PLAIN) value += slope * distance;
    return value;
}

/* Whether the query at pos sees key_pos: causal, then the sinks plus the latest W - S positions. */
__device__ __forceinline__ bool key_visible(const step_args &a, int32_t pos, int32_t key_pos) {
    return key_pos >= 0 && key_pos <= pos && (key_pos < a.sinks || key_pos > pos - (a.window - a.sinks));
}

/* Offset, in elements, of a context token's rotated query head in q_rotated. */
__device__ __forceinline__ int64_t q_rotated_offset(const step_args &a, int64_t token, int head) {
    return ((int64_t)head * a.num_tokens + token) * a.head_size;
}

/*
 * Launchers of the tensor-core context kernels, float16 and bfloat16. Both read K and V from
 * kv_cache, which the step's pre-pass has written (attention.cu), and Q from q_rotated, which it also
 * writes, or (the wgmma kernel, without RoPE or rotating Q itself) straight from qkv; the wgmma
 * kernel may also take new keys and values that need no RoPE straight from qkv and write them to the
 * cache itself (wgmma_maps::kernel_writes).
 * context_mma.cu: mma.sync, any head size, every masking and logit rule; tiles of CONTEXT_TILE.
 */
cudaError_t launch_context_mma(const step_args &a, int32_t type_id, const context_tile *tiles, int tile_count,
                               cudaStream_t stream);

/*
 * context_wgmma.cu: warpgroup MMA with TMA loads, for sm_90a devices. context_wgmma_plan says whether
 * it takes this step (the device, the type, the head size, plain causal logits: no ALiBi, no
 * soft-capping, no window that bites) and, if so, encodes the tensor maps it loads from: kv_cache, and
 * Q from qkv (the pre-pass then need not copy Q) where there is no RoPE or the kernel rotates Q itself
 * (head sizes up to 128, GPT-J pairs or GPT-NeoX over the whole head, tables 16-byte aligned, no
 * context sequence of the step on a grown base: grown_base), else from q_rotated. Where every context
 * sequence of the step starts at position 0 (fresh_contexts), at head sizes 64 and 128, the kernel
 * loads the new V, and without RoPE the new K, from qkv and writes each whole key tile of them to
 * the cache itself, by TMA from the tile it loaded: the pre-pass then writes only what is left (the
 * last, partial tile of each sequence, and rotated K).
 * Its tiles are WGMMA_TILE query tokens.
 */
struct wgmma_maps {
    CUtensorMap q, kv;
    CUtensorMap new_kv; /* where kernel_writes: qkv's K and V heads, in boxes of a key tile's tokens */
    int32_t q_from_qkv; /* q maps qkv, [num_tokens][num_heads + 2 num_kv_heads][head_size]; else q_rotated */
    int32_t kernel_writes; /* KERNEL_WRITES_K | KERNEL_WRITES_V: in whole key tiles, the rest the pre-pass's */
    int32_t key_tile;      /* the kernel's key tile rows */
};
enum { KERNEL_WRITES_K = 1, KERNEL_WRITES_V = 2 };
/*
 * Whether a fresh context's key tile of key_tile positions from `first` lies whole in its input: the
 * tiles that kernel_writes covers, the rule the kernel's writes and the pre-pass's skips share.
 */
__host__ __device__ __forceinline__ bool whole_key_tile(int32_t first, int32_t key_tile, int32_t input_length) {
    return first + key_tile <= input_length;
}
bool context_wgmma_plan(const step_args &a, int32_t type_id, int batch_size, int32_t longest_context, bool grown_base,
                        bool fresh_contexts, wgmma_maps *maps);
cudaError_t launch_context_wgmma(const step_args &a, int32_t type_id, const wgmma_maps &maps, const context_tile *tiles,
                                 int tile_count, cudaStream_t stream);

#endif
