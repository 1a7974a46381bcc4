/*
 * The context phase on tensor cores with mma.sync (float16 and bfloat16, any GPU from sm_80): a
 * flash-attention kernel with an online softmax, so no [queries, keys] matrix ever reaches memory. A
 * block takes 64 query tokens of one sequence and one query head (16 rows per warp) and streams its
 * visible keys in tiles of BN. Q comes rotated from the workspace and K and V from kv_cache, where the
 * step's pre-pass has put this step's tokens (attention.cu), so no tile is rotated here.
 *
 * Key tiles are aligned to the sequence's first new token (tile n holds positions past + n BN on).
 */
#include <type_traits>

#include "kernels.cuh"

namespace {

constexpr int BM = CONTEXT_TILE; /* query rows per block */
constexpr int THREADS = 128;     /* 4 warps of 16 query rows */
constexpr int E = 8;             /* elements of 16 bytes */

__device__ __forceinline__ int floor_div(int a, int b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

template <typename T, int DP, int BN>
__global__ void __launch_bounds__(THREADS) context_mma_kernel(const step_args a, const context_tile *__restrict__ tiles) {
    constexpr int LD = DP + 8; /* +16 bytes a row: ldmatrix's 8 rows fall in distinct banks */
    extern __shared__ __align__(16) unsigned char smem[];
    T *q_s = reinterpret_cast<T *>(smem); /* [BM][LD] */
    T *k_s = q_s + BM * LD;               /* [2][BN][LD] */
    T *v_s = k_s + 2 * BN * LD;           /* [2][BN][LD] */

    const context_tile tile = tiles[blockIdx.x];
    const int b = tile.sequence, t0 = tile.first_token;
    const int h = blockIdx.y, g = h / a.group;
    const seq_meta sq = a.sequences[b];
    const int D = a.head_size, nvec = D / E;
    const int rows = min(BM, sq.input_length - t0);
    const int32_t past = sq.past_length, first_pos = past + t0, last_pos = first_pos + rows - 1;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const T *q_rotated = static_cast<const T *>(a.q_rotated);
    const T *cache = static_cast<const T *>(a.kv_cache);
    const int32_t key_end = past + sq.input_length; /* positions [0, key_end) are in the cache */

    /* Features [D, DP) stay zero in every tile, so they add nothing to Q K^T or P V. */
    if (DP > D) {
        const int pad = (DP - D) / E;
        for (int idx = tid; idx < (BM + 4 * BN) * pad; idx += THREADS) {
            int r = idx / pad, c = idx - r * pad;
            *reinterpret_cast<uint4 *>(q_s + r * LD + D + c * E) = make_uint4(0, 0, 0, 0);
        }
    }
    for (int idx = tid; idx < BM * nvec; idx += THREADS) {
        int r = idx / nvec, c = idx - r * nvec;
        bool valid = r < rows;
        cp_async16(q_s + r * LD + c * E, q_rotated + q_rotated_offset(a, sq.token_start + t0 + (valid ? r : 0), h) + c * E, valid);
    }
    cp_async_commit();

    /* Key tile n holds positions [past + n BN, past + (n + 1) BN). */
    const int32_t window_first = first_pos - (a.window - a.sinks) + 1; /* the oldest non-sink key any row sees */
    auto tile_seen = [&](int n) {
        int32_t k0 = past + n * BN, first = max(0, k0), last = min(k0 + BN - 1, last_pos);
        return first <= last && ((a.sinks > 0 && first < a.sinks) || last >= window_first);
    };
    const int n_max = (t0 + rows - 1) / BN;
    auto next_tile = [&](int n) {
        n++;
        while (n <= n_max && !tile_seen(n)) n = max(n + 1, floor_div(window_first - past, BN));
        return n;
    };
    auto load_kv = [&](int n, int buf) {
        T *kd = k_s + buf * BN * LD, *vd = v_s + buf * BN * LD;
        for (int idx = tid; idx < BN * nvec; idx += THREADS) {
            int r = idx / nvec, c = idx - r * nvec;
            int32_t pos = past + n * BN + r;
            bool valid = pos >= 0 && pos < key_end;
            cp_async16(kd + r * LD + c * E, cache + cache_offset(a, b, 0, g, valid ? pos : 0) + c * E, valid);
            cp_async16(vd + r * LD + c * E, cache + cache_offset(a, b, 1, g, valid ? pos : 0) + c * E, valid);
        }
    };

    int n = next_tile(-((past + BN - 1) / BN) - 1);
    if (n <= n_max) load_kv(n, 0);
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();

    float o[DP / 8][4];
#pragma unroll
    for (int i = 0; i < DP / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.0f;
    float row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f};
    const int32_t pos0 = first_pos + warp * 16 + lane / 4, pos1 = pos0 + 8; /* this thread's two query rows */
    const float slope = a.alibi != ALIBI_NONE ? a.alibi_slopes[h] : 0.0f;

    for (int buf = 0; n <= n_max; buf ^= 1) {
        const int nn = next_tile(n);
        if (nn <= n_max) load_kv(nn, buf ^ 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        T *kb = k_s + buf * BN * LD, *vb = v_s + buf * BN * LD;
        const int32_t k_base = past + n * BN;

        /* S = Q K^T for this warp's 16 rows and the tile's BN keys. */
        float s[BN / 8][4];
#pragma unroll
        for (int i = 0; i < BN / 8; i++) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
#pragma unroll
        for (int k0 = 0; k0 < DP; k0 += 16) {
            uint32_t qa[4];
            ldmatrix_x4(qa, q_s + (warp * 16 + (lane % 8) + ((lane / 8) & 1) * 8) * LD + k0 + (lane / 16) * 8);
#pragma unroll
            for (int np = 0; np < BN / 16; np++) {
                uint32_t kf[4];
                ldmatrix_x4(kf, kb + (np * 16 + (lane % 8) + (lane / 16) * 8) * LD + k0 + ((lane / 8) & 1) * 8);
                mma16816<T>(s[2 * np], qa, kf[0], kf[1]);
                mma16816<T>(s[2 * np + 1], qa, kf[2], kf[3]);
            }
        }

        /*
         * Logits and mask. A tile that every row sees whole, with plain logits (most of a long prompt's),
         * takes a path compiled apart: one multiply a score, no mask or logit adjustments.
         */
        const bool unmasked = k_base >= 0 && k_base + BN - 1 <= first_pos &&
                              (k_base + BN - 1 < a.sinks || k_base > last_pos - (a.window - a.sinks));
        float tile_max[2] = {row_max[0], row_max[1]};
        auto logits = [&](auto plain_whole_tile) {
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float x = s[nt][e] * a.scale;
                    if constexpr (!decltype(plain_whole_tile)::value) {
                        const int32_t j = k_base + nt * 8 + (lane % 4) * 2 + (e & 1);
                        const int32_t pos = e < 2 ? pos0 : pos1;
                        if (!a.plain) x = attention_logit(a, s[nt][e], slope, j, pos);
                        if (!unmasked && !key_visible(a, pos, j)) x = -INFINITY;
                    }
                    s[nt][e] = x;
                    tile_max[e / 2] = fmaxf(tile_max[e / 2], x);
                }
            }
        };
        if (unmasked && a.plain) logits(std::true_type{});
        else logits(std::false_type{});
        float correction[2], tile_sum[2] = {0.0f, 0.0f};
#pragma unroll
        for (int r = 0; r < 2; r++) {
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
            correction[r] = tile_max[r] == -INFINITY ? 1.0f : exp2f((row_max[r] - tile_max[r]) * LOG2E);
            row_max[r] = tile_max[r];
        }
#pragma unroll
        for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int r = e / 2;
                /* One FFMA and one ex2 a weight: exp2f's exact path took 16% longer at 2 x 4096, D 128 on an H200. */
                float w = row_max[r] == -INFINITY ? 0.0f : exp2_approx(fmaf(s[nt][e], LOG2E, -row_max[r] * LOG2E));
                s[nt][e] = w;
                tile_sum[r] += w;
            }
        }
        row_sum[0] = row_sum[0] * correction[0] + tile_sum[0];
        row_sum[1] = row_sum[1] * correction[1] + tile_sum[1];
#pragma unroll
        for (int i = 0; i < DP / 8; i++) {
            o[i][0] *= correction[0];
            o[i][1] *= correction[0];
            o[i][2] *= correction[1];
            o[i][3] *= correction[1];
        }

