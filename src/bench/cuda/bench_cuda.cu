/*
 * The cuda backend's attention step timed with CUDA events, through the bridge ABI (the library is
 * dlopened as Java loads it), and a device-to-device copy in the same run for scale:
 *   bench_cuda LIBDIR [decode|prefill|loop]  (decode: the decode shapes and copies alone; prefill: the
 *                                           prefill shapes alone; loop: steps back to back)
 * decode:  bf16, B = 1, 8 and 64 sequences with 4096 cached tokens each, 1 new token, 32 query / 8 KV
 *          heads, head size 128, GPT-NeoX RoPE on the new token; rate = K and V cache bytes read /
 *          time, B * 2 * 8 * 4097 * 128 * 2 bytes (every cached entry read once, the new one
 *          included). Beside each, a device-to-device copy of exactly those bytes: it moves them
 *          twice (read + written), so half its time is the time to read the cache once at the
 *          copy's rate, the floor the decode step is held to.
 * prefill: bf16, 2 sequences of S new tokens, same heads, head size D, causal, with GPT-NeoX RoPE and
 *          without: S = 4096 at D = 128, 64 and 256, and S = 512 and 16384 at D = 128; rate =
 *          2 * 2 S^2 D H / time, the causal half of Q K^T and P V (4 S^2 D H / 2 per sequence).
 * Each figure is the median of 50 timed runs after 10 warm-up runs, each timed run queued behind a
 * kernel that holds the stream for HOLD_CYCLES (about 0.1 ms), so that the events time the GPU's work
 * and not the host's enqueue, which the held stream hides (as nvbench's blocking kernel does);
 * bench_torch.py holds its stream alike.
 * loop: as a serving loop drives the ABI (GpuStepBenchmark does the same from Java): rounds of
 *          LOOP_DECODE_STEPS decode (B = 1 and 64) or LOOP_PREFILL_STEPS prefill steps enqueued back to
 *          back and one stream synchronisation, 3 s of warm-up rounds and 5 s of timed ones, as the
 *          JMH run; per step, the mean wall time and host time in enqueue (until the last enqueue
 *          returns).
 */
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "plugin_fields.h"

#define CHECK_CUDA(call)                                                                           \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            std::fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(e_));                       \
            std::exit(1);                                                                          \
        }                                                                                          \
    } while (0)

namespace {

const trtllm4j_backend_api *api;

void check(int32_t status, const char *what) {
    if (status != TRTLLM4J_OK) {
        std::fprintf(stderr, "%s: %d %s\n", what, status, api->last_error());
        std::exit(1);
    }
}

__global__ void fill_uniform(__nv_bfloat16 *x, int64_t n, uint32_t seed) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15;
        h *= 2246822519u;
        h ^= h >> 13;
        x[i] = __float2bfloat16((h & 0xffffff) / 8388608.0f - 1.0f);
    }
}

__nv_bfloat16 *random_bf16(int64_t n, uint32_t seed) {
    __nv_bfloat16 *x;
    CHECK_CUDA(cudaMalloc(&x, n * 2));
    fill_uniform<<<1024, 256>>>(x, n, seed);
    CHECK_CUDA(cudaGetLastError());
    return x;
}

constexpr long long HOLD_CYCLES = 200000;

/* Spins one thread for `cycles` clock cycles: the stream waits while the host enqueues what follows. */
__global__ void hold(long long cycles) {
    const long long start = clock64();
    while (clock64() - start < cycles) {
    }
}

