/*
 * The tensorrt backend against the cuda and cpu backends, on a GPU host with TensorRT 10:
 *
 *   tensorrt_backend_test LIBRARY_DIR            every check below; ends with "N passed, N failed"
 *   tensorrt_backend_test LIBRARY_DIR --bench    engine build time, decode and prefill steps
 *   tensorrt_backend_test LIBRARY_DIR --cuda-repeatable   whether the cuda backend gives the same
 *                                                bytes twice (what byte-for-byte equality rests on)
 *   tensorrt_backend_test LIBRARY_DIR --without-gpu   where neither TensorRT nor a GPU is: the plugin
 *                                                library's refusals and the backend's "not found"
 *
 * Each configuration runs the same steps (a context step, a mixed batch, generation steps) on the
 * three backends from the same inputs: the tensorrt backend's context and KV cache must equal the
 * cuda backend's byte for byte (the plugin runs the same kernels) and the cpu backend's within the
 * storage type's tolerance. Then: refusals, an engine saved here and opened by a fresh process,
 * the engine cache, and 100 create/enqueue/destroy cycles without device memory growth.
 */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* IPluginCreator: TensorRT-LLM's interface */
#include <NvInferRuntime.h>

#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gpt_attention_fields.h"
#include "trtllm4j.h"

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string &what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        std::printf("FAIL %s\n", what.c_str());
    }
}

struct Backend {
    const trtllm4j_backend_api *api = nullptr;
    void *library = nullptr;

    bool device() const { return api->tensor_location == TRTLLM4J_DEVICE; }
    std::string error() const { return api->last_error(); }
};

Backend load(const std::string &dir, const char *file) {
    Backend b;
    std::string path = dir + "/" + file;
    b.library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (b.library == nullptr) {
        std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), dlerror());
        std::exit(2);
    }
    auto entry = reinterpret_cast<trtllm4j_backend_entry>(dlsym(b.library, TRTLLM4J_BACKEND_ENTRY_SYMBOL));
    b.api = entry();
    if (b.api->initialize != nullptr && b.api->initialize() != TRTLLM4J_OK) {
        std::fprintf(stderr, "%s: initialize failed: %s\n", file, b.api->last_error());
        std::exit(2);
    }
    return b;
}

/* float32 to the storage type's bits and back: round to nearest even, as the kernels store. */
uint16_t to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exponent = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
    uint32_t mantissa = x & 0x7fffff;
    if (exponent <= 0) { /* subnormal half */
        if (exponent < -10) return static_cast<uint16_t>(sign);
        mantissa |= 0x800000;
        uint32_t shift = static_cast<uint32_t>(14 - exponent);
        uint32_t half = mantissa >> shift, rest = mantissa & ((1u << shift) - 1), midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1))) half++;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t half = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return static_cast<uint16_t>(sign | (exponent >= 31 ? 0x7c00 : half));
}

float from_half(uint16_t h) {
    uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float value;
    if (exponent == 0) value = std::ldexp(static_cast<float>(mantissa), -24);
    else if (exponent == 31) value = mantissa ? NAN : INFINITY;
    else value = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
    return sign ? -value : value;
}

uint16_t to_bf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    x += 0x7fff + ((x >> 16) & 1);
    return static_cast<uint16_t>(x >> 16);
}

float from_bf16(uint16_t b) {
    uint32_t x = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
}

int element_size(int32_t type) {
    return type == TRTLLM4J_FLOAT32 ? 4 : 2;
}

std::vector<uint8_t> encode(const std::vector<float> &values, int32_t type) {
    std::vector<uint8_t> out(values.size() * element_size(type));
    for (size_t i = 0; i < values.size(); i++) {
        if (type == TRTLLM4J_FLOAT32) {
            std::memcpy(&out[i * 4], &values[i], 4);
        } else {
            uint16_t bits = type == TRTLLM4J_FLOAT16 ? to_half(values[i]) : to_bf16(values[i]);
            std::memcpy(&out[i * 2], &bits, 2);
        }
    }
    return out;
}

float decode(const std::vector<uint8_t> &bytes, size_t i, int32_t type) {
    if (type == TRTLLM4J_FLOAT32) {
        float f;
        std::memcpy(&f, &bytes[i * 4], 4);
        return f;
    }
    uint16_t bits;
    std::memcpy(&bits, &bytes[i * 2], 2);
    return type == TRTLLM4J_FLOAT16 ? from_half(bits) : from_bf16(bits);
}

/* One model configuration of the comparison. */
struct Config {
    std::string name;
    int32_t heads, kv_heads, head_size, type_id;
    int8_t position_embedding_type = 0;
    int32_t rotary_dim = 0;
    int8_t scale_type = 0;
    float scale = 1.0f;
    int32_t window = 0, sink = 0; /* window 0: the whole cache */
    int32_t batch = 4, max_seq_len = 160;

    GptAttentionFields fields() const {
        GptAttentionFields f(heads, kv_heads, head_size, type_id);
        f.i8("position_embedding_type", position_embedding_type).i32("rotary_embedding_dim", rotary_dim);
        f.i8("rotary_embedding_scale_type", scale_type).f32("rotary_embedding_scale", scale);
        f.i32("max_context_length", max_seq_len);
        if (window > 0) f.i32("mask_type", 2);
        return f;
    }
    bool rope() const { return rotary_dim > 0; }
    bool alibi() const { return position_embedding_type == 4 || position_embedding_type == 5; }
};