        /* O += P V: P's accumulator layout is already the A operand's layout. */
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
            uint32_t pa[4] = {pack2<T>(s[2 * kk][0], s[2 * kk][1]), pack2<T>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int np = 0; np < DP / 16; np++) {
                uint32_t vf[4];
                ldmatrix_x4_trans(vf, vb + (kk * 16 + (lane % 8) + ((lane / 8) & 1) * 8) * LD + np * 16 + (lane / 16) * 8);
                mma16816<T>(o[2 * np], pa, vf[0], vf[1]);
                mma16816<T>(o[2 * np + 1], pa, vf[2], vf[3]);
            }
        }
        __syncthreads(); /* the tile's buffer is refilled two iterations on */
        n = nn;
    }
    cp_async_wait<0>();

    /* Normalise; stage the warp's 16 rows in its own rows of q_s, then store them 16 bytes at a time. */
    float inverse[2];
    row_inverses(row_sum, inverse);
    __syncwarp();
    T *staged = q_s + warp * 16 * LD;
#pragma unroll
    for (int i = 0; i < DP / 8; i++) {
        const int col = i * 8 + (lane % 4) * 2;
        *reinterpret_cast<uint32_t *>(staged + (lane / 4) * LD + col) = pack2<T>(o[i][0] * inverse[0], o[i][1] * inverse[0]);
        *reinterpret_cast<uint32_t *>(staged + (lane / 4 + 8) * LD + col) = pack2<T>(o[i][2] * inverse[1], o[i][3] * inverse[1]);
    }
    __syncwarp();
    T *context = static_cast<T *>(a.context);
    for (int idx = lane; idx < 16 * nvec; idx += 32) {
        int r = idx / nvec, c = idx - r * nvec;
        if (warp * 16 + r >= rows) continue;
        int64_t token = sq.token_start + t0 + warp * 16 + r;
        *reinterpret_cast<uint4 *>(context + (token * a.num_heads + h) * D + c * E) =
            *reinterpret_cast<const uint4 *>(staged + r * LD + c * E);
    }
}

