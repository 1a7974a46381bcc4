/*
 * The context phase on Hopper (sm_90a), float16 and bfloat16, head sizes 64, 128 and 256: a
 * flash-attention kernel on warpgroup MMA (wgmma) with tiles loaded by the Tensor Memory Accelerator.
 *
 * The kernel is persistent: one block of 3 warpgroups per multiprocessor (at most), each looping over
 * work items of BM = 128 query tokens of one sequence and one query head. Warpgroup 0 is the
 * producer: one thread issues the TMA loads of an item's Q tile, then of each key tile's K and V into
 * STAGES shared-memory buffers, each signalled by an mbarrier with the bytes it expects; the
 * consumers release a stage's K on `k_empty` as soon as their Q K^T of it is done and its V on
 * `v_empty` after their P V, so that the next K loads while the softmax runs, and Q on `q_empty`
 * once their last Q K^T of the item is done (with ROTATE_Q, below, once Q is in registers), so that
 * the next item's Q and first key tiles load while they finish the current one's softmax, P V and
 * stores (the stages and phases run on from item to item). Warpgroups 1 and 2 each compute 64 query
 * rows: S = Q K^T by wgmma, K from shared memory, Q from there too or (ROTATE_Q) from registers,
 * the online softmax on S in registers (base 2, one FFMA and one ex2 a weight), then O += P V with P
 * from registers. Within a warpgroup, S of tile n is computed while P V of tile n - 1 still runs;
 * between the two, named barriers take turns at issuing Q K^T, so that one warpgroup's softmax
 * overlaps the other's GEMMs (FlashAttention-3's intra-warpgroup overlap, ping-pong and persistent
 * blocks). The causal mask is applied only on tiles that reach past a row's position. Heads run
 * fastest among the items, so the query heads of a KV group run together and share K and V through
 * L2. The producer describes each item in shared memory before it loads the item's Q, so that the
 * consumers take the next item from there and not through dependent loads from global memory.
 *
 * Shared-memory tiles are TMA boxes of 64 features (128 bytes a row) in the 128-byte swizzle, the
 * layout wgmma reads directly: K-major for Q and K, N-major (transposed) for V.
 *
 * K and V are read from kv_cache, written by the step's pre-pass (attention.cu), except where every
 * context sequence starts at position 0 (maps.kernel_writes; head sizes 64 and 128): then the new
 * V, and without RoPE the new K, come straight from qkv, and the item of a KV group's first query
 * head whose queries start a whole key tile writes that tile to the cache by TMA from the stage it
 * loaded, while the consumers read it: a store needs no registers, and the pre-pass is left with the
 * rotated K and the last, partial tile of each sequence (without RoPE, with nothing where lengths
 * are whole tiles). Q comes straight from
 * qkv without RoPE and, at D = 64 and 128 with angles from a table (ROTATE_Q), unrotated, to be
 * rotated in registers here, which spares the pre-pass a copy of Q (2 x 4096 tokens, D 128 with RoPE:
 * 0.507 -> 0.478 ms on an H200); otherwise rotated, from the workspace, where the pre-pass put it.
 * Rotated in shared memory instead, by the consumers or by the producer's idle warps, Q cost the
 * kernel what it saved the pre-pass (BENCHMARKS.md).
 *
 * A key tile may run past the sequence's last token into cache rows this step does not own; their
 * logits are masked, and their V rows are zeroed in shared memory before P V, so that whatever those
 * rows hold (NaN included) cannot reach the output through 0 x NaN.
 */
#include <cudaTypedefs.h> /* the encoder's signature, for the pointer the runtime hands out */

#include <type_traits>

#include "kernels.cuh"

namespace {

constexpr int BM = WGMMA_TILE; /* query rows per block: 64 per consumer warpgroup */
constexpr int THREADS = 384;   /* warpgroup 0 loads, warpgroups 1 and 2 compute */
constexpr int BOX = 64;        /* features per TMA box: 128 bytes, one row of the 128-byte swizzle */
/* Registers per thread after the split (setmaxnreg): the producer needs few, consumers hold S and O. */
constexpr int PRODUCER_REGISTERS = 40, CONSUMER_REGISTERS = 232;
static_assert(128 * PRODUCER_REGISTERS + 256 * CONSUMER_REGISTERS <= 65536, "one block's registers fit a multiprocessor");

/*
 * Key tile rows and pipeline stages per head size: S (BN / 2 floats) and O (D / 2) fit in registers.
 * A stage's K is free once both consumers' Q K^T of it is done, its V once their P V is, so stages
 * hide the loads: at D = 128, 3 stages (all that 227 KB of shared memory holds) instead of 2 took
 * 2 x 4096 tokens from 0.742 to 0.620 ms on an H200 when both waited for P V, and still save about 1%;
 * D = 256 has room for 2. At D = 64, 3, 4 and 5 stages came within 1% of each other in one run.
 * WRITES: whether the kernel may write a prompt's K and V (maps.kernel_writes); at D = 256 the code
 * for it, even unused, took the kernel from 807 to 839-848 us (2 x 4096 on an H200), so it is left out.
 */
template <int D> struct wgmma_config;
template <> struct wgmma_config<64> { static constexpr int BN = 128, STAGES = 5; static constexpr bool WRITES = true; };
template <> struct wgmma_config<128> { static constexpr int BN = 128, STAGES = 3; static constexpr bool WRITES = true; };
template <> struct wgmma_config<256> { static constexpr int BN = 64, STAGES = 2; static constexpr bool WRITES = false; };

/* Bytes of dynamic shared memory: Q, then STAGES buffers of K and of V, plus slack to align to 1024. */
template <typename T, int D> constexpr int shared_bytes() {
    return (BM * D + 2 * wgmma_config<D>::STAGES * wgmma_config<D>::BN * D) * (int)sizeof(T) + 1024;
}
static_assert(shared_bytes<__half, 64>() <= 227 * 1024 - 128 && shared_bytes<__half, 128>() <= 227 * 1024 - 128 &&
                  shared_bytes<__half, 256>() <= 227 * 1024 - 128,
              "tiles and barriers fit an sm_90 block's shared memory");

/* ---- PTX wrappers (PTX ISA: mbarrier, cp.async.bulk.tensor, wgmma), compiled for sm_90a alone --- */
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)