template <typename F> float median_ms(F run, cudaStream_t stream) {
    for (int i = 0; i < 10; i++) run();
    std::vector<float> times;
    cudaEvent_t start, stop;
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    for (int i = 0; i < 50; i++) {
        hold<<<1, 1, 0, stream>>>(HOLD_CYCLES);
        CHECK_CUDA(cudaEventRecord(start, stream));
        run();
        CHECK_CUDA(cudaEventRecord(stop, stream));
        CHECK_CUDA(cudaEventSynchronize(stop));
        float ms;
        CHECK_CUDA(cudaEventElapsedTime(&ms, start, stop));
        times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

struct attention_case {
    int batch, new_tokens, past, request_type, position_embedding_type, head_size;
};

enum { LOOP_DECODE_STEPS = 100, LOOP_PREFILL_STEPS = 10 };

/*
 * Per step, in rounds of `steps` enqueues and one synchronisation, for as long as GpuStepBenchmark's
 * JMH run takes (3 s of warm-up rounds, then 5 s of measured rounds): the mean wall and enqueue time
 * a step over the measured rounds (us), as JMH's average time. A GPU under sustained load can lower
 * its clocks, so the two sides run equally long.
 */
template <typename F> void loop_us(F enqueue, int steps, cudaStream_t stream, double *wall, double *host) {
    using clock = std::chrono::steady_clock;
    const auto round = [&](clock::duration *walled, clock::duration *hosted) {
        const auto start = clock::now();
        for (int i = 0; i < steps; i++) enqueue();
        const auto enqueued = clock::now();
        CHECK_CUDA(cudaStreamSynchronize(stream));
        *walled += clock::now() - start;
        *hosted += enqueued - start;
    };
    clock::duration walled{}, hosted{};
    for (const auto warm = clock::now(); clock::now() - warm < std::chrono::seconds(3);) round(&walled, &hosted);
    walled = hosted = {};
    long rounds = 0;
    for (const auto measured = clock::now(); clock::now() - measured < std::chrono::seconds(5); rounds++) round(&walled, &hosted);
    *wall = std::chrono::duration<double, std::micro>(walled).count() / ((double)rounds * steps);
    *host = std::chrono::duration<double, std::micro>(hosted).count() / ((double)rounds * steps);
}

/* One step of the case timed with events (ms); with loop_steps > 0, also as a loop (see loop_us). */
float time_step(const attention_case &k, cudaStream_t stream, int loop_steps = 0, double *wall = nullptr,
                double *host = nullptr) {
    const int H = 32, Hkv = 8, D = k.head_size;
    test_fields f;
    test_default_params(&f.params);
    f.params.num_heads = H;
    f.params.num_kv_heads = Hkv;
    f.params.head_size = D;
    const bool rope = k.position_embedding_type == POS_ROPE_GPT_NEOX;
    f.params.position_embedding_type = (int8_t)k.position_embedding_type;
    f.params.rotary_embedding_dim = rope ? D : 0;
    f.params.type_id = TRTLLM4J_BFLOAT16;
    f.params.max_context_length = std::max(8192, k.past + k.new_tokens);
    trtllm4j_plugin *plugin;
    check(api->create(test_collection(&f), &plugin), "create");

    const int max_seq_len = k.past + k.new_tokens;
    const int tokens = k.batch * k.new_tokens;
    std::vector<int32_t> lengths(k.batch, k.new_tokens), pasts(k.batch, k.past), types(k.batch, k.request_type);
    const int64_t qkv_count = (int64_t)tokens * (H + 2 * Hkv) * D;
    const int64_t cache_count = (int64_t)k.batch * 2 * Hkv * max_seq_len * D;
    const int64_t context_count = (int64_t)tokens * H * D;
    __nv_bfloat16 *qkv = random_bf16(qkv_count, 1), *cache = random_bf16(cache_count, 2), *context;
    CHECK_CUDA(cudaMalloc(&context, context_count * 2));
    const int half = D / 2;
    std::vector<float> inv_freq(half), cos_sin((int64_t)max_seq_len * half * 2);
    for (int i = 0; i < half; i++) inv_freq[i] = (float)std::pow(10000.0, -2.0 * i / D);
    for (int64_t p = 0; p < max_seq_len; p++) {
        for (int i = 0; i < half; i++) {
            cos_sin[(p * half + i) * 2] = (float)std::cos(p * (double)inv_freq[i]);
            cos_sin[(p * half + i) * 2 + 1] = (float)std::sin(p * (double)inv_freq[i]);
        }
    }
    float *d_freq, *d_table;
    CHECK_CUDA(cudaMalloc(&d_freq, half * 4));
    CHECK_CUDA(cudaMalloc(&d_table, cos_sin.size() * 4));
    CHECK_CUDA(cudaMemcpy(d_freq, inv_freq.data(), half * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(d_table, cos_sin.data(), cos_sin.size() * 4, cudaMemcpyHostToDevice));

    trtllm4j_attention_step s{};
    s.batch_size = k.batch;
    s.num_tokens = tokens;
    s.max_seq_len = max_seq_len;
    s.max_attention_window = max_seq_len;
    s.rotary_positions = rope ? max_seq_len : 0;
    s.input_lengths = {lengths.data(), k.batch * 4, TRTLLM4J_HOST, TRTLLM4J_INT32};
    s.past_lengths = {pasts.data(), k.batch * 4, TRTLLM4J_HOST, TRTLLM4J_INT32};
    s.host_request_types = {types.data(), k.batch * 4, TRTLLM4J_HOST, TRTLLM4J_INT32};
    s.qkv = {qkv, qkv_count * 2, TRTLLM4J_DEVICE, TRTLLM4J_BFLOAT16};
    s.kv_cache = {cache, cache_count * 2, TRTLLM4J_DEVICE, TRTLLM4J_BFLOAT16};
    s.context = {context, context_count * 2, TRTLLM4J_DEVICE, TRTLLM4J_BFLOAT16};
    if (rope) {
        s.rotary_inv_freq = {d_freq, half * 4, TRTLLM4J_DEVICE, TRTLLM4J_FLOAT32};
        s.rotary_cos_sin = {d_table, (int64_t)cos_sin.size() * 4, TRTLLM4J_DEVICE, TRTLLM4J_FLOAT32};
    }
    int64_t bytes;
    check(api->workspace_size(plugin, &s, &bytes), "workspace_size");
    void *workspace;
    CHECK_CUDA(cudaMalloc(&workspace, bytes));
    s.workspace = {workspace, bytes, TRTLLM4J_DEVICE, TRTLLM4J_INT32};
    s.stream = stream;
    auto enqueue = [&] { check(api->enqueue(plugin, &s), "enqueue"); };
    float ms = median_ms(enqueue, stream);
    if (loop_steps > 0) loop_us(enqueue, loop_steps, stream, wall, host);
    CHECK_CUDA(cudaStreamSynchronize(stream));
    api->destroy(plugin);
    for (void *p : {(void *)qkv, (void *)cache, (void *)context, (void *)d_freq, (void *)d_table, workspace}) CHECK_CUDA(cudaFree(p));
    return ms;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_cuda LIBDIR [decode|prefill|loop]\n");
        return 2;
    }
    const std::string mode = argc > 2 ? argv[2] : "";
    std::string path = std::string(argv[1]) + "/libtrtllm4j_cuda.so";
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        std::fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    api = reinterpret_cast<trtllm4j_backend_entry>(dlsym(handle, TRTLLM4J_BACKEND_ENTRY_SYMBOL))();
    check(api->initialize(), "initialize");
    std::printf("%s\n", api->describe());
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));

    if (mode == "loop") {
        std::printf("| steps back to back, from C | steps a round | us a step (mean) | host us in enqueue a step (mean) |\n"
                    "| --- | --- | --- | --- |\n");
        const struct {
            const char *name;
            attention_case shape;
            int steps;
        } loops[] = {{"decode bf16, 1 x 4096 cached", {1, 1, 4096, TRTLLM4J_REQUEST_GENERATION, POS_ROPE_GPT_NEOX, 128}, LOOP_DECODE_STEPS},
                     {"decode bf16, 64 x 4096 cached", {64, 1, 4096, TRTLLM4J_REQUEST_GENERATION, POS_ROPE_GPT_NEOX, 128}, LOOP_DECODE_STEPS},
                     {"prefill bf16, 2 x 4096, RoPE", {2, 4096, 0, TRTLLM4J_REQUEST_CONTEXT, POS_ROPE_GPT_NEOX, 128}, LOOP_PREFILL_STEPS}};
        for (const auto &l : loops) {
            double wall, host;
            time_step(l.shape, stream, l.steps, &wall, &host);
            std::printf("| %s | %d | %.1f | %.1f |\n", l.name, l.steps, wall, host);
        }
        return 0;
    }

    const int64_t copy_bytes = 1ll << 30, largest = 64ll * 2 * 8 * 4097 * 128 * 2; /* batch 64's cache: over 1 GiB */
    void *a, *b;
    CHECK_CUDA(cudaMalloc(&a, largest));
    CHECK_CUDA(cudaMalloc(&b, largest));
    CHECK_CUDA(cudaMemsetAsync(a, 1, largest, stream));
    auto copy_ms = [&](int64_t bytes) {
        return median_ms([&] { CHECK_CUDA(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, stream)); }, stream);
    };
    const float copy = mode == "prefill" ? 0.0f : copy_ms(copy_bytes);

    std::printf("| trtllm4j cuda | time (ms) | rate | read the cache once (ms) | of that floor |\n"
                "| --- | --- | --- | --- | --- |\n");
    for (int batch : {1, 8, 64}) {
        if (mode == "prefill") break;
        const float decode = time_step({batch, 1, 4096, TRTLLM4J_REQUEST_GENERATION, POS_ROPE_GPT_NEOX, 128}, stream);
        const int64_t bytes = (int64_t)batch * 2 * 8 * 4097 * 128 * 2;
        const float once = copy_ms(bytes) / 2;
        std::printf("| decode bf16, %d x 4096 cached, 32/8 heads, D 128, RoPE | %.4f | %.2f TB/s KV read | %.4f | %.0f%% |\n",
                    batch, decode, bytes / (decode * 1e-3) / 1e12, once, 100.0 * once / decode);
    }
    if (mode != "decode") {
        const int shapes[][2] = {{4096, 128}, {4096, 64}, {4096, 256}, {512, 128}, {16384, 128}}; /* S, D */
        for (const auto &shape : shapes) {
            const int S = shape[0], D = shape[1];
            const double flops = 2 * 2.0 * S * (double)S * D * 32;
            for (int position : {POS_ROPE_GPT_NEOX, POS_LEARNED_ABSOLUTE}) {
                const float ms = time_step({2, S, 0, TRTLLM4J_REQUEST_CONTEXT, position, D}, stream);
                std::printf("| prefill bf16, 2 x %d, D %d, causal, %s | %.3f | %.0f TFLOP/s | | |\n", S, D,
                            position == POS_ROPE_GPT_NEOX ? "RoPE" : "no RoPE", ms, flops / (ms * 1e-3) / 1e12);
            }
        }
    }
    if (mode != "prefill") {
        std::printf("| device copy 1 GiB | %.3f | %.2f TB/s (read + written) | | |\n", copy, 2.0 * copy_bytes / (copy * 1e-3) / 1e12);
    }
    return 0;
}