/* RoPE tables as TensorRT-LLM's Python hands them over: inv_freq [d/2], cos_sin [positions][d/2][2]. */
void rotary_tables(const Config &c, int32_t positions, std::vector<float> &inv_freq, std::vector<float> &cos_sin) {
    const int half = c.rotary_dim / 2;
    const double base = 10000.0, factor = c.scale;
    inv_freq.assign(half, 0);
    double attention_factor = 1.0;
    for (int i = 0; i < half; i++) {
        double inv = std::pow(base, -2.0 * i / c.rotary_dim);
        if (c.scale_type == 4) { /* llama3: factor, low 1, high 4, original 8192 */
            double wavelength = 2 * M_PI / inv, original = 8192;
            if (wavelength > original / 1.0) inv /= factor;
            else if (wavelength >= original / 4.0) {
                double s = (original / wavelength - 1.0) / (4.0 - 1.0);
                inv = (1 - s) * inv / factor + s * inv;
            }
        } else if (c.scale_type == 5) { /* yarn: beta 32/1, original 4096 */
            auto correction = [&](double r) {
                return c.rotary_dim * std::log(4096 / (r * 2 * M_PI)) / (2 * std::log(base));
            };
            double low = std::max(std::floor(correction(32)), 0.0);
            double high = std::min(std::ceil(correction(1)), c.rotary_dim - 1.0);
            if (low == high) high += 0.001;
            double ramp = std::min(std::max((i - low) / (high - low), 0.0), 1.0);
            double extrapolation = 1 - ramp;
            inv = inv / factor * (1 - extrapolation) + inv * extrapolation;
            attention_factor = 0.1 * std::log(factor) + 1;
        }
        inv_freq[i] = static_cast<float>(inv);
    }
    cos_sin.assign(static_cast<size_t>(positions) * half * 2, 0);
    for (int p = 0; p < positions; p++) {
        for (int i = 0; i < half; i++) {
            double angle = p * static_cast<double>(inv_freq[i]);
            cos_sin[(static_cast<size_t>(p) * half + i) * 2] = static_cast<float>(std::cos(angle) * attention_factor);
            cos_sin[(static_cast<size_t>(p) * half + i) * 2 + 1] = static_cast<float>(std::sin(angle) * attention_factor);
        }
    }
}

std::vector<float> alibi_slopes(int32_t heads) {
    int closest = 1 << static_cast<int>(std::floor(std::log2(heads)));
    std::vector<float> slopes(heads);
    for (int h = 0; h < heads; h++) {
        if (h < closest) slopes[h] = static_cast<float>(std::pow(2.0, -8.0 * (h + 1) / closest));
        else slopes[h] = static_cast<float>(std::pow(2.0, -4.0 * (2 * (h - closest) + 1) / closest));
    }
    return slopes;
}

/* One batch's bookkeeping. */
struct StepShape {
    std::vector<int32_t> input_lengths, past_lengths, types;
    int32_t tokens() const {
        int32_t n = 0;
        for (int32_t l : input_lengths) n += l;
        return n;
    }
};

/* A tensor in a backend's memory. */
struct Tensor {
    const Backend *backend = nullptr;
    void *data = nullptr;
    int64_t bytes = 0;

    Tensor() = default;
    Tensor(const Backend &b, int64_t size) : backend(&b), bytes(size) {
        if (b.device()) {
            if (b.api->allocate(size, &data) != TRTLLM4J_OK) {
                std::fprintf(stderr, "allocate: %s\n", b.api->last_error());
                std::exit(2);
            }
            b.api->fill(data, 0, size);
        } else {
            data = std::calloc(static_cast<size_t>(size), 1);
        }
    }
    Tensor(const Tensor &) = delete;
    Tensor &operator=(Tensor &&other) noexcept {
        std::swap(backend, other.backend);
        std::swap(data, other.data);
        std::swap(bytes, other.bytes);
        return *this;
    }
    ~Tensor() {
        if (backend == nullptr) return;
        if (backend->device()) backend->api->release(data);
        else std::free(data);
    }
    void put(const void *host, int64_t size) {
        if (backend->device()) backend->api->copy(data, host, size, TRTLLM4J_HOST_TO_DEVICE);
        else std::memcpy(data, host, static_cast<size_t>(size));
    }
    std::vector<uint8_t> get() const {
        std::vector<uint8_t> out(static_cast<size_t>(bytes));
        if (backend->device()) backend->api->copy(out.data(), data, bytes, TRTLLM4J_DEVICE_TO_HOST);
        else std::memcpy(out.data(), data, out.size());
        return out;
    }
    trtllm4j_buffer buffer(int32_t type, int64_t size = -1) const {
        return {data, size < 0 ? bytes : size, backend->api->tensor_location, type};
    }
};

/* A plugin of one backend with its KV cache, tables and workspace, running steps. */
struct Runner {
    const Backend &b;
    const Config &c;
    trtllm4j_plugin *plugin = nullptr;
    int32_t status = TRTLLM4J_OK;
    Tensor kv_cache, inv_freq, cos_sin, slopes, workspace, qkv, context;
    void *stream = nullptr;
    int32_t positions = 0;