__device__ __forceinline__ void mbar_init(uint64_t *bar, uint32_t count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_address(bar)), "r"(count));
}
/* Arrives once and expects `bytes` of TMA transactions before the phase completes. */
__device__ __forceinline__ void mbar_expect_tx(uint64_t *bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_address(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t *bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_address(bar)) : "memory");
}
/* Waits until the phase of this parity has completed. */
__device__ __forceinline__ void mbar_wait(uint64_t *bar, uint32_t parity) {
    uint32_t done;
    do {
        asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done)
                     : "r"(smem_address(bar)), "r"(parity)
                     : "memory");
    } while (!done);
}
/* One box of a 2D tensor map at (feature x, row y) into shared memory, completing on bar. */
__device__ __forceinline__ void tma_load(void *dst, const CUtensorMap *map, uint64_t *bar, int x, int y) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                 ::"r"(smem_address(dst)), "l"(map), "r"(x), "r"(y), "r"(smem_address(bar))
                 : "memory");
}
/* One box of a 3D tensor map at (feature x, head y, token z). */
__device__ __forceinline__ void tma_load(void *dst, const CUtensorMap *map, uint64_t *bar, int x, int y, int z) {
    asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];\n"
                 ::"r"(smem_address(dst)), "l"(map), "r"(x), "r"(y), "r"(z), "r"(smem_address(bar))
                 : "memory");
}
/* One box of a 2D tensor map at (feature x, row y) from shared memory, in this thread's open bulk group. */
__device__ __forceinline__ void tma_store(const CUtensorMap *map, const void *src, int x, int y) {
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%1, %2}], [%3];\n"
                 ::"l"(map), "r"(x), "r"(y), "r"(smem_address(src))
                 : "memory");
}
__device__ __forceinline__ void bulk_commit() {
    asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
}
/* Waits until this thread's bulk groups have read their shared memory; bulk_wait: until they are done. */
__device__ __forceinline__ void bulk_wait_read() {
    asm volatile("cp.async.bulk.wait_group.read 0;\n" ::: "memory");
}
__device__ __forceinline__ void bulk_wait() {
    asm volatile("cp.async.bulk.wait_group 0;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_fence() {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
/* Waits until at most N committed groups of this warpgroup's wgmma are pending. */
template <int N> __device__ __forceinline__ void wgmma_wait() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
/* Keeps the compiler from moving accesses of wgmma's accumulators across the asynchronous MMA. */
template <int N> __device__ __forceinline__ void fence_registers(float (&r)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(r[i])::"memory");
}
/* Named barrier of one consumer warpgroup (ids 1 and 2; 0 is __syncthreads). */
__device__ __forceinline__ void warpgroup_sync(int id) {
    asm volatile("bar.sync %0, 128;\n" ::"r"(id) : "memory");
}
/*
 * The consumers' turns at issuing Q K^T (ids 3 and 4, both consumer warpgroups counted): a
 * warpgroup waits for its turn, issues, then hands the turn over, so that one warpgroup's softmax
 * runs while the other's GEMMs have the tensor cores.
 */
__device__ __forceinline__ void turn_wait(int wg) {
    asm volatile("bar.sync %0, 256;\n" ::"r"(3 + wg) : "memory");
}
__device__ __forceinline__ void turn_pass(int wg) {
    asm volatile("bar.arrive %0, 256;\n" ::"r"(4 - wg) : "memory");
}

/*
 * A wgmma shared-memory descriptor for a tile in the 128-byte swizzle (1024-byte aligned atoms of 8
 * rows of 128 bytes): start address; leading byte offset, which K-major operands do not use and
 * which for N-major V is the distance between its 64-feature boxes; stride byte offset 1024 (8 rows
 * on); swizzle mode 1 (128 bytes) in bits 62-63.
 */
__device__ __forceinline__ uint64_t smem_desc(const void *p, uint32_t leading_bytes = 1024) {
    return (uint64_t)((smem_address(p) & 0x3FFFF) >> 4) | (uint64_t)(leading_bytes >> 4) << 16 |
           (uint64_t)(1024 >> 4) << 32 | (uint64_t)1 << 62;
}

/* d (64 x 64) = A B^T (+ d when accumulate): A 64 x 16 and B 64 x 16 in shared memory, both K-major. */
template <typename T>
__device__ __forceinline__ void wgmma_ss_n64(float (&d)[32], uint64_t a, uint64_t b, int accumulate) {
    if constexpr (std::is_same_v<T, __half>) {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 0;\n}\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                     : "l"(a), "l"(b), "r"(accumulate));
    } else {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 0;\n}\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                     : "l"(a), "l"(b), "r"(accumulate));
    }
}

/* d (64 x 128) = A B^T (+ d when accumulate): A 64 x 16 and B 128 x 16 in shared memory, both K-major. */
template <typename T>
__device__ __forceinline__ void wgmma_ss_n128(float (&d)[64], uint64_t a, uint64_t b, int accumulate) {
    if constexpr (std::is_same_v<T, __half>) {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                     : "l"(a), "l"(b), "r"(accumulate));
    } else {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 0;\n}\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
                     : "l"(a), "l"(b), "r"(accumulate));
    }
}

/*
 * d (64 x 64) = A B (+ d when accumulate): A 64 x 16 in registers (mma.sync's A fragment per warp), B
 * 16 x 64 in shared memory, N-major where N_MAJOR (V), else K-major (K).
 */
template <typename T, int N_MAJOR>
__device__ __forceinline__ void wgmma_rs_n64(float (&d)[32], const uint32_t (&a)[4], uint64_t b, int accumulate) {
    if constexpr (std::is_same_v<T, __half>) {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate), "n"(N_MAJOR));
    } else {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate), "n"(N_MAJOR));
    }
}

/*
 * d[B, B + 64) (64 x 128) = A B (+ d when accumulate): A 64 x 16 in registers, B 16 x 128 in shared
 * memory, N-major where N_MAJOR (V: two boxes of 64 features the descriptor's leading offset apart),
 * else K-major (K).
 */
