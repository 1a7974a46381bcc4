/*
 * Compares the cuda backend against the cpu backend, through the bridge ABI alone, on random
 * configurations and mixed batches (context, chunked context and generation requests):
 *   cuda_check LIBDIR [cases] [seed]     both libraries from LIBDIR; prints `N passed, N failed`
 *   cuda_check LIBDIR --initialize       only the cuda backend's initialize() and describe()
 * `cases` random configurations of every kind, then cases / 4 prefill configurations: the 16-bit
 * types, head sizes 64, 128 and 256, plain causal logits and long prompts, the steps that the
 * fastest context kernels take (context_wgmma.cu on sm_90a; a quarter of them prompts of whole key
 * tiles from position 0, whose K and V that kernel writes); then cases / 16 wide configurations:
 * hundreds of heads of sizes whose 16-byte pieces do not divide the pre-pass's chunks, so that a
 * chunk ends inside a head and a GPT-NeoX piece's partner lies in the next chunk.
 * Inputs are uniform in [-1, 1]; the outputs are poisoned (all bits set: NaN) before each run. Cache
 * positions past each sequence's end hold +infinity, which no kernel may let into an output (a key
 * tile that runs past the end must mask those keys and not multiply their V by a zero weight).
 * Each case runs twice on CUDA, from the same inputs: both runs must give the same bytes.
 */
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "plugin_fields.h"

namespace {

const trtllm4j_backend_api *open_backend(const std::string &path) {
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), dlerror());
        std::exit(2);
    }
    auto entry = reinterpret_cast<trtllm4j_backend_entry>(dlsym(handle, TRTLLM4J_BACKEND_ENTRY_SYMBOL));
    if (entry == nullptr || entry()->abi_version != TRTLLM4J_ABI_VERSION) {
        std::fprintf(stderr, "%s: no trtllm4j_backend of ABI version %d\n", path.c_str(), TRTLLM4J_ABI_VERSION);
        std::exit(2);
    }
    return entry();
}