    Runner(const Backend &backend, const Config &config, trtllm4j_plugin *opened = nullptr) : b(backend), c(config) {
        if (opened != nullptr) {
            plugin = opened;
        } else {
            GptAttentionFields f = c.fields();
            status = b.api->create(f.collection(), &plugin);
            if (status != TRTLLM4J_OK) return;
        }
        int64_t element = element_size(c.type_id);
        kv_cache = Tensor(b, static_cast<int64_t>(c.batch) * 2 * c.kv_heads * c.max_seq_len * c.head_size * element);
        if (c.rope()) {
            positions = c.max_seq_len;
            std::vector<float> inv, table;
            rotary_tables(c, positions, inv, table);
            inv_freq = Tensor(b, static_cast<int64_t>(inv.size()) * 4);
            inv_freq.put(inv.data(), inv_freq.bytes);
            cos_sin = Tensor(b, static_cast<int64_t>(table.size()) * 4);
            cos_sin.put(table.data(), cos_sin.bytes);
        }
        if (c.alibi()) {
            std::vector<float> s = alibi_slopes(c.heads);
            slopes = Tensor(b, c.heads * 4LL);
            slopes.put(s.data(), slopes.bytes);
        }
        if (b.device()) b.api->stream_create(&stream);
    }
    ~Runner() {
        if (stream != nullptr) b.api->stream_destroy(stream);
        b.api->destroy(plugin);
    }

    trtllm4j_attention_step step{};
    StepShape shape;

    /* Puts one step's inputs in place and sizes the workspace; enqueue() then runs it. */
    int32_t prepare(const StepShape &step_shape, const std::vector<uint8_t> &qkv_bytes) {
        shape = step_shape;
        int64_t element = element_size(c.type_id);
        int32_t tokens = shape.tokens();
        qkv = Tensor(b, static_cast<int64_t>(qkv_bytes.size()));
        qkv.put(qkv_bytes.data(), qkv.bytes);
        context = Tensor(b, static_cast<int64_t>(tokens) * c.heads * c.head_size * element);
        trtllm4j_attention_step &s = step;
        s = trtllm4j_attention_step{};
        s.batch_size = static_cast<int32_t>(shape.types.size());
        s.num_tokens = tokens;
        s.max_seq_len = c.max_seq_len;
        s.max_attention_window = c.window > 0 ? c.window : c.max_seq_len;
        s.sink_token_length = c.sink;
        s.rotary_positions = positions;
        int64_t ints = s.batch_size * 4LL;
        s.input_lengths = {shape.input_lengths.data(), ints, TRTLLM4J_HOST, TRTLLM4J_INT32};
        s.past_lengths = {shape.past_lengths.data(), ints, TRTLLM4J_HOST, TRTLLM4J_INT32};
        s.host_request_types = {shape.types.data(), ints, TRTLLM4J_HOST, TRTLLM4J_INT32};
        s.qkv = qkv.buffer(c.type_id);
        s.kv_cache = kv_cache.buffer(c.type_id);
        s.context = context.buffer(c.type_id);
        if (c.rope()) {
            s.rotary_inv_freq = inv_freq.buffer(TRTLLM4J_FLOAT32);
            s.rotary_cos_sin = cos_sin.buffer(TRTLLM4J_FLOAT32);
        }
        if (c.alibi()) s.alibi_slopes = slopes.buffer(TRTLLM4J_FLOAT32);
        s.stream = stream;
        int64_t needed = 0;
        int32_t st = b.api->workspace_size(plugin, &s, &needed);
        if (st != TRTLLM4J_OK) return st;
        if (needed > workspace.bytes) workspace = Tensor(b, needed);
        s.workspace = workspace.buffer(TRTLLM4J_INT32, needed > 0 ? workspace.bytes : 0);
        if (needed == 0) s.workspace.data = nullptr;
        return TRTLLM4J_OK;
    }

    int32_t enqueue() { return b.api->enqueue(plugin, &step); }

    int32_t synchronize() { return stream != nullptr ? b.api->stream_synchronize(stream) : TRTLLM4J_OK; }

    /* Runs one step from host qkv bytes; the outputs stay in context and kv_cache. */
    int32_t run(const StepShape &step_shape, const std::vector<uint8_t> &qkv_bytes) {
        int32_t st = prepare(step_shape, qkv_bytes);
        if (st == TRTLLM4J_OK) st = enqueue();
        return st == TRTLLM4J_OK ? synchronize() : st;
    }
};

std::vector<uint8_t> random_qkv(const Config &c, int32_t tokens, std::mt19937 &random) {
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> values(static_cast<size_t>(tokens) * (c.heads + 2 * c.kv_heads) * c.head_size);
    for (float &v : values) v = uniform(random);
    return encode(values, c.type_id);
}

/* Largest |a - b| / (atol + rtol |b|) over a tensor: at most 1 passes. */
double worst(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b, int32_t type, size_t *where) {
    double tolerance = type == TRTLLM4J_FLOAT32 ? 1e-3 : type == TRTLLM4J_FLOAT16 ? 5e-3 : 3e-2;
    double result = 0;
    size_t n = a.size() / element_size(type);
    for (size_t i = 0; i < n; i++) {
        double x = decode(a, i, type), y = decode(b, i, type);
        double ratio = std::fabs(x - y) / (tolerance + tolerance * std::fabs(y));
        if (!(ratio <= result)) { /* NaN counts as worst */
            result = std::isnan(ratio) ? INFINITY : ratio;
            *where = i;
        }
    }
    return result;
}