template <typename T, int N_MAJOR, int B, int N>
__device__ __forceinline__ void wgmma_rs_n128(float (&d)[N], const uint32_t (&a)[4], uint64_t b, int accumulate) {
    static_assert(B + 64 <= N, "the accumulators lie inside d");
    if constexpr (std::is_same_v<T, __half>) {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, %70;\n}\n"
                     : "+f"(d[B + 0]), "+f"(d[B + 1]), "+f"(d[B + 2]), "+f"(d[B + 3]), "+f"(d[B + 4]), "+f"(d[B + 5]), "+f"(d[B + 6]), "+f"(d[B + 7]), "+f"(d[B + 8]), "+f"(d[B + 9]), "+f"(d[B + 10]), "+f"(d[B + 11]), "+f"(d[B + 12]), "+f"(d[B + 13]), "+f"(d[B + 14]), "+f"(d[B + 15]), "+f"(d[B + 16]), "+f"(d[B + 17]), "+f"(d[B + 18]), "+f"(d[B + 19]), "+f"(d[B + 20]), "+f"(d[B + 21]), "+f"(d[B + 22]), "+f"(d[B + 23]), "+f"(d[B + 24]), "+f"(d[B + 25]), "+f"(d[B + 26]), "+f"(d[B + 27]), "+f"(d[B + 28]), "+f"(d[B + 29]), "+f"(d[B + 30]), "+f"(d[B + 31]), "+f"(d[B + 32]), "+f"(d[B + 33]), "+f"(d[B + 34]), "+f"(d[B + 35]), "+f"(d[B + 36]), "+f"(d[B + 37]), "+f"(d[B + 38]), "+f"(d[B + 39]), "+f"(d[B + 40]), "+f"(d[B + 41]), "+f"(d[B + 42]), "+f"(d[B + 43]), "+f"(d[B + 44]), "+f"(d[B + 45]), "+f"(d[B + 46]), "+f"(d[B + 47]), "+f"(d[B + 48]), "+f"(d[B + 49]), "+f"(d[B + 50]), "+f"(d[B + 51]), "+f"(d[B + 52]), "+f"(d[B + 53]), "+f"(d[B + 54]), "+f"(d[B + 55]), "+f"(d[B + 56]), "+f"(d[B + 57]), "+f"(d[B + 58]), "+f"(d[B + 59]), "+f"(d[B + 60]), "+f"(d[B + 61]), "+f"(d[B + 62]), "+f"(d[B + 63])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate), "n"(N_MAJOR));
    } else {
        asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %69, 0;\n"
                     "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, {%64, %65, %66, %67}, %68, p, 1, 1, %70;\n}\n"
                     : "+f"(d[B + 0]), "+f"(d[B + 1]), "+f"(d[B + 2]), "+f"(d[B + 3]), "+f"(d[B + 4]), "+f"(d[B + 5]), "+f"(d[B + 6]), "+f"(d[B + 7]), "+f"(d[B + 8]), "+f"(d[B + 9]), "+f"(d[B + 10]), "+f"(d[B + 11]), "+f"(d[B + 12]), "+f"(d[B + 13]), "+f"(d[B + 14]), "+f"(d[B + 15]), "+f"(d[B + 16]), "+f"(d[B + 17]), "+f"(d[B + 18]), "+f"(d[B + 19]), "+f"(d[B + 20]), "+f"(d[B + 21]), "+f"(d[B + 22]), "+f"(d[B + 23]), "+f"(d[B + 24]), "+f"(d[B + 25]), "+f"(d[B + 26]), "+f"(d[B + 27]), "+f"(d[B + 28]), "+f"(d[B + 29]), "+f"(d[B + 30]), "+f"(d[B + 31]), "+f"(d[B + 32]), "+f"(d[B + 33]), "+f"(d[B + 34]), "+f"(d[B + 35]), "+f"(d[B + 36]), "+f"(d[B + 37]), "+f"(d[B + 38]), "+f"(d[B + 39]), "+f"(d[B + 40]), "+f"(d[B + 41]), "+f"(d[B + 42]), "+f"(d[B + 43]), "+f"(d[B + 44]), "+f"(d[B + 45]), "+f"(d[B + 46]), "+f"(d[B + 47]), "+f"(d[B + 48]), "+f"(d[B + 49]), "+f"(d[B + 50]), "+f"(d[B + 51]), "+f"(d[B + 52]), "+f"(d[B + 53]), "+f"(d[B + 54]), "+f"(d[B + 55]), "+f"(d[B + 56]), "+f"(d[B + 57]), "+f"(d[B + 58]), "+f"(d[B + 59]), "+f"(d[B + 60]), "+f"(d[B + 61]), "+f"(d[B + 62]), "+f"(d[B + 63])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(accumulate), "n"(N_MAJOR));
    }
}

/* wgmma S = Q K^T of one key tile, N = BN. */
template <typename T, int BN>
__device__ __forceinline__ void wgmma_qk(float (&s)[BN / 2], uint64_t a, uint64_t b, int accumulate) {
    if constexpr (BN == 128) wgmma_ss_n128<T>(s, a, b, accumulate);
    else wgmma_ss_n64<T>(s, a, b, accumulate);
}
/*
 * Work item w: query head w % num_heads of tile w / num_heads, heads fastest so that the query heads
 * of a KV group run together and share K and V through L2. Producer and consumers derive it alike.
 */
struct work_item {
    int h, g, b, t0, rows, key_tiles;
    seq_meta sq;
    int32_t first_pos, key_end;
};
/*
 * The block's k-th work item: rounds of gridDim.x items, walked forwards in even rounds and backwards
 * in odd ones. Items come longest first, so a block that took a round's longer items takes the next
 * round's shorter ones; a plain round robin gave block 0 the longest item of every round.
 */
__device__ __forceinline__ int item_of_block(int k) {
    return k * gridDim.x + ((k & 1) ? gridDim.x - 1 - blockIdx.x : blockIdx.x);
}
template <int BN> __device__ __forceinline__ work_item item_at(const step_args &a, const context_tile *tiles, int w) {
    work_item it;
    const context_tile tile = tiles[w / a.num_heads];
    it.h = w % a.num_heads;
    it.g = it.h / a.group;
    it.b = tile.sequence;
    it.t0 = tile.first_token;
    it.sq = a.sequences[it.b];
    it.rows = min(BM, it.sq.input_length - it.t0);
    it.first_pos = it.sq.past_length + it.t0;
    it.key_end = it.sq.past_length + it.sq.input_length;
    it.key_tiles = (it.first_pos + it.rows - 1) / BN + 1; /* tile n holds positions [n BN, (n + 1) BN) */
    return it;
}
#endif

/*
 * Persistent: grid min(items, multiprocessors) blocks (one fits a multiprocessor), block b taking its
 * share of the items = num_heads * tile_count (item_of_block, item_at); tiles[i] names the sequence
 * and first token of BM queries.
 * maps.q: q_rotated as [num_heads * num_tokens rows][D] in boxes of BOX features x BM rows, or where
 * q_from_qkv, qkv as [num_tokens][num_heads (of its num_heads + 2 num_kv_heads)][D] in boxes of BOX
 * features x 1 head x BM tokens; maps.kv: kv_cache as [batch * 2 * num_kv_heads * max_seq_len rows][D]
 * in boxes of BOX features x BN rows; maps.new_kv, where kernel_writes: qkv as [num_tokens][all its
 * heads][D] in boxes of BOX features x 1 head x BN tokens.
 */