template <typename T, int DP>
cudaError_t launch(const step_args &a, const context_tile *tiles, int tile_count, cudaStream_t stream) {
    constexpr int BN = DP <= 128 ? 64 : 32; /* keeps S and O in registers at the larger head sizes */
    constexpr int bytes = (BM + 4 * BN) * (DP + 8) * (int)sizeof(T);
    cudaError_t status = cudaFuncSetAttribute(context_mma_kernel<T, DP, BN>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (status != cudaSuccess) return status;
    context_mma_kernel<T, DP, BN><<<dim3(tile_count, a.num_heads), THREADS, bytes, stream>>>(a, tiles);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_for_head_size(const step_args &a, const context_tile *tiles, int tile_count, cudaStream_t stream) {
    /* Head sizes padded to a multiple of 32: 8 kernels cover the plugin's 14 head sizes. */
    switch ((a.head_size + 31) / 32 * 32) {
    case 32: return launch<T, 32>(a, tiles, tile_count, stream);
    case 64: return launch<T, 64>(a, tiles, tile_count, stream);
    case 96: return launch<T, 96>(a, tiles, tile_count, stream);
    case 128: return launch<T, 128>(a, tiles, tile_count, stream);
    case 160: return launch<T, 160>(a, tiles, tile_count, stream);
    case 192: return launch<T, 192>(a, tiles, tile_count, stream);
    case 224: return launch<T, 224>(a, tiles, tile_count, stream);
    default: return launch<T, 256>(a, tiles, tile_count, stream);
    }
}

} // namespace

cudaError_t launch_context_mma(const step_args &a, int32_t type_id, const context_tile *tiles, int tile_count,
                               cudaStream_t stream) {
    if (type_id == 1 /* TRTLLM4J_FLOAT16 */) return launch_for_head_size<__half>(a, tiles, tile_count, stream);
    return launch_for_head_size<__nv_bfloat16>(a, tiles, tile_count, stream);
}