size_t first_difference(const std::vector<uint8_t> &a, const std::vector<uint8_t> &b) {
    for (size_t i = 0; i < a.size() && i < b.size(); i++) {
        if (a[i] != b[i]) return i;
    }
    return a.size() == b.size() ? SIZE_MAX : std::min(a.size(), b.size());
}

/* The steps every configuration runs: a context step, a mixed batch, then generation. */
std::vector<StepShape> schedule(const Config &c) {
    std::vector<StepShape> steps;
    StepShape context{{37, 1, 96, 20}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    steps.push_back(context);
    StepShape mixed{{1, 50, 1, 1}, {37, 0, 96, 20}, {1, 0, 1, 1}};
    steps.push_back(mixed);
    std::vector<int32_t> past{38, 50, 97, 21};
    for (int g = 0; g < 3; g++) {
        steps.push_back(StepShape{{1, 1, 1, 1}, past, {1, 1, 1, 1}});
        for (int32_t &p : past) p++;
    }
    (void)c;
    return steps;
}

void compare_backends(const Backend &cpu, const Backend &cuda, const Backend &trt, const Config &c) {
    Runner on_cpu(cpu, c), on_cuda(cuda, c), on_trt(trt, c);
    check(on_trt.status == TRTLLM4J_OK, c.name + ": tensorrt create: " + trt.error());
    check(on_cuda.status == TRTLLM4J_OK, c.name + ": cuda create: " + cuda.error());
    check(on_cpu.status == TRTLLM4J_OK, c.name + ": cpu create: " + cpu.error());
    if (on_trt.status || on_cuda.status || on_cpu.status) return;
    std::mt19937 random(1234);
    int index = 0;
    for (const StepShape &shape : schedule(c)) {
        std::string step = c.name + " step " + std::to_string(index++);
        std::vector<uint8_t> qkv = random_qkv(c, shape.tokens(), random);
        int32_t s_trt = on_trt.run(shape, qkv), s_cuda = on_cuda.run(shape, qkv), s_cpu = on_cpu.run(shape, qkv);
        check(s_trt == TRTLLM4J_OK, step + ": tensorrt enqueue: " + trt.error());
        check(s_cuda == TRTLLM4J_OK, step + ": cuda enqueue: " + cuda.error());
        check(s_cpu == TRTLLM4J_OK, step + ": cpu enqueue: " + cpu.error());
        if (s_trt || s_cuda || s_cpu) return;
        std::vector<uint8_t> trt_context = on_trt.context.get(), trt_cache = on_trt.kv_cache.get();
        size_t at = first_difference(trt_context, on_cuda.context.get());
        check(at == SIZE_MAX, step + ": tensorrt context equals cuda's byte for byte (first difference at byte " +
                                  std::to_string(at) + ")");
        at = first_difference(trt_cache, on_cuda.kv_cache.get());
        check(at == SIZE_MAX, step + ": tensorrt KV cache equals cuda's byte for byte (first difference at byte " +
                                  std::to_string(at) + ")");
        size_t where = 0;
        double ratio = worst(trt_context, on_cpu.context.get(), c.type_id, &where);
        check(ratio <= 1, step + ": tensorrt context within tolerance of cpu's (worst " + std::to_string(ratio) +
                              " x tolerance at element " + std::to_string(where) + ")");
        ratio = worst(trt_cache, on_cpu.kv_cache.get(), c.type_id, &where);
        check(ratio <= 1, step + ": tensorrt KV cache within tolerance of cpu's (worst " + std::to_string(ratio) +
                              " x tolerance at element " + std::to_string(where) + ")");
    }
}

bool mentions(const std::string &message, const std::string &field) {
    return message.find(field) != std::string::npos;
}

/* Fields TensorRT-LLM accepts that neither the network nor the kernels implement, and fields it
   rejects or aborts on: each must fail at create, naming the field, in the backend and in the
   plugin's own createPlugin. */
struct Refusal {
    std::string field;
    std::function<void(GptAttentionFields &)> change;
};

std::vector<Refusal> refusals() {
    return {
        {"paged_kv_cache", [](GptAttentionFields &f) { f.i32("paged_kv_cache", 1); }},
        {"remove_input_padding", [](GptAttentionFields &f) { f.i8("remove_input_padding", 0); }},
        {"use_cache", [](GptAttentionFields &f) { f.i32("use_cache", 0); }},
        {"kv_cache_quant_mode", [](GptAttentionFields &f) { f.i32("kv_cache_quant_mode", 128); }},
        {"position_embedding_type", [](GptAttentionFields &f) { f.i8("position_embedding_type", 6); }},
        {"position_embedding_type", [](GptAttentionFields &f) { f.i8("position_embedding_type", 7); }},
        {"position_embedding_type",
         [](GptAttentionFields &f) { f.i8("position_embedding_type", 9).i32("rotary_embedding_dim", 64); }},
        {"mask_type", [](GptAttentionFields &f) { f.i32("mask_type", 6); }},
        {"unfuse_qkv_gemm", [](GptAttentionFields &f) { f.i8("unfuse_qkv_gemm", 1); }},
        {"qkv_bias_enabled", [](GptAttentionFields &f) { f.i8("qkv_bias_enabled", 1); }},
        {"do_cross_attention", [](GptAttentionFields &f) { f.i8("do_cross_attention", 1); }},
        {"has_full_attention_mask", [](GptAttentionFields &f) { f.i8("has_full_attention_mask", 1); }},
        {"is_spec_decoding_enabled", [](GptAttentionFields &f) { f.i8("is_spec_decoding_enabled", 1); }},
        {"use_logn_scaling", [](GptAttentionFields &f) { f.i8("use_logn_scaling", 1); }},
        {"skip_attn", [](GptAttentionFields &f) { f.i8("skip_attn", 1); }},
        {"fuse_fp4_quant", [](GptAttentionFields &f) { f.i8("fuse_fp4_quant", 1); }},
        {"pos_shift_enabled", [](GptAttentionFields &f) { f.i8("pos_shift_enabled", 1); }},
        {"cp_size", [](GptAttentionFields &f) { f.i32("cp_size", 2); }},
        {"vision_length", [](GptAttentionFields &f) { f.i32("vision_start", 0).i32("vision_length", 16); }},
        /* TensorRT-LLM aborts the process on these (AttentionOp::initialize) or rejects them */
        {"rotary_embedding_dim", [](GptAttentionFields &f) { f.i8("position_embedding_type", 2); }},
        {"rotary_embedding_dim", [](GptAttentionFields &f) { f.i32("rotary_embedding_dim", 64); }},
        {"head_size", [](GptAttentionFields &f) { f.i32("head_size", 100); }},
        {"is_mla_enabled", [](GptAttentionFields &f) { f.i8("is_mla_enabled", 1); }},
        {"num_kv_heads", [](GptAttentionFields &f) { f.i32("num_kv_heads", 3); }},
        {"type_id", [](GptAttentionFields &f) { f.i32("type_id", 3); }},
        {"q_scaling", [](GptAttentionFields &f) { f.i32("q_scaling", 1); }},
        {"max_context_length", [](GptAttentionFields &f) { f.remove("max_context_length"); }},
        {"no_such_field", [](GptAttentionFields &f) { f.i32("no_such_field", 1); }},
    };
}

void check_plugin_library(const std::string &dir, bool gpu);

void check_refusals(const Backend &trt, const std::string &dir) {
    for (const Refusal &r : refusals()) {
        GptAttentionFields f(8, 8, 64, TRTLLM4J_FLOAT16);
        r.change(f);
        trtllm4j_plugin *plugin = nullptr;
        int32_t status = trt.api->create(f.collection(), &plugin);
        std::string message = trt.error();
        check(status != TRTLLM4J_OK && plugin == nullptr && mentions(message, r.field),
              "tensorrt backend refuses " + r.field + " (status " + std::to_string(status) + ": " + message + ")");
        trt.api->destroy(plugin);
    }
    check_plugin_library(dir, true);
}

/* The plugin library's own creator, as trtexec or any TensorRT program would call it. Refusals come
   before any CUDA call; a plugin that is accepted needs a GPU (gpu). */
void check_plugin_library(const std::string &dir, bool gpu) {
    std::string path = dir + "/libtrtllm4j_tensorrt_plugin.so";
    void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    check(library != nullptr, "the plugin library loads: " + path);
    if (library == nullptr) return;
    auto creators = reinterpret_cast<nvinfer1::IPluginCreator *const *(*)(int32_t &)>(dlsym(library, "getPluginCreators"));
    auto last_error = reinterpret_cast<const char *(*)()>(dlsym(library, "trtllm4j_plugin_last_error"));
    check(creators != nullptr && dlsym(library, "getCreators") != nullptr && dlsym(library, "setLoggerFinder") != nullptr &&
              last_error != nullptr,
          "the plugin library exports getCreators, getPluginCreators, setLoggerFinder and trtllm4j_plugin_last_error");
    if (creators == nullptr || last_error == nullptr) return;
    int32_t count = 0;
    nvinfer1::IPluginCreator *creator = creators(count)[0];
    check(count == 1 && std::strcmp(creator->getPluginName(), "GPTAttention") == 0 &&
              std::strcmp(creator->getPluginVersion(), "1") == 0 &&
              std::strcmp(creator->getPluginNamespace(), "trtllm4j") == 0,
          "the plugin library's one creator is GPTAttention, version 1, namespace trtllm4j");
    check(creator->getFieldNames()->nbFields == 58, "the creator lists TensorRT-LLM's 58 fields");
    for (const Refusal &r : refusals()) {
        GptAttentionFields f(8, 8, 64, TRTLLM4J_FLOAT16);
        r.change(f);
        nvinfer1::IPluginV2 *plugin =
            creator->createPlugin("t", reinterpret_cast<const nvinfer1::PluginFieldCollection *>(f.collection()));
        std::string message = last_error();
        check(plugin == nullptr && mentions(message, r.field),
              "plugin createPlugin refuses " + r.field + " (" + message + ")");
        if (plugin != nullptr) plugin->destroy();
    }
    /* Each call comes before the check that reads its message: arguments have no order of evaluation. */
    const char garbage[] = "not a plugin";
    bool refused = creator->deserializePlugin("t", garbage, sizeof garbage) == nullptr;
    check(refused && mentions(last_error(), "not trtllm4j's plugin fields"),
          std::string("deserializePlugin refuses bytes it did not write: ") + last_error());
    if (!gpu) return;
    /* Serialised fields give back a plugin that serialises to the same bytes. */
    GptAttentionFields f(8, 2, 128, TRTLLM4J_BFLOAT16);
    f.i8("position_embedding_type", 2).i32("rotary_embedding_dim", 64);
    auto *plugin = static_cast<nvinfer1::IPluginV2DynamicExt *>(
        creator->createPlugin("t", reinterpret_cast<const nvinfer1::PluginFieldCollection *>(f.collection())));
    check(plugin != nullptr, std::string("plugin createPlugin accepts a NeoX GQA configuration: ") + last_error());
    if (plugin == nullptr) return;
    std::vector<uint8_t> bytes(plugin->getSerializationSize());
    plugin->serialize(bytes.data());
    nvinfer1::IPluginV2 *copy = creator->deserializePlugin("t", bytes.data(), bytes.size());
    check(copy != nullptr, std::string("deserializePlugin reads what serialize wrote: ") + last_error());
    if (copy != nullptr) {
        std::vector<uint8_t> again(copy->getSerializationSize());
        copy->serialize(again.data());
        check(again == bytes, "a deserialised plugin serialises to the same bytes");
        copy->destroy();
    }
    bytes.resize(bytes.size() / 2);
    nvinfer1::IPluginV2 *cut = creator->deserializePlugin("t", bytes.data(), bytes.size());
    check(cut == nullptr && mentions(last_error(), "cut short"), std::string("half the bytes are refused: ") + last_error());
    plugin->destroy();
}

Config engine_file_config() {
    Config c{"engine file", 8, 2, 128, TRTLLM4J_BFLOAT16};
    c.position_embedding_type = 2;
    c.rotary_dim = 128;
    return c;
}

/* Child process: opens the engine file, runs the first step and compares with the saved outputs. */
int open_engine_child(const std::string &dir, const std::string &engine, const std::string &expected) {
    Backend trt = load(dir, "libtrtllm4j_tensorrt.so");
    auto open = trt.api->open_engine;
    trtllm4j_plugin *plugin = nullptr;
    if (open(engine.c_str(), &plugin) != TRTLLM4J_OK) {
        std::printf("open_engine: %s\n", trt.error().c_str());
        return 1;
    }
    Config c = engine_file_config();
    Runner runner(trt, c, plugin);
    std::mt19937 random(99);
    StepShape shape = schedule(c)[0];
    if (runner.run(shape, random_qkv(c, shape.tokens(), random)) != TRTLLM4J_OK) {
        std::printf("enqueue: %s\n", trt.error().c_str());
        return 1;
    }
    std::vector<uint8_t> got = runner.context.get(), cache = runner.kv_cache.get();
    got.insert(got.end(), cache.begin(), cache.end());
    std::ifstream in(expected, std::ios::binary);
    std::vector<uint8_t> want((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return got == want ? 0 : 3;
}

void check_engine_file(const Backend &trt, const std::string &dir, const std::string &self) {
    auto save = trt.api->save_engine;
    auto info = trt.api->engine_info;
    Config c = engine_file_config();
    std::string engine = "/tmp/trtllm4j-test.engine", expected = "/tmp/trtllm4j-test.expected";
    {
        Runner runner(trt, c);
        check(runner.status == TRTLLM4J_OK, "engine file config: create: " + trt.error());
        if (runner.status) return;
        std::mt19937 random(99);
        StepShape shape = schedule(c)[0];
        int32_t status = runner.run(shape, random_qkv(c, shape.tokens(), random));
        check(status == TRTLLM4J_OK, "engine file step: " + trt.error());
        status = save(runner.plugin, engine.c_str());
        check(status == TRTLLM4J_OK, "save_engine: " + trt.error());
        std::vector<uint8_t> want = runner.context.get(), cache = runner.kv_cache.get();
        want.insert(want.end(), cache.begin(), cache.end());
        std::ofstream(expected, std::ios::binary).write(reinterpret_cast<const char *>(want.data()),
                                                         static_cast<std::streamsize>(want.size()));
    }
    {
        /* The same fields again: the engine comes from the cache, not from the builder. */
        Runner again(trt, c);
        StepShape shape = schedule(c)[0];
        std::mt19937 random(99);
        bool ran = again.status == TRTLLM4J_OK && again.run(shape, random_qkv(c, shape.tokens(), random)) == TRTLLM4J_OK;
        check(ran, "engine cache: second plugin runs: " + trt.error());
        double seconds = -1;
        int32_t from_file = 0;
        info(again.plugin, &seconds, &from_file);
        check(from_file == 1, "engine cache: a second plugin of the same fields does not rebuild");
    }
    std::string command = "'" + self + "' '" + dir + "' --open-engine " + engine + " " + expected;
    int status = std::system(command.c_str());
    check(status == 0, "an engine saved here and opened by a fresh process gives the same bytes (exit " +
                           std::to_string(WEXITSTATUS(status)) + ")");
    trtllm4j_plugin *none = nullptr;
    auto open = trt.api->open_engine;
    int32_t refused = open(expected.c_str(), &none);
    check(refused != TRTLLM4J_OK && none == nullptr && mentions(trt.error(), "not a trtllm4j engine file"),
          "a file that is no engine is refused: " + trt.error());
}

void check_cycles(const Backend &trt) {
    Config c{"cycles", 8, 2, 64, TRTLLM4J_FLOAT16};
    c.position_embedding_type = 1;
    c.rotary_dim = 64;
    int64_t free_after_warmup = 0, free_now = 0, total = 0;
    bool ok = true;
    StepShape shape = schedule(c)[0];
    std::mt19937 random(5);
    std::vector<uint8_t> qkv = random_qkv(c, shape.tokens(), random);
    for (int cycle = 0; cycle < 100 && ok; cycle++) {
        Runner runner(trt, c);
        ok = runner.status == TRTLLM4J_OK && runner.run(shape, qkv) == TRTLLM4J_OK;
        if (cycle == 4) trt.api->memory_info(&free_after_warmup, &total);
    }
    check(ok, "100 create/enqueue/destroy cycles run: " + trt.error());
    trt.api->memory_info(&free_now, &total);
    int64_t growth = free_after_warmup - free_now;
    check(growth < (4 << 20), "100 create/enqueue/destroy cycles: device memory grew by " + std::to_string(growth) +
                                  " bytes after the fifth (at most 4 MiB allowed)");
}

std::vector<Config> configurations() {
    std::vector<Config> list;
    Config gptj{"rope_gptj fp16 MHA", 8, 8, 64, TRTLLM4J_FLOAT16};
    gptj.position_embedding_type = 1;
    gptj.rotary_dim = 64;
    list.push_back(gptj);
    Config neox{"rope_gpt_neox bf16 GQA partial rotary", 16, 4, 128, TRTLLM4J_BFLOAT16};
    neox.position_embedding_type = 2;
    neox.rotary_dim = 64;
    list.push_back(neox);
    Config gptj_partial{"rope_gptj fp32 partial rotary", 4, 2, 64, TRTLLM4J_FLOAT32};
    gptj_partial.position_embedding_type = 1;
    gptj_partial.rotary_dim = 32;
    list.push_back(gptj_partial);
    Config mqa{"rope_gpt_neox fp16 MQA", 8, 1, 64, TRTLLM4J_FLOAT16};
    mqa.position_embedding_type = 2;
    mqa.rotary_dim = 64;
    list.push_back(mqa);
    Config llama3{"llama3-scaled bf16 GQA", 8, 2, 128, TRTLLM4J_BFLOAT16};
    llama3.position_embedding_type = 2;
    llama3.rotary_dim = 128;
    llama3.scale_type = 4;
    llama3.scale = 8;
    list.push_back(llama3);
    Config yarn{"yarn fp16", 8, 2, 128, TRTLLM4J_FLOAT16};
    yarn.position_embedding_type = 2;
    yarn.rotary_dim = 128;
    yarn.scale_type = 5;
    yarn.scale = 4;
    list.push_back(yarn);
    Config window{"window 48 with 4 sinks bf16", 8, 2, 64, TRTLLM4J_BFLOAT16};
    window.position_embedding_type = 1;
    window.rotary_dim = 64;
    window.window = 48;
    window.sink = 4;
    list.push_back(window);
    Config alibi{"alibi fp16", 8, 8, 64, TRTLLM4J_FLOAT16};
    alibi.position_embedding_type = 4;
    list.push_back(alibi);
    return list;
}

/* Seconds per step: enqueued back to back on the runner's stream, one synchronisation at the end. */
double time_step(Runner &runner, int repetitions) {
    for (int i = 0; i < 3; i++) runner.enqueue();
    runner.synchronize();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repetitions; i++) runner.enqueue();
    runner.synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repetitions;
}

/* Decode (bf16, batch 64, 4096 cached, 32/8 heads, D 128) and prefill (bf16, 2 x 4096 tokens, causal). */
int bench(const Backend &cuda, const Backend &trt) {
    auto set_option = trt.api->set_option;
    auto info = trt.api->engine_info;
    std::string cache = "/tmp/trtllm4j-bench-cache-" + std::to_string(getpid());
    set_option("engine_cache_dir", cache.c_str());
    Config decode{"decode", 32, 8, 128, TRTLLM4J_BFLOAT16};
    decode.position_embedding_type = 2;
    decode.rotary_dim = 128;
    decode.batch = 64;
    decode.max_seq_len = 4160;
    StepShape decode_shape{std::vector<int32_t>(64, 1), std::vector<int32_t>(64, 4096), std::vector<int32_t>(64, 1)};
    Config prefill = decode;
    prefill.name = "prefill";
    prefill.batch = 2;
    prefill.max_seq_len = 4096;
    StepShape prefill_shape{{4096, 4096}, {0, 0}, {0, 0}};
    for (auto [c, shape] : {std::make_pair(decode, decode_shape), std::make_pair(prefill, prefill_shape)}) {
        std::mt19937 random(7);
        std::vector<uint8_t> qkv = random_qkv(c, shape.tokens(), random);
        auto start = std::chrono::steady_clock::now();
        Runner on_trt(trt, c);
        if (on_trt.status != TRTLLM4J_OK || on_trt.prepare(shape, qkv) != TRTLLM4J_OK) {
            std::printf("%s: tensorrt: %s\n", c.name.c_str(), trt.error().c_str());
            return 1;
        }
        double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        double build = 0;
        int32_t built_from_file = 0, from_file = 0;
        info(on_trt.plugin, &build, &built_from_file);
        start = std::chrono::steady_clock::now();
        {
            Runner cached(trt, c);
            cached.prepare(shape, qkv);
            double cached_build = 0;
            info(cached.plugin, &cached_build, &from_file);
        }
        double reopen = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        Runner on_cuda(cuda, c);
        if (on_cuda.status != TRTLLM4J_OK || on_cuda.prepare(shape, qkv) != TRTLLM4J_OK) {
            std::printf("%s: cuda: %s\n", c.name.c_str(), cuda.error().c_str());
            return 1;
        }
        int repetitions = c.name == "decode" ? 200 : 20;
        double t_cuda = time_step(on_cuda, repetitions), t_trt = time_step(on_trt, repetitions);
        double t_cuda_again = time_step(on_cuda, repetitions);
        std::string engine = built_from_file ? std::string("engine from the cache (an earlier profile holds it)")
                                             : "engine build " + std::to_string(build) + " s";
        std::printf("%s: %s, create to first workspace_size %.2f s, again from the cache %.2f s (reused: %s); "
                    "step: cuda %.1f us (again %.1f us), tensorrt %.1f us (%+.1f%%)\n",
                    c.name.c_str(), engine.c_str(), first, reopen, from_file ? "yes" : "NO", t_cuda * 1e6,
                    t_cuda_again * 1e6, t_trt * 1e6, (t_trt / std::min(t_cuda, t_cuda_again) - 1) * 100);
    }
    return 0;
}

/* Where neither TensorRT nor a GPU is: the backend loads and says what it looked for. */
void check_without_tensorrt(const std::string &dir) {
    std::string path = dir + "/libtrtllm4j_tensorrt.so";
    void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    check(library != nullptr, "the tensorrt backend loads without TensorRT: " + path);
    if (library == nullptr) return;
    auto entry = reinterpret_cast<trtllm4j_backend_entry>(dlsym(library, TRTLLM4J_BACKEND_ENTRY_SYMBOL));
    const trtllm4j_backend_api *api = entry();
    check(std::strcmp(api->name, "tensorrt") == 0 && api->tensor_location == TRTLLM4J_DEVICE,
          "the backend is named tensorrt and keeps tensors in device memory");
    int32_t status = api->initialize();
    std::string message = api->last_error();
    check(status == TRTLLM4J_UNSUPPORTED && mentions(message, "libnvinfer.so.10 not found: looked in ") &&
              mentions(message, dir + "/libnvinfer.so.10 (absent)") && mentions(message, "LD_LIBRARY_PATH"),
          "initialize names libnvinfer.so.10 and every place it looked: " + message);
    GptAttentionFields f(8, 8, 64, TRTLLM4J_FLOAT16);
    trtllm4j_plugin *plugin = nullptr;
    status = api->create(f.collection(), &plugin);
    check(status == TRTLLM4J_UNSUPPORTED && plugin == nullptr && mentions(api->last_error(), "libnvinfer.so.10 not found"),
          std::string("create without TensorRT fails with the same message: ") + api->last_error());
}

/* The cuda backend against itself: byte-for-byte equality with it needs kernels that give the same
   bytes on every run. Runs without TensorRT. */
void check_cuda_repeatable(const Backend &cuda) {
    for (const Config &c : configurations()) {
        Runner first(cuda, c), second(cuda, c);
        if (first.status != TRTLLM4J_OK || second.status != TRTLLM4J_OK) {
            check(false, c.name + ": cuda create: " + cuda.error());
            continue;
        }
        std::mt19937 random(1234);
        int index = 0;
        for (const StepShape &shape : schedule(c)) {
            std::string step = c.name + " step " + std::to_string(index++);
            std::vector<uint8_t> qkv = random_qkv(c, shape.tokens(), random);
            bool ran = first.run(shape, qkv) == TRTLLM4J_OK && second.run(shape, qkv) == TRTLLM4J_OK;
            check(ran, step + ": cuda enqueue: " + cuda.error());
            if (!ran) break;
            size_t at = first_difference(first.context.get(), second.context.get());
            check(at == SIZE_MAX, step + ": cuda context equals itself on a second run (first difference at byte " +
                                      std::to_string(at) + ")");
            at = first_difference(first.kv_cache.get(), second.kv_cache.get());
            check(at == SIZE_MAX, step + ": cuda KV cache equals itself on a second run (first difference at byte " +
                                      std::to_string(at) + ")");
        }
    }
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s LIBRARY_DIR [--bench | --open-engine FILE EXPECTED]\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    if (argc == 5 && std::strcmp(argv[2], "--open-engine") == 0) return open_engine_child(dir, argv[3], argv[4]);
    if (argc == 3 && std::strcmp(argv[2], "--without-gpu") == 0) {
        check_plugin_library(dir, false);
        check_without_tensorrt(dir);
        std::printf("%d passed, %d failed\n", passed, failed);
        return failed == 0 ? 0 : 1;
    }
    if (argc == 3 && std::strcmp(argv[2], "--cuda-repeatable") == 0) {
        check_cuda_repeatable(load(dir, "libtrtllm4j_cuda.so"));
        std::printf("%d passed, %d failed\n", passed, failed);
        return failed == 0 ? 0 : 1;
    }
    Backend trt = load(dir, "libtrtllm4j_tensorrt.so");
    std::printf("%s\n", trt.api->describe());
    Backend cuda = load(dir, "libtrtllm4j_cuda.so");
    if (argc >= 3 && std::strcmp(argv[2], "--bench") == 0) return bench(cuda, trt);
    Backend cpu = load(dir, "libtrtllm4j_cpu.so");
    for (const Config &c : configurations()) compare_backends(cpu, cuda, trt, c);
    check_refusals(trt, dir);
    check_engine_file(trt, dir, argv[0]);
    check_cycles(trt);
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