template <typename T, int D, bool ROTATE_Q>
__global__ void __launch_bounds__(THREADS, 1)
context_wgmma_kernel(const step_args a, const context_tile *__restrict__ tiles, const int items,
                     const __grid_constant__ wgmma_maps maps) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    constexpr int BN = wgmma_config<D>::BN, STAGES = wgmma_config<D>::STAGES, BOXES = D / BOX;
    constexpr int Q_BOX = BM * BOX, KV_BOX = BN * BOX; /* elements of one box */
    extern __shared__ unsigned char smem_raw[];
    T *q_s = reinterpret_cast<T *>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~(uintptr_t)1023); /* [BOXES][BM][BOX] */
    T *k_s = q_s + BOXES * Q_BOX;              /* [STAGES][BOXES][BN][BOX] */
    T *v_s = k_s + STAGES * BOXES * KV_BOX;    /* [STAGES][BOXES][BN][BOX] */
    __shared__ uint64_t q_full, q_empty, k_full[STAGES], v_full[STAGES], k_empty[STAGES], v_empty[STAGES];
    /* Item k's description, which the producer writes before it loads the item's Q (q_full publishes it). */
    __shared__ work_item items_s[2];

    /* Read through a shuffle so that the compiler knows it is warp-uniform and keeps wgmma unserialised. */
    const int warpgroup = __shfl_sync(0xffffffffu, (int)threadIdx.x / 128, 0), tid = threadIdx.x % 128;

    if (threadIdx.x == 0) {
        mbar_init(&q_full, 1);
        mbar_init(&q_empty, 8); /* one arrival per consumer warp */
        for (int s = 0; s < STAGES; s++) {
            mbar_init(&k_full[s], 1);
            mbar_init(&v_full[s], 1);
            mbar_init(&k_empty[s], 8); /* one arrival per consumer warp */
            mbar_init(&v_empty[s], 8);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();

    /*
     * The pipeline runs on across the block's items, never reset: the i-th key tile the block loads
     * goes to stage i % STAGES, phase i / STAGES of its k_full, v_full, k_empty and v_empty, and the
     * k-th item's Q is phase k of q_full and q_empty. Producer and consumers walk the same items and
     * count alike. The producer waits for the previous phase of a buffer's `*_empty` with the
     * opposite parity; on a fresh mbarrier parity 1 names the phase before the first, complete, so
     * the first round passes. Every consumer warp waits for every phase of k_full, v_full and q_full
     * in turn (warpgroup 1 also for the diagonal tiles it passes over), so that a parity always names
     * the phase meant and not the one two before, and it arrives on k_empty, v_empty (q_empty) only
     * after that load has landed, so that its arrival cannot count towards the buffer's previous
     * phase: a passed-over tile released early could complete that phase while warpgroup 2 still
     * reads the stage, with 2 stages.
     */
    if (warpgroup == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(PRODUCER_REGISTERS));
        if (tid == 0) {
            int stage = 0;
            uint32_t phase = 0, q_phase = 0, stored_stages = 0; /* stages whose tiles this thread is writing to the cache */
            for (int k = 0, w = item_of_block(0); w < items; w = item_of_block(++k)) {
                const work_item it = item_at<BN>(a, tiles, w);
                const int q_token = it.sq.token_start + it.t0;
                const int k_row = ((it.b * 2) * a.num_kv_heads + it.g) * a.max_seq_len;
                const int v_row = ((it.b * 2 + 1) * a.num_kv_heads + it.g) * a.max_seq_len;
                mbar_wait(&q_empty, q_phase ^ 1); /* the previous item's Q is read */
                q_phase ^= 1;
                items_s[k % 2] = it; /* item k - 2's was read before item k - 1's Q was released */
                mbar_expect_tx(&q_full, BM * D * sizeof(T));
#pragma unroll
                for (int x = 0; x < BOXES; x++) {
                    if (maps.q_from_qkv) tma_load(q_s + x * Q_BOX, &maps.q, &q_full, x * BOX, it.h, q_token);
                    else tma_load(q_s + x * Q_BOX, &maps.q, &q_full, x * BOX, it.h * a.num_tokens + q_token);
                }
                /* kernel_writes: the item of its KV group's first query head whose queries start a whole key tile writes it. */
                const int kernel_writes = wgmma_config<D>::WRITES ? maps.kernel_writes : 0;
                const bool writer = kernel_writes != 0 && it.h % a.group == 0;
                const int k_head = a.num_heads + it.g, v_head = k_head + a.num_kv_heads;
                for (int n = 0; n < it.key_tiles; n++) {
                    const int s = stage;
                    const int new_token = it.sq.token_start + n * BN; /* kernel_writes: every position is a new token's */
                    mbar_wait(&k_empty[s], phase ^ 1);
                    if (stored_stages >> s & 1) {
                        bulk_wait_read(); /* the stage's tiles are out in the cache before it loads again */
                        stored_stages = 0;
                    }
                    mbar_expect_tx(&k_full[s], BN * D * sizeof(T));
#pragma unroll
                    for (int x = 0; x < BOXES; x++) {
                        if (kernel_writes & KERNEL_WRITES_K) tma_load(k_s + (s * BOXES + x) * KV_BOX, &maps.new_kv, &k_full[s], x * BOX, k_head, new_token);
                        else tma_load(k_s + (s * BOXES + x) * KV_BOX, &maps.kv, &k_full[s], x * BOX, k_row + n * BN);
                    }
                    mbar_wait(&v_empty[s], phase ^ 1);
                    mbar_expect_tx(&v_full[s], BN * D * sizeof(T));
#pragma unroll
                    for (int x = 0; x < BOXES; x++) {
                        if (kernel_writes & KERNEL_WRITES_V) tma_load(v_s + (s * BOXES + x) * KV_BOX, &maps.new_kv, &v_full[s], x * BOX, v_head, new_token);
                        else tma_load(v_s + (s * BOXES + x) * KV_BOX, &maps.kv, &v_full[s], x * BOX, v_row + n * BN);
                    }
                    if (writer && n * BN >= it.first_pos && whole_key_tile(n * BN, BN, it.key_end)) {
                        /* Stored from the stage once loaded; the consumers read it meanwhile (both only read it). */
                        if (kernel_writes & KERNEL_WRITES_K) {
                            mbar_wait(&k_full[s], phase);
#pragma unroll
                            for (int x = 0; x < BOXES; x++) tma_store(&maps.kv, k_s + (s * BOXES + x) * KV_BOX, x * BOX, k_row + n * BN);
                        }
                        if (kernel_writes & KERNEL_WRITES_V) {
                            mbar_wait(&v_full[s], phase);
#pragma unroll
                            for (int x = 0; x < BOXES; x++) tma_store(&maps.kv, v_s + (s * BOXES + x) * KV_BOX, x * BOX, v_row + n * BN);
                        }
                        bulk_commit();
                        stored_stages |= 1u << s;
                    }
                    if (++stage == STAGES) {
                        stage = 0;
                        phase ^= 1;
                    }
                }
            }
            bulk_wait(); /* the block's shared memory outlives the writes that read it */
        }
        return;
    }

    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(CONSUMER_REGISTERS));
    const int wg = warpgroup - 1, warp = tid / 32, lane = tid % 32;
    const float scale = a.scale * LOG2E;
    const T *q_wg = q_s + wg * 64 * BOX;
    /* Of the current item: this warpgroup's first position, this thread's two query rows, the sequence's end. */
    int32_t wg_first, pos0, pos1, key_end;
    /* The pipeline position (stage, phase) of the current item's key tile 0, and the phase of its Q. */
    int stage0 = 0;
    uint32_t phase0 = 0, q_phase = 0;
    /* The online softmax's state, as an item starts; set back after each item's store. */
    float o[D / 2], row_max[2] = {-INFINITY, -INFINITY}, row_sum[2] = {0.0f, 0.0f}; /* O: box x at [32 x, 32 x + 32) */