uint16_t to_bf16(float x) {
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

float from_bits(const void *data, int64_t i, int32_t type) {
    if (type == TRTLLM4J_FLOAT32) return static_cast<const float *>(data)[i];
    if (type == TRTLLM4J_FLOAT16) return (float)static_cast<const _Float16 *>(data)[i];
    uint32_t bits = (uint32_t) static_cast<const uint16_t *>(data)[i] << 16;
    float x;
    std::memcpy(&x, &bits, 4);
    return x;
}

void store_bits(void *data, int64_t i, int32_t type, float x) {
    if (type == TRTLLM4J_FLOAT32) static_cast<float *>(data)[i] = x;
    else if (type == TRTLLM4J_FLOAT16) static_cast<_Float16 *>(data)[i] = (_Float16)x;
    else static_cast<uint16_t *>(data)[i] = to_bf16(x);
}

struct sequence {
    int32_t type, length, past;
};

struct config {
    int32_t type_id, head_size, num_heads, num_kv_heads, position_embedding_type, rotary_dim;
    float q_scaling, softcap;
    int32_t window, sinks, max_seq_len;
    std::vector<sequence> sequences;
};

bool is_rope(int32_t t) {
    return t == POS_ROPE_GPTJ || t == POS_ROPE_GPT_NEOX || t == POS_LONG_ROPE || t == POS_YARN;
}

bool is_alibi(int32_t t) {
    return t == POS_ALIBI || t == POS_ALIBI_WITH_SCALE;
}

const char *type_name(int32_t t) {
    return t == TRTLLM4J_FLOAT32 ? "fp32" : t == TRTLLM4J_FLOAT16 ? "fp16" : "bf16";
}

std::string describe(const config &c) {
    char text[512];
    int n = std::snprintf(text, sizeof text, "%s D=%d H=%d Hkv=%d pos=%d rot=%d qs=%g cap=%g W=%d S=%d L=%d seqs=",
                          type_name(c.type_id), c.head_size, c.num_heads, c.num_kv_heads, c.position_embedding_type,
                          c.rotary_dim, c.q_scaling, c.softcap, c.window, c.sinks, c.max_seq_len);
    std::string s(text, n);
    for (const sequence &q : c.sequences) {
        s += q.type == TRTLLM4J_REQUEST_CONTEXT ? "[ctx " : "[gen ";
        s += std::to_string(q.length) + "+" + std::to_string(q.past) + "]";
    }
    return s;
}

const int32_t HEAD_SIZES[] = {32, 48, 64, 72, 80, 96, 104, 112, 128, 144, 160, 192, 224, 256};
const int32_t POSITIONS[] = {POS_LEARNED_ABSOLUTE, POS_ROPE_GPTJ, POS_ROPE_GPT_NEOX, POS_LONG_ROPE,
                             POS_ALIBI,            POS_ALIBI_WITH_SCALE, POS_YARN};

config random_config(std::mt19937 &rng, int index) {
    auto pick = [&](int n) { return (int)(rng() % (unsigned)n); };
    config c;
    const int32_t types[] = {TRTLLM4J_FLOAT32, TRTLLM4J_FLOAT16, TRTLLM4J_BFLOAT16};
    c.type_id = types[index % 3];
    const bool big = index % 7 == 6;
    c.head_size = HEAD_SIZES[pick(14)];
    c.num_kv_heads = 1 + pick(big ? 2 : 4);
    const int groups[] = {1, 2, 3, 4, 8};
    c.num_heads = c.num_kv_heads * groups[pick(5)];
    c.position_embedding_type = POSITIONS[pick(7)];
    c.rotary_dim = 0;
    if (is_rope(c.position_embedding_type)) {
        c.rotary_dim = pick(2) ? c.head_size : 2 * (1 + pick(c.head_size / 2));
    }
    const float q_scalings[] = {1.0f, 1.0f, 0.5f, 2.0f};
    c.q_scaling = q_scalings[pick(4)];
    const float caps[] = {0.0f, 0.0f, 0.0f, 0.5f, 1.0f, 5.0f};
    c.softcap = caps[pick(6)];
    int batch = 1 + pick(4);
    int longest = 1;
    for (int b = 0; b < batch; b++) {
        sequence q;
        if (pick(2)) {
            q.type = TRTLLM4J_REQUEST_CONTEXT;
            q.length = 1 + pick(big ? 700 : 100);
            q.past = pick(2) ? 0 : 1 + pick(big ? 600 : 150);
        } else {
            q.type = TRTLLM4J_REQUEST_GENERATION;
            q.length = 1;
            q.past = pick(big ? 6000 : 400);
        }
        longest = std::max(longest, q.length + q.past);
        c.sequences.push_back(q);
    }
    c.max_seq_len = longest + pick(8);
    c.window = c.max_seq_len;
    c.sinks = 0;
    if (pick(2)) {
        c.window = 2 + pick(std::max(1, longest - 1));
        if (pick(2)) c.sinks = 1 + pick(std::min(4, c.window - 1));
    }
    return c;
}

/* max_seq_len a few positions past the longest sequence, and an attention window that covers every one. */
void cover_all(config &c, std::mt19937 &rng) {
    int longest = 1;
    for (const sequence &q : c.sequences) longest = std::max(longest, q.length + q.past);
    c.max_seq_len = longest + (int)(rng() % 8u);
    c.window = c.max_seq_len;
    c.sinks = 0;
}

/* A configuration the sm_90a context kernel takes: 16-bit, head size 64/128/256, no ALiBi, soft-capping or window. */
config prefill_config(std::mt19937 &rng, int index) {
    auto pick = [&](int n) { return (int)(rng() % (unsigned)n); };
    config c;
    c.type_id = index % 2 ? TRTLLM4J_BFLOAT16 : TRTLLM4J_FLOAT16;
    const int32_t sizes[] = {64, 128, 256};
    c.head_size = sizes[index % 3];
    c.num_kv_heads = 1 + pick(2);
    const int groups[] = {1, 2, 4, 8};
    c.num_heads = c.num_kv_heads * groups[pick(4)];
    const int32_t positions[] = {POS_LEARNED_ABSOLUTE, POS_ROPE_GPTJ, POS_ROPE_GPT_NEOX, POS_LONG_ROPE, POS_YARN};
    c.position_embedding_type = positions[pick(5)];
    c.rotary_dim = 0;
    if (is_rope(c.position_embedding_type)) {
        c.rotary_dim = pick(2) ? c.head_size : 2 * (1 + pick(c.head_size / 2));
    }
    const float q_scalings[] = {1.0f, 0.5f, 2.0f};
    c.q_scaling = q_scalings[pick(3)];
    c.softcap = 0.0f;
    const int batch = 1 + pick(3);
    /* One in four: prompts of whole 128-token tiles from position 0, whose K and V the sm_90a kernel writes. */
    const bool whole_tiles = pick(4) == 0;
    for (int b = 0; b < batch; b++) {
        sequence q;
        if (b == 0 || pick(4)) {
            q.type = TRTLLM4J_REQUEST_CONTEXT;
            q.length = whole_tiles ? 128 * (1 + pick(5)) : 1 + pick(700);
            q.past = whole_tiles || pick(2) ? 0 : 1 + pick(300);
        } else {
            q.type = TRTLLM4J_REQUEST_GENERATION;
            q.length = 1;
            q.past = pick(600);
        }
        c.sequences.push_back(q);
    }
    cover_all(c, rng);
    return c;
}

/* Many heads of 48, 80 or 112 features with RoPE over all of them: a token's row spans several pre-pass chunks. */
config wide_config(std::mt19937 &rng, int index) {
    auto pick = [&](int n) { return (int)(rng() % (unsigned)n); };
    config c;
    const int32_t types[] = {TRTLLM4J_FLOAT16, TRTLLM4J_BFLOAT16, TRTLLM4J_FLOAT32};
    c.type_id = types[index % 3];
    const int32_t sizes[] = {48, 80, 112};
    c.head_size = sizes[pick(3)];
    c.num_kv_heads = 64 + pick(64);
    c.num_heads = c.num_kv_heads * (1 + pick(2));
    c.position_embedding_type = pick(4) ? POS_ROPE_GPT_NEOX : POS_ROPE_GPTJ;
    c.rotary_dim = c.head_size;
    c.q_scaling = 1.0f;
    c.softcap = 0.0f;
    const int batch = 1 + pick(2);
    for (int b = 0; b < batch; b++) {
        sequence q;
        q.type = TRTLLM4J_REQUEST_CONTEXT;
        q.length = 1 + pick(24);
        q.past = pick(2) ? 0 : 1 + pick(40);
        c.sequences.push_back(q);
    }
    cover_all(c, rng);
    return c;
}

struct result {
    double context_error = 0, cache_error = 0;
    bool ok = false;
};

/* Device memory of the cuda backend holding a copy of host bytes. */
struct device_buffer {
    const trtllm4j_backend_api *api;
    void *data = nullptr;
    int64_t bytes;
    device_buffer(const trtllm4j_backend_api *a, const void *host, int64_t n) : api(a), bytes(n) {
        if (n == 0) return;
        if (api->allocate(n, &data) != TRTLLM4J_OK || api->copy(data, host, n, TRTLLM4J_HOST_TO_DEVICE) != TRTLLM4J_OK) {
            std::fprintf(stderr, "device buffer: %s\n", api->last_error());
            std::exit(2);
        }
    }
    ~device_buffer() { api->release(data); }
};

trtllm4j_buffer buffer(void *data, int64_t bytes, int32_t location, int32_t type) {
    return trtllm4j_buffer{data, bytes, location, type};
}

result run_case(const trtllm4j_backend_api *cpu, const trtllm4j_backend_api *cuda, const config &c, std::mt19937 &rng) {
    result r;
    test_fields f;
    test_default_params(&f.params);
    f.params.num_heads = c.num_heads;
    f.params.num_kv_heads = c.num_kv_heads;
    f.params.head_size = c.head_size;
    f.params.q_scaling = c.q_scaling;
    f.params.attn_logit_softcapping_scale = c.softcap;
    f.params.position_embedding_type = (int8_t)c.position_embedding_type;
    f.params.rotary_embedding_dim = c.rotary_dim;
    f.params.type_id = c.type_id;
    f.params.max_context_length = c.max_seq_len;
    f.params.rotary_embedding_max_positions = c.max_seq_len;
    trtllm4j_plugin *cpu_plugin = nullptr, *cuda_plugin = nullptr;
    if (cpu->create(test_collection(&f), &cpu_plugin) != TRTLLM4J_OK) {
        std::printf("FAIL cpu create: %s: %s\n", cpu->last_error(), describe(c).c_str());
        return r;
    }
    if (cuda->create(test_collection(&f), &cuda_plugin) != TRTLLM4J_OK) {
        std::printf("FAIL cuda create: %s: %s\n", cuda->last_error(), describe(c).c_str());
        cpu->destroy(cpu_plugin);
        return r;
    }

    const int batch = (int)c.sequences.size();
    std::vector<int32_t> lengths(batch), pasts(batch), types(batch);
    int32_t tokens = 0;
    for (int b = 0; b < batch; b++) {
        lengths[b] = c.sequences[b].length;
        pasts[b] = c.sequences[b].past;
        types[b] = c.sequences[b].type;
        tokens += lengths[b];
    }
    const int64_t element = c.type_id == TRTLLM4J_FLOAT32 ? 4 : 2;
    const int64_t D = c.head_size;
    const int64_t qkv_count = tokens * (int64_t)(c.num_heads + 2 * c.num_kv_heads) * D;
    const int64_t cache_count = (int64_t)batch * 2 * c.num_kv_heads * c.max_seq_len * D;
    const int64_t context_count = tokens * (int64_t)c.num_heads * D;
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<unsigned char> qkv(qkv_count * element), cache(cache_count * element);
    for (int64_t i = 0; i < qkv_count; i++) store_bits(qkv.data(), i, c.type_id, uniform(rng));
    for (int64_t i = 0; i < cache_count; i++) store_bits(cache.data(), i, c.type_id, uniform(rng));
    for (int b = 0; b < batch; b++) {
        for (int64_t kv_row = (int64_t)b * 2 * c.num_kv_heads; kv_row < (int64_t)(b + 1) * 2 * c.num_kv_heads; kv_row++) {
            for (int64_t pos = pasts[b] + lengths[b]; pos < c.max_seq_len; pos++) {
                for (int64_t i = 0; i < D; i++) store_bits(cache.data(), (kv_row * c.max_seq_len + pos) * D + i, c.type_id, INFINITY);
            }
        }
    }
    const int half = c.rotary_dim / 2;
    std::vector<float> inv_freq(std::max(half, 1)), cos_sin((int64_t)c.max_seq_len * std::max(half, 1) * 2);
    for (int i = 0; i < half; i++) inv_freq[i] = (float)std::pow(10000.0, -2.0 * i / c.rotary_dim);
    for (int64_t p = 0; p < c.max_seq_len; p++) {
        for (int i = 0; i < half; i++) {
            cos_sin[(p * half + i) * 2] = (float)std::cos(p * (double)inv_freq[i]);
            cos_sin[(p * half + i) * 2 + 1] = (float)std::sin(p * (double)inv_freq[i]);
        }
    }
    std::vector<float> slopes(c.num_heads);
    for (int h = 0; h < c.num_heads; h++) slopes[h] = (float)std::pow(2.0, -8.0 * (h + 1) / c.num_heads);

    const bool rope = is_rope(c.position_embedding_type);
    const bool alibi = is_alibi(c.position_embedding_type);
    auto make_step = [&](int32_t location, void *q, void *kv, void *ctx, void *freq, void *table, void *slope) {
        trtllm4j_attention_step s{};
        s.batch_size = batch;
        s.num_tokens = tokens;
        s.max_seq_len = c.max_seq_len;
        s.max_attention_window = c.window;
        s.sink_token_length = c.sinks;
        s.rotary_positions = rope ? c.max_seq_len : 0;
        s.input_lengths = buffer(lengths.data(), batch * 4, TRTLLM4J_HOST, TRTLLM4J_INT32);
        s.past_lengths = buffer(pasts.data(), batch * 4, TRTLLM4J_HOST, TRTLLM4J_INT32);
        s.host_request_types = buffer(types.data(), batch * 4, TRTLLM4J_HOST, TRTLLM4J_INT32);
        s.qkv = buffer(q, qkv_count * element, location, c.type_id);
        s.kv_cache = buffer(kv, cache_count * element, location, c.type_id);
        s.context = buffer(ctx, context_count * element, location, c.type_id);
        if (rope) {
            s.rotary_inv_freq = buffer(freq, half * 4, location, TRTLLM4J_FLOAT32);
            s.rotary_cos_sin = buffer(table, (int64_t)c.max_seq_len * half * 8, location, TRTLLM4J_FLOAT32);
            if (c.position_embedding_type == POS_LONG_ROPE) {
                s.long_rope_rotary_inv_freq = s.rotary_inv_freq;
                s.long_rope_rotary_cos_sin = s.rotary_cos_sin;
            }
        }
        if (alibi) s.alibi_slopes = buffer(slope, c.num_heads * 4, location, TRTLLM4J_FLOAT32);
        return s;
    };

    /* cpu */
    std::vector<unsigned char> cpu_cache = cache, cpu_context(context_count * element, 0xff);
    trtllm4j_attention_step s = make_step(TRTLLM4J_HOST, qkv.data(), cpu_cache.data(), cpu_context.data(),
                                          inv_freq.data(), cos_sin.data(), slopes.data());
    int64_t bytes = 0;
    cpu->workspace_size(cpu_plugin, &s, &bytes);
    std::vector<unsigned char> cpu_workspace(bytes);
    s.workspace = buffer(cpu_workspace.data(), bytes, TRTLLM4J_HOST, TRTLLM4J_INT32);
    if (cpu->enqueue(cpu_plugin, &s) != TRTLLM4J_OK) {
        std::printf("FAIL cpu enqueue: %s: %s\n", cpu->last_error(), describe(c).c_str());
        return r;
    }

    /* cuda */
    device_buffer d_qkv(cuda, qkv.data(), qkv.size()), d_cache(cuda, cache.data(), cache.size());
    std::vector<unsigned char> context(context_count * element, 0xff);
    device_buffer d_context(cuda, context.data(), context.size());
    device_buffer d_freq(cuda, inv_freq.data(), rope ? half * 4 : 0);
    device_buffer d_table(cuda, cos_sin.data(), rope ? (int64_t)c.max_seq_len * half * 8 : 0);
    device_buffer d_slopes(cuda, slopes.data(), alibi ? c.num_heads * 4 : 0);
    s = make_step(TRTLLM4J_DEVICE, d_qkv.data, d_cache.data, d_context.data, d_freq.data, d_table.data, d_slopes.data);
    cuda->workspace_size(cuda_plugin, &s, &bytes);
    std::vector<unsigned char> poison(bytes, 0xff);
    device_buffer d_workspace(cuda, poison.data(), bytes);
    s.workspace = buffer(d_workspace.data, bytes, TRTLLM4J_DEVICE, TRTLLM4J_INT32);
    if (cuda->enqueue(cuda_plugin, &s) != TRTLLM4J_OK || cuda->stream_synchronize(nullptr) != TRTLLM4J_OK) {
        std::printf("FAIL cuda enqueue: %s: %s\n", cuda->last_error(), describe(c).c_str());
        return r;
    }
    std::vector<unsigned char> cuda_cache(cache.size());
    if (cuda->copy(context.data(), d_context.data, context.size(), TRTLLM4J_DEVICE_TO_HOST) != TRTLLM4J_OK ||
        cuda->copy(cuda_cache.data(), d_cache.data, cache.size(), TRTLLM4J_DEVICE_TO_HOST) != TRTLLM4J_OK) {
        std::printf("FAIL cuda copy: %s\n", cuda->last_error());
        return r;
    }
    auto max_error = [&](const std::vector<unsigned char> &x, const std::vector<unsigned char> &y, int64_t n) {
        double worst = 0;
        for (int64_t i = 0; i < n; i++) {
            if (std::memcmp(x.data() + i * element, y.data() + i * element, element) == 0) continue; /* infinities too */
            double d = std::fabs((double)from_bits(x.data(), i, c.type_id) - from_bits(y.data(), i, c.type_id));
            if (!(d <= worst)) worst = d; /* NaN sticks */
            if (std::isnan(worst)) break;
        }
        return worst;
    };
    r.context_error = max_error(cpu_context, context, context_count);
    r.cache_error = max_error(cpu_cache, cuda_cache, cache_count);
    const double tolerance = c.type_id == TRTLLM4J_FLOAT32 ? 1e-5 : c.type_id == TRTLLM4J_FLOAT16 ? 2e-3 : 1.6e-2;
    r.ok = r.context_error <= tolerance && r.cache_error <= tolerance;
    if (!r.ok) {
        std::printf("FAIL context error %.3g, cache error %.3g (tolerance %.3g): %s\n", r.context_error, r.cache_error,
                    tolerance, describe(c).c_str());
    }

    /* Again from the same inputs (a fresh cache, a poisoned output): the same bytes. */
    std::vector<unsigned char> again(context.size(), 0xff), cache_again(cache.size());
    if (cuda->copy(d_cache.data, cache.data(), cache.size(), TRTLLM4J_HOST_TO_DEVICE) != TRTLLM4J_OK ||
        cuda->copy(d_context.data, again.data(), again.size(), TRTLLM4J_HOST_TO_DEVICE) != TRTLLM4J_OK ||
        cuda->enqueue(cuda_plugin, &s) != TRTLLM4J_OK || cuda->stream_synchronize(nullptr) != TRTLLM4J_OK ||
        cuda->copy(again.data(), d_context.data, again.size(), TRTLLM4J_DEVICE_TO_HOST) != TRTLLM4J_OK ||
        cuda->copy(cache_again.data(), d_cache.data, cache.size(), TRTLLM4J_DEVICE_TO_HOST) != TRTLLM4J_OK) {
        std::printf("FAIL cuda second run: %s: %s\n", cuda->last_error(), describe(c).c_str());
        r.ok = false;
    } else if (again != context || cache_again != cuda_cache) {
        std::printf("FAIL a second run gave other bytes (%s differs): %s\n", again != context ? "context" : "cache",
                    describe(c).c_str());
        r.ok = false;
    }
    cpu->destroy(cpu_plugin);
    cuda->destroy(cuda_plugin);
    return r;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: cuda_check LIBDIR [cases [seed]] | LIBDIR --initialize\n");
        return 2;
    }
    const std::string dir = argv[1];
    const trtllm4j_backend_api *cuda = open_backend(dir + "/libtrtllm4j_cuda.so");
    if (argc > 2 && std::strcmp(argv[2], "--initialize") == 0) {
        int32_t status = cuda->initialize();
        std::printf("initialize: %d %s\ndescribe: %s\n", status, cuda->last_error(), cuda->describe());
        return status == TRTLLM4J_OK ? 0 : 1;
    }
    if (cuda->initialize() != TRTLLM4J_OK) {
        std::printf("cuda initialize failed: %s\n", cuda->last_error());
        return 1;
    }
    std::printf("%s\n", cuda->describe());
    const trtllm4j_backend_api *cpu = open_backend(dir + "/libtrtllm4j_cpu.so");
    const int cases = argc > 2 ? std::atoi(argv[2]) : 240;
    const unsigned seed = argc > 3 ? (unsigned)std::atoi(argv[3]) : 1234u;
    std::mt19937 rng(seed);
    int passed = 0, failed = 0;
    double worst[3][2] = {};
    int counted[3] = {};
    for (int i = 0; i < cases + cases / 4 + cases / 16; i++) {
        config c = i < cases ? random_config(rng, i) : i < cases + cases / 4 ? prefill_config(rng, i - cases)
                                                                             : wide_config(rng, i - cases - cases / 4);
        result r = run_case(cpu, cuda, c, rng);
        int t = c.type_id == TRTLLM4J_FLOAT32 ? 0 : c.type_id == TRTLLM4J_FLOAT16 ? 1 : 2;
        counted[t]++;
        if (!(r.context_error <= worst[t][0])) worst[t][0] = r.context_error;
        if (!(r.cache_error <= worst[t][1])) worst[t][1] = r.cache_error;
        (r.ok ? passed : failed)++;
    }
    const char *names[3] = {"fp32", "fp16", "bf16"};
    const double tolerances[3] = {1e-5, 2e-3, 1.6e-2};
    for (int t = 0; t < 3; t++) {
        std::printf("%s: %d cases, max abs error context %.3g, cache %.3g (tolerance %.3g)\n", names[t], counted[t],
                    worst[t][0], worst[t][1], tolerances[t]);
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