#pragma unroll
    for (int i = 0; i < D / 2; i++) o[i] = 0.0f;
    float sc[BN / 2], correction[2];
    uint32_t pa[BN / 16][4];
    /*
     * ROTATE_Q (Q unrotated from qkv, RoPE angles from a 16-byte aligned table, D up to 128: the plan's conditions):
     * this thread's part of the warpgroup's Q rows as wgmma's A fragments, held in registers for the
     * item, loaded once from shared memory and rotated in them, so that the pre-pass need not write
     * rotated Q to the workspace and read it back; and the angles of the thread's rows (fragment
     * registers r and 2 + r: rows row0 and row0 + 8; features 16 kk + 2 (lane % 4) + {0, 1}, + 8 in
     * registers 2 and 3). Both are taken for the next item, and Q rotated, while the current one's
     * last P V runs, when S's registers are free and the tensor cores busy: the angles loaded at the
     * item's start cost the kernel 5%, about what the pre-pass saved, and the rotation there 1%; a
     * GPT-NeoX thread's angles as 16-byte loads instead of 8-byte ones took the kernel from 459 to 455
     * us (2 x 4096, D 128). At D = 256 the fragments would not fit beside O.
     */
    static_assert(!ROTATE_Q || (D <= 128 && BN == 128), "Q K^T from registers: S as one n128 wgmma a k-step");
    uint32_t qa[ROTATE_Q ? D / 16 : 1][4];
    float2 angles[ROTATE_Q ? D / 4 : 1];
    const int row0 = wg * 64 + warp * 16 + lane / 4, f0 = 2 * (lane % 4);
    auto stage = [&](int n) { return (stage0 + n) % STAGES; };
    auto parity = [&](int n) { return (phase0 ^ (uint32_t)((stage0 + n) / STAGES)) & 1; };
    auto issue_qk = [&](int n) {
        const int s = stage(n);
        mbar_wait(&k_full[s], parity(n));
        turn_wait(wg);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) {
            const uint64_t k = smem_desc(k_s + (s * BOXES + kk / 4) * KV_BOX + (kk % 4) * 16);
            if constexpr (ROTATE_Q) wgmma_rs_n128<T, 0, 0>(sc, qa[kk], k, kk > 0);
            else wgmma_qk<T, BN>(sc, smem_desc(q_wg + (kk / 4) * Q_BOX + (kk % 4) * 16), k, kk > 0);
        }
        wgmma_commit();
    };
    /*
     * The causal mask (where `masked`), then the online softmax: sc becomes P. Maxima are kept on the
     * raw scores (the scale is positive), and each weight is one FFMA and one ex2:
     * 2^(s scale log2(e) - m scale log2(e)).
     */
    auto softmax = [&](int n, auto masked_tile) {
        constexpr bool masked = decltype(masked_tile)::value;
        const int32_t k_base = n * BN;
        float tile_max[2] = {row_max[0], row_max[1]};
#pragma unroll
        for (int nb = 0; nb < BN / 8; nb++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int32_t j = k_base + nb * 8 + (lane % 4) * 2 + (e & 1);
                if (masked && j > (e < 2 ? pos0 : pos1)) sc[nb * 4 + e] = -INFINITY;
                tile_max[e / 2] = fmaxf(tile_max[e / 2], sc[nb * 4 + e]);
            }
        }
        float tile_sum[2] = {0.0f, 0.0f}, offset[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
            tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
            correction[r] = tile_max[r] == -INFINITY ? 1.0f : exp2_approx((row_max[r] - tile_max[r]) * scale);
            row_max[r] = tile_max[r];
            offset[r] = tile_max[r] == -INFINITY ? 0.0f : tile_max[r] * scale; /* a row with no key yet: weights 0 */
        }
#pragma unroll
        for (int i = 0; i < BN / 2; i++) {
            const int r = (i / 2) & 1;
            const float w = exp2_approx(fmaf(sc[i], scale, -offset[r]));
            sc[i] = w;
            tile_sum[r] += w;
        }
        row_sum[0] = row_sum[0] * correction[0] + tile_sum[0];
        row_sum[1] = row_sum[1] * correction[1] + tile_sum[1];
    };
    /*
     * Compiled twice, so that the tiles wholly below the diagonal (all but one or two of a row's) run
     * without the mask's compare and select on every score: with one body and the mask's condition
     * tested inside it, 2 x 4096 tokens at D 128 took 10% longer on an H200.
     */
    auto softmax_tile = [&](int n) {
        if (n * BN + BN - 1 > wg_first) softmax(n, std::true_type{});
        else softmax(n, std::false_type{});
    };
    /* P in the storage type, as wgmma's A fragments (mma.sync's A layout per warp). */
    auto pack_p = [&] {
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
#pragma unroll
            for (int i = 0; i < 4; i++) pa[kk][i] = pack2<T>(sc[8 * kk + 2 * i], sc[8 * kk + 2 * i + 1]);
        }
    };
    auto issue_pv = [&](int n) {
        const int s = stage(n);
        mbar_wait(&v_full[s], parity(n));
        if (n * BN + BN > key_end) {
            /* Rows past the sequence's last key: zero in every box (whole 128-byte rows, so the swizzle does not matter). */
            const int first_zero = key_end - n * BN;
            for (int idx = tid; idx < (BN - first_zero) * BOXES * 8; idx += 128) {
                const int chunk = idx % 8, row = first_zero + (idx / 8) % (BN - first_zero), x = idx / 8 / (BN - first_zero);
                *reinterpret_cast<uint4 *>(v_s + (s * BOXES + x) * KV_BOX + row * BOX + chunk * 8) = make_uint4(0, 0, 0, 0);
            }
            asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
            warpgroup_sync(1 + wg);
        }
        wgmma_fence();
        /* 128 features of O a wgmma (two boxes of V, the descriptor's leading offset apart), or D = 64 in one. */
        constexpr uint32_t box_bytes = KV_BOX * sizeof(T);
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
            const T *v = v_s + s * BOXES * KV_BOX + kk * 16 * BOX;
            if constexpr (D == 64) {
                wgmma_rs_n64<T, 1>(o, pa[kk], smem_desc(v), 1);
            } else {
                wgmma_rs_n128<T, 1, 0>(o, pa[kk], smem_desc(v, box_bytes), 1);
                if constexpr (D == 256) wgmma_rs_n128<T, 1, 64>(o, pa[kk], smem_desc(v + 2 * KV_BOX, box_bytes), 1);
            }
        }
        wgmma_commit();
    };
    auto release_k = [&](int n) {
        __syncwarp();
        if (lane == 0) mbar_arrive(&k_empty[stage(n)]);
    };
    auto release_v = [&](int n) {
        __syncwarp();
        if (lane == 0) mbar_arrive(&v_empty[stage(n)]);
    };
    /* Frees Q once this warp's last Q K^T of the item is done, so that the next item's Q loads during the rest. */
    auto release_q = [&] {
        __syncwarp();
        if (lane == 0) mbar_arrive(&q_empty);
    };
    /* Waits for item k's Q and returns the item, as the producer described it. */
    auto wait_item = [&](int k) {
        mbar_wait(&q_full, q_phase);
        q_phase ^= 1;
        return items_s[k % 2];
    };
    /*
     * With ROTATE_Q, loads this thread's fragments of the item's Q (waited for) by ldmatrix from the
     * 128-byte swizzle (16-byte chunk c of row r lies at chunk c ^ (r % 8)), frees Q's buffer at once,
     * so that the following item's Q loads during this one, and rotates them. A GPT-J pair is the two
     * halves of one register; a GPT-NeoX pair (rotary_dim = D) lies D / 32 k-steps apart in this
     * thread. Rotated values are rounded to the storage type once, as the pre-pass rounds them.
     */
    auto take_q = [&] {
        if constexpr (ROTATE_Q) {
            const int row = wg * 64 + warp * 16 + lane % 8 + (lane / 8) % 2 * 8;
#pragma unroll
            for (int kk = 0; kk < D / 16; kk++) {
                const int chunk = (kk % 4) * 2 + lane / 16;
                ldmatrix_x4(qa[kk], q_s + (kk / 4) * Q_BOX + row * BOX + (chunk ^ (lane % 8)) * 8);
            }
            release_q();
            if (a.rope == 1) {
#pragma unroll
                for (int r = 0; r < 2; r++)
#pragma unroll
                    for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
                        for (int h = 0; h < 2; h++) {
                            if (16 * kk + 8 * h + f0 >= a.rotary_dim) continue;
                            const float2 x = unpack2<T>(qa[kk][2 * h + r]), c = angles[(r * (D / 16) + kk) * 2 + h];
                            qa[kk][2 * h + r] = pack2<T>(rope_rotate(x.x, x.y, true, c), rope_rotate(x.y, x.x, false, c));
                        }
            } else {
                constexpr int H = D / 32; /* k-steps between GPT-NeoX partners */
#pragma unroll
                for (int r = 0; r < 2; r++)
#pragma unroll
                    for (int kk = 0; kk < H; kk++)
#pragma unroll
                        for (int h = 0; h < 2; h++) {
                            const float2 x = unpack2<T>(qa[kk][2 * h + r]), y = unpack2<T>(qa[kk + H][2 * h + r]);
                            const float2 c0 = angles[((r * H + kk) * 2 + h) * 2], c1 = angles[((r * H + kk) * 2 + h) * 2 + 1];
                            qa[kk][2 * h + r] = pack2<T>(rope_rotate(x.x, y.x, true, c0), rope_rotate(x.y, y.y, true, c1));
                            qa[kk + H][2 * h + r] = pack2<T>(rope_rotate(y.x, x.x, false, c0), rope_rotate(y.y, x.y, false, c1));
                        }
            }
        }
    };
    /* ROTATE_Q: item it's angles into `angles`, in take_q's order. Rows past the item's last are never stored: angle (1, 0). */
    auto load_angles = [&](const work_item &it) {
        const float2 *table = reinterpret_cast<const float2 *>(it.sq.long_rope ? a.long_rope_rotary_cos_sin : a.rotary_cos_sin);
        const int half = a.rotary_dim / 2;
#pragma unroll
        for (int r = 0; r < 2; r++) {
            const bool stored = row0 + 8 * r < it.rows;
            const int64_t first_pair = (int64_t)(it.first_pos + row0 + 8 * r) * half;
            if (a.rope == 1) {
#pragma unroll
                for (int kk = 0; kk < D / 16; kk++)
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const int f = 16 * kk + 8 * h + f0;
                        angles[(r * (D / 16) + kk) * 2 + h] = stored && f < a.rotary_dim ? table[first_pair + f / 2] : make_float2(1.0f, 0.0f);
                    }
            } else {
                /* (kk, h, e) of take_q's GPT-NeoX loop: e = 0 and 1 are pairs f and f + 1, one 16-byte load (f, half even). */
                const float4 *table4 = reinterpret_cast<const float4 *>(table);
#pragma unroll
                for (int i = 0; i < D / 8; i += 2) {
                    const int f = 16 * (i / 4) + 8 * (i / 2 % 2) + f0;
                    const float4 c = stored ? table4[(first_pair + f) / 2] : make_float4(1.0f, 0.0f, 1.0f, 0.0f);
                    angles[r * (D / 8) + i] = make_float2(c.x, c.y);
                    angles[r * (D / 8) + i + 1] = make_float2(c.z, c.w);
                }
            }
        }
    };

    /*
     * Turns at Q K^T: warpgroup 1 waits on barrier 3 and then arrives on 4, warpgroup 2 waits on 4 and
     * then arrives on 3, one turn per key tile of every item (warpgroup 1 also on those it passes over,
     * so both take key_tiles turns an item). Warpgroup 2's arrival on 3 before its first item opens
     * the chain and warpgroup 1's wait on 3 after its last item closes it, so over the block each
     * barrier sees as many arrivals as waits, 3, 4, 3, 4, ... across items: warpgroup 1 starts an
     * item on warpgroup 2's hand-over after that warpgroup's last Q K^T of the previous item. No
     * warpgroup arrives twice on a barrier before the other has waited there, since each arrival but
     * the first follows the arriver's wait on the other barrier, which needed the other warpgroup's
     * arrival there, made after its own wait on this one. Neither end is per item: warpgroup 2 would
     * then arrive on 3 at an item's start right after its last hand-over of the previous item.
     */
    if (wg == 1) turn_pass(wg); /* warpgroup 1 goes first */
    int w = item_of_block(0); /* blockIdx.x: the grid has at most `items` blocks */
    work_item it = wait_item(0);
    if constexpr (ROTATE_Q) {
        load_angles(it);
        take_q();
    }
    for (int k = 0; w < items; k++) {
        wg_first = it.first_pos + wg * 64;
        const int32_t wg_last = it.first_pos + min(it.rows, wg * 64 + 64) - 1;
        pos0 = wg_first + warp * 16 + lane / 4; /* this thread's two query rows */
        pos1 = pos0 + 8;
        key_end = it.key_end;
        /*
         * Tiles [0, my_tiles) hold keys this warpgroup's rows see; later ones (on the diagonal) are
         * passed over. Warpgroup 2's last row is the item's, so it takes all key_tiles.
         */
        const int my_tiles = min(it.key_tiles, wg_last / BN + 1);

        /* S of tile n is computed while P V of tile n - 1 runs, then its softmax while that finishes. */
        issue_qk(0);
        turn_pass(wg);
        wgmma_wait<0>();
        release_k(0);
        if (!ROTATE_Q && my_tiles == 1) release_q();
        fence_registers(sc);
        softmax_tile(0);
        pack_p();
        for (int n = 1; n < my_tiles; n++) {
            issue_qk(n);
            issue_pv(n - 1);
            turn_pass(wg);
            wgmma_wait<1>(); /* Q K^T of tile n is done, P V of tile n - 1 may still run */
            release_k(n);
            if (!ROTATE_Q && n == my_tiles - 1) release_q();
            fence_registers(sc);
            softmax_tile(n);
            wgmma_wait<0>();
            fence_registers(o);
            release_v(n - 1);
#pragma unroll
            for (int i = 0; i < D / 2; i++) o[i] *= correction[(i / 2) & 1];
            pack_p();
        }
        issue_pv(my_tiles - 1);
        const int w_next = item_of_block(k + 1);
        work_item next = it;
        if constexpr (ROTATE_Q) {
            /* The next item's Q, asked for at this one's start, is in: it is rotated while this item's last P V runs. */
            if (w_next < items) {
                next = wait_item(k + 1);
                load_angles(next);
                take_q();
            }
        }
        wgmma_wait<0>();
        fence_registers(o);
        release_v(my_tiles - 1);
        for (int n = my_tiles; n < it.key_tiles; n++) {
            turn_wait(wg);
            turn_pass(wg);
            /* Unused, but waited for: see the pipeline's invariant. */
            mbar_wait(&k_full[stage(n)], parity(n));
            mbar_wait(&v_full[stage(n)], parity(n));
            release_k(n);
            release_v(n);
        }

        /* Normalise and store this thread's two rows, 4 bytes at a time, while the next item loads. */
        float inverse[2];
        row_inverses(row_sum, inverse);
        T *context = static_cast<T *>(a.context);
#pragma unroll
        for (int r = 0; r < 2; r++) {
            const int row = wg * 64 + warp * 16 + lane / 4 + r * 8;
            if (row >= it.rows) continue;
            T *out = context + ((int64_t)(it.sq.token_start + it.t0 + row) * a.num_heads + it.h) * D + (lane % 4) * 2;
#pragma unroll
            for (int x = 0; x < BOXES; x++) {
#pragma unroll
                for (int nb = 0; nb < 8; nb++) {
                    *reinterpret_cast<uint32_t *>(out + x * BOX + nb * 8) =
                        pack2<T>(o[32 * x + nb * 4 + 2 * r] * inverse[r], o[32 * x + nb * 4 + 2 * r + 1] * inverse[r]);
                }
            }
        }
#pragma unroll
        for (int i = 0; i < D / 2; i++) o[i] = 0.0f;
        row_max[0] = row_max[1] = -INFINITY;
        row_sum[0] = row_sum[1] = 0.0f;
        stage0 += it.key_tiles;
        phase0 ^= (uint32_t)(stage0 / STAGES) & 1;
        stage0 %= STAGES;
        /* Without ROTATE_Q, Q was freed after the last Q K^T: the next one loaded during the store. */
        if (!ROTATE_Q && w_next < items) next = wait_item(k + 1);
        it = next;
        w = w_next;
    }
    if (wg == 0) turn_wait(wg); /* warpgroup 2's last hand-over */
#endif
}

/* cuTensorMapEncodeTiled from the driver, found once through the runtime (no link to libcuda). */
PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
    static PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
        void *fn = nullptr;
        cudaDriverEntryPointQueryResult found;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found) != cudaSuccess ||
            found != cudaDriverEntryPointSuccess) {
            cudaGetLastError();
            return (PFN_cuTensorMapEncodeTiled_v12000) nullptr;
        }
        return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
    }();
    return encode;
}

/*
 * A map of rows x D elements (rank 2, rows D apart; heads and token_stride unused) or of rows (tokens)
 * x heads x D elements (rank 3: heads D apart, tokens token_stride elements apart), in boxes of BOX
 * features x box_rows rows (rank 3: x 1 head x box_rows tokens), in the 128-byte swizzle, zeros past
 * the end.
 */
bool encode_map(CUtensorMap *map, int32_t type_id, void *base, int rank, uint64_t rows, uint64_t heads,
                uint64_t token_stride, int D, int box_rows) {
    const cuuint64_t dims[3] = {(cuuint64_t)D, rank == 2 ? rows : heads, rows};
    const cuuint64_t strides[2] = {(cuuint64_t)D * 2, token_stride * 2};
    const cuuint32_t box[3] = {BOX, rank == 2 ? (cuuint32_t)box_rows : 1, (cuuint32_t)box_rows};
    const cuuint32_t element_strides[3] = {1, 1, 1};
    return tensor_map_encoder()(map, type_id == TRTLLM4J_FLOAT16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16,
                                rank, base, dims, strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

int key_tile_rows(int D) {
    return D == 64 ? wgmma_config<64>::BN : D == 128 ? wgmma_config<128>::BN : wgmma_config<256>::BN;
}
bool kernel_may_write(int D) {
    return D == 64 ? wgmma_config<64>::WRITES : D == 128 ? wgmma_config<128>::WRITES : wgmma_config<256>::WRITES;
}

/*
 * The device's multiprocessors, asked once (0 if that fails: then one block an item). The grid's size
 * only spreads the items, so a process driving devices of other sizes gets slower grids, not other results.
 */
int multiprocessors() {
    static const int count = [] {
        int device, n;
        if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
            cudaGetLastError();
            return 0;
        }
        return n;
    }();
    return count;
}

template <typename T, int D, bool ROTATE_Q>
cudaError_t launch(const step_args &a, const wgmma_maps &maps, const context_tile *tiles, int tile_count, cudaStream_t stream) {
    constexpr int bytes = shared_bytes<T, D>();
    cudaError_t status = cudaFuncSetAttribute(context_wgmma_kernel<T, D, ROTATE_Q>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    if (status != cudaSuccess) return status;
    const int items = a.num_heads * tile_count, sms = multiprocessors();
    context_wgmma_kernel<T, D, ROTATE_Q><<<sms > 0 && sms < items ? sms : items, THREADS, bytes, stream>>>(a, tiles, items, maps);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_for_head_size(const step_args &a, const wgmma_maps &maps, const context_tile *tiles, int tile_count,
                                 cudaStream_t stream) {
    const bool rotates = maps.q_from_qkv && a.rope != 0; /* Q from qkv, unrotated: the plan allows it at D <= 128 alone */
    switch (a.head_size) {
    case 64: return rotates ? launch<T, 64, true>(a, maps, tiles, tile_count, stream) : launch<T, 64, false>(a, maps, tiles, tile_count, stream);
    case 128: return rotates ? launch<T, 128, true>(a, maps, tiles, tile_count, stream) : launch<T, 128, false>(a, maps, tiles, tile_count, stream);
    default: return launch<T, 256, false>(a, maps, tiles, tile_count, stream);
    }
}

} // namespace

bool context_wgmma_plan(const step_args &a, int32_t type_id, int batch_size, int32_t longest_context, bool grown_base,
                        bool fresh_contexts, wgmma_maps *maps) {
    if (type_id != TRTLLM4J_FLOAT16 && type_id != TRTLLM4J_BFLOAT16) return false;
    if (a.head_size != 64 && a.head_size != 128 && a.head_size != 256) return false;
    /* Plain causal logits with a positive scale: every key up to the query's position, nothing else to add or cap. */
    if (!a.plain || !(a.scale > 0) || longest_context > a.window) return false;
    /* The tensor maps' row coordinates are 32-bit, with a key tile's worth of room past the end. */
    const int64_t cache_rows = (int64_t)batch_size * 2 * a.num_kv_heads * a.max_seq_len;
    if (cache_rows + key_tile_rows(a.head_size) > INT32_MAX || (int64_t)a.num_heads * a.num_tokens + BM > INT32_MAX) return false;
    /* Work items, an int even after a block's stride (at most the item count) past the last. */
    if ((int64_t)a.num_heads * (a.num_tokens / BM + batch_size) > INT32_MAX / 2) return false;
    int device, major, minor;
    if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    /* sm_90a code runs on compute capability 9.0 alone. */
    if (major != 9 || minor != 0 || tensor_map_encoder() == nullptr) return false;
    /* Q from qkv where it needs no RoPE or the kernel rotates it (ROTATE_Q), else rotated by the pre-pass. */
    const uint64_t token_stride = (uint64_t)(a.num_heads + 2 * a.num_kv_heads) * a.head_size; /* qkv's, in elements */
    maps->q_from_qkv = a.rope == 0 || (a.head_size <= 128 && (a.rope == 1 || a.rotary_dim == a.head_size) && !grown_base &&
                                       aligned16(a.rotary_cos_sin) && aligned16(a.long_rope_rotary_cos_sin));
    const bool q_mapped = maps->q_from_qkv
                              ? encode_map(&maps->q, type_id, const_cast<void *>(a.qkv), 3, a.num_tokens, a.num_heads,
                                           token_stride, a.head_size, BM)
                              : encode_map(&maps->q, type_id, a.q_rotated, 2, (uint64_t)a.num_heads * a.num_tokens, 0, 0, a.head_size, BM);
    /* New keys and values from qkv where they need no RoPE and every position of a sequence is a new token's. */
    maps->key_tile = key_tile_rows(a.head_size);
    maps->kernel_writes = !fresh_contexts || !kernel_may_write(a.head_size) ? 0 : a.rope == 0 ? KERNEL_WRITES_K | KERNEL_WRITES_V : KERNEL_WRITES_V;
    const bool new_kv_mapped = maps->kernel_writes == 0 ||
                               encode_map(&maps->new_kv, type_id, const_cast<void *>(a.qkv), 3, a.num_tokens,
                                          a.num_heads + 2 * a.num_kv_heads, token_stride, a.head_size, maps->key_tile);
    return q_mapped && new_kv_mapped && encode_map(&maps->kv, type_id, a.kv_cache, 2, cache_rows, 0, 0, a.head_size, maps->key_tile);
}

cudaError_t launch_context_wgmma(const step_args &a, int32_t type_id, const wgmma_maps &maps, const context_tile *tiles,
                                 int tile_count, cudaStream_t stream) {
    if (type_id == TRTLLM4J_FLOAT16) return launch_for_head_size<__half>(a, maps, tiles, tile_count, stream);
    return launch_for_head_size<__nv_bfloat16>(a, maps, tiles, tile_count, stream);
}
