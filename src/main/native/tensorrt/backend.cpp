/*
 * The tensorrt backend: each plugin is a one-layer TensorRT engine around a GPTAttention plugin
 * looked up in TensorRT's registry (trtllm4j's by default, TensorRT-LLM's when configured; see
 * tensorrt_library.h), with TensorRT-LLM's inputs in TensorRT-LLM's order (plugin_io.h), built on
 * the first step that needs it, cached on disk, and run with enqueueV3 on the step's stream.
 *
 * present_key_value is bound to past_key_value's memory, as TensorRT-LLM's runtime binds them, so the
 * plugin updates the KV cache in place. The step's workspace is the execution context's device memory.
 */
#include <cuda_runtime_api.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "abi_layout.h"
#include "device_runtime.h"
#include "field_set.h"
#include "plugin_io.h"
#include "plugin_params.h"
#include "status.h"
#include "step_check.h"
#include "tensorrt_library.h"

using namespace nvinfer1;
using trtllm4j::Input;

namespace {

constexpr char kFileMagic[16] = "TRTLLM4J-ENGINE";
constexpr uint32_t kFileVersion = 1;

/* The largest shapes of an engine's optimisation profile. */
struct Shapes {
    int32_t batch_size = 0, num_tokens = 0, max_seq_len = 0, rotary_positions = 0;

    bool hold(const Shapes &step) const {
        return step.batch_size <= batch_size && step.num_tokens <= num_tokens && step.max_seq_len <= max_seq_len &&
               step.rotary_positions <= rotary_positions;
    }
};

int32_t power_of_two_at_least(int32_t value) {
    int64_t power = 1;
    while (power < value) power *= 2;
    return power > INT32_MAX ? INT32_MAX : static_cast<int32_t>(power);
}

int32_t cuda_check(cudaError_t error, const char *what) {
    if (error == cudaSuccess) return TRTLLM4J_OK;
    cudaGetLastError();
    return trtllm4j_fail(error == cudaErrorMemoryAllocation ? TRTLLM4J_OUT_OF_MEMORY : TRTLLM4J_INTERNAL_ERROR,
                         "%s: %s", what, cudaGetErrorString(error));
}

int32_t tensorrt_failure(const char *what) {
    std::string errors = trtllm4j::tensorrt_errors();
    return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "TensorRT: %s%s%s", what, errors.empty() ? "" : ": ",
                         errors.c_str());
}

#define CHECK(call)                                  \
    do {                                             \
        int32_t status_ = (call);                    \
        if (status_ != TRTLLM4J_OK) return status_;  \
    } while (0)

/* Host tensors TensorRT hands to the plugin as they are (pinned, so TensorRT-LLM's plugin may copy
   from them too) and the device int32 tensors only TensorRT-LLM's plugin reads. Each tensor starts
   on a 256-byte boundary, as TensorRT asks of tensor addresses. */
struct Staging {
    static constexpr int64_t kAlign = 256;
    char *host = nullptr;   /* past, request types, host_context_lengths, sequence lengths, windows, sink, knobs, progress */
    char *device = nullptr; /* sequence_length, context_lengths, cache_indirection */
    cudaEvent_t copied = nullptr;
    int64_t stride = 0;     /* bytes from one [batch] int32 tensor to the next */

    static int64_t aligned(int64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
    template <typename T> T *host_at(int index) const { return reinterpret_cast<T *>(host + index * stride); }
    int32_t *windows() const { return host_at<int32_t>(4); }
    int32_t *sink() const { return host_at<int32_t>(5); }
    int64_t *knobs() const { return host_at<int64_t>(6); }
    int64_t *progress() const { return host_at<int64_t>(7); }
    int32_t *device_at(int index) const { return reinterpret_cast<int32_t *>(device + index * stride); }

    Staging() = default;
    Staging(const Staging &) = delete;
    Staging &operator=(const Staging &) = delete;
    ~Staging() {
        if (copied != nullptr) {
            cudaEventSynchronize(copied);
            cudaEventDestroy(copied);
        }
        cudaFreeHost(host);
        cudaFree(device);
    }
};

struct EngineDeleter {
    void operator()(ICudaEngine *engine) const { delete engine; }
    void operator()(IExecutionContext *context) const { delete context; }
};

} // namespace

struct trtllm4j_plugin {
    trtllm4j_params params{};
    trtllm4j::FieldSet fields;
    trtllm4j::InputLayout layout{};
    trtllm4j::Options options;
    IPluginV2 *trt_plugin = nullptr; /* created once, so create() refuses what createPlugin refuses */

    std::unique_ptr<ICudaEngine, EngineDeleter> engine;
    std::unique_ptr<IExecutionContext, EngineDeleter> context;
    Shapes limits;
    int64_t device_memory = 0;
    void *bound_workspace = nullptr;
    Shapes bound_shapes;
    std::unique_ptr<Staging> staging;
    bool enqueued = false;
    double build_seconds = 0;
    bool from_file = false;

    ~trtllm4j_plugin() {
        /* The engine's work must be done before it goes; the step's stream may be gone already. */
        if (enqueued) cudaDeviceSynchronize();
        context.reset();
        engine.reset();
        if (trt_plugin != nullptr) trt_plugin->destroy();
    }
};

namespace {

Dims dims(std::initializer_list<int64_t> values) {
    Dims d{};
    d.nbDims = static_cast<int32_t>(values.size());
    int i = 0;
    for (int64_t value : values) d.d[i++] = value;
    return d;
}

/* An input's dimensions for given shapes; -1 stands for the dynamic ones in the network. */
Dims input_dims(const trtllm4j_plugin &p, Input input, int64_t batch, int64_t tokens, int64_t seq, int64_t positions) {
    const trtllm4j_params &q = p.params;
    switch (input) {
    case Input::qkv: return dims({tokens, (q.num_heads + 2LL * q.num_kv_heads) * q.head_size});
    case Input::host_max_attention_window_sizes: return dims({q.layer_idx + 1LL});
    case Input::host_sink_token_length: return dims({1});
    case Input::cache_indirection: return dims({batch, 1, seq});
    case Input::past_key_value: return dims({batch, 2, q.num_kv_heads, seq, q.head_size});
    case Input::rotary_inv_freq:
    case Input::long_rope_rotary_inv_freq: return dims({q.rotary_embedding_dim / 2});
    case Input::rotary_cos_sin:
    case Input::long_rope_rotary_cos_sin:
        return dims({1, positions < 0 ? -1 : positions * q.rotary_embedding_dim});
    case Input::alibi_slopes: return dims({q.num_heads});
    case Input::host_runtime_perf_knobs: return dims({trtllm4j::kPerfKnobs});
    case Input::host_context_progress: return dims({1});
    default: return dims({batch}); /* the int32 [batch] tensors */
    }
}

bool is_dynamic(const Dims &d) {
    for (int32_t i = 0; i < d.nbDims; i++) {
        if (d.d[i] < 0) return true;
    }
    return false;
}

Dims network_dims(const trtllm4j_plugin &p, Input input) {
    return input_dims(p, input, -1, -1, -1, -1);
}

/* Builds the one-layer network and its plan for the given largest shapes. */
int32_t build_plan(trtllm4j_plugin &p, const Shapes &max, std::vector<uint8_t> &plan) {
    /* One builder serves the process, and a TensorRT builder builds one network at a time. */
    static std::mutex building;
    std::lock_guard<std::mutex> lock(building);
    IBuilder *made = nullptr;
    CHECK(trtllm4j::tensorrt_builder(&made));
    IBuilder &builder = *made;
    std::unique_ptr<INetworkDefinition> network(
        builder.createNetworkV2(1U << static_cast<uint32_t>(NetworkDefinitionCreationFlag::kSTRONGLY_TYPED)));
    std::unique_ptr<IBuilderConfig> config(builder.createBuilderConfig());
    IOptimizationProfile *profile = builder.createOptimizationProfile();
    if (!network || !config || profile == nullptr) return tensorrt_failure("creating the network");

    std::vector<ITensor *> inputs(static_cast<size_t>(p.layout.nb_inputs));
    for (int i = 0; i < static_cast<int>(Input::count); i++) {
        Input input = static_cast<Input>(i);
        if (!p.layout.has(input)) continue;
        Dims shape = network_dims(p, input);
        ITensor *tensor = network->addInput(trtllm4j::input_name(input),
                                            static_cast<DataType>(trtllm4j::input_data_type(input, p.params)), shape);
        if (tensor == nullptr) return tensorrt_failure("adding an input");
        inputs[static_cast<size_t>(p.layout.at(input))] = tensor;
        if (is_dynamic(shape)) {
            /* Opt is max: the plugin has no tactics to tune, and the largest shapes size its workspace. */
            Dims least = input_dims(p, input, 1, 1, 1, 1);
            Dims most = input_dims(p, input, max.batch_size, max.num_tokens, max.max_seq_len, max.rotary_positions);
            if (!profile->setDimensions(trtllm4j::input_name(input), OptProfileSelector::kMIN, least) ||
                !profile->setDimensions(trtllm4j::input_name(input), OptProfileSelector::kOPT, most) ||
                !profile->setDimensions(trtllm4j::input_name(input), OptProfileSelector::kMAX, most)) {
                return tensorrt_failure("setting the optimisation profile");
            }
        }
    }
    IPluginV2Layer *layer = network->addPluginV2(inputs.data(), p.layout.nb_inputs, *p.trt_plugin);
    if (layer == nullptr) return tensorrt_failure("adding the GPTAttention plugin layer");
    layer->setName("gpt_attention");
    for (int output = 0; output < trtllm4j::Output::output_count; output++) {
        ITensor *tensor = layer->getOutput(output);
        tensor->setName(trtllm4j::output_name(output));
        network->markOutput(*tensor);
    }
    if (config->addOptimizationProfile(profile) < 0) return tensorrt_failure("adding the optimisation profile");
    /* TensorRT-LLM's plugins skip the builder's timing runs, whose inputs are no step, while IS_BUILDING
       is set, as its Python builder sets it. */
    const char *was_building = std::getenv("IS_BUILDING");
    std::string previous = was_building == nullptr ? "" : was_building;
    setenv("IS_BUILDING", "1", 1);
    std::unique_ptr<IHostMemory> serialized(builder.buildSerializedNetwork(*network, *config));
    if (was_building == nullptr) unsetenv("IS_BUILDING");
    else setenv("IS_BUILDING", previous.c_str(), 1);
    if (!serialized) return tensorrt_failure("buildSerializedNetwork failed");
    const uint8_t *bytes = static_cast<const uint8_t *>(serialized->data());
    plan.assign(bytes, bytes + serialized->size());
    return TRTLLM4J_OK;
}

/* The engine file: magic, version, namespace, serialised fields, plan. */
std::vector<uint8_t> engine_file(const trtllm4j_plugin &p, const std::vector<uint8_t> &plan) {
    std::vector<uint8_t> out(kFileMagic, kFileMagic + sizeof kFileMagic);
    auto put32 = [&](uint32_t value) {
        const uint8_t *bytes = reinterpret_cast<const uint8_t *>(&value);
        out.insert(out.end(), bytes, bytes + 4);
    };
    std::vector<uint8_t> fields = p.fields.serialize();
    put32(kFileVersion);
    put32(static_cast<uint32_t>(p.options.plugin_namespace.size()));
    out.insert(out.end(), p.options.plugin_namespace.begin(), p.options.plugin_namespace.end());
    put32(static_cast<uint32_t>(fields.size()));
    out.insert(out.end(), fields.begin(), fields.end());
    uint64_t plan_size = plan.size();
    const uint8_t *size_bytes = reinterpret_cast<const uint8_t *>(&plan_size);
    out.insert(out.end(), size_bytes, size_bytes + 8);
    out.insert(out.end(), plan.begin(), plan.end());
    return out;
}

struct EngineFile {
    std::string plugin_namespace;
    std::vector<uint8_t> fields;
    std::vector<uint8_t> plan;
};

int32_t read_engine_file(const std::string &path, EngineFile &file) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "engine file %s cannot be read", path.c_str());
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = 0;
    auto take = [&](void *into, size_t size) {
        if (size > bytes.size() - at) return false;
        std::memcpy(into, bytes.data() + at, size);
        at += size;
        return true;
    };
    char magic[sizeof kFileMagic];
    uint32_t version = 0, length = 0;
    uint64_t plan_size = 0;
    bool ok = take(magic, sizeof magic) && std::memcmp(magic, kFileMagic, sizeof magic) == 0 && take(&version, 4);
    if (!ok || version != kFileVersion) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s is not a trtllm4j engine file of format version %u",
                             path.c_str(), kFileVersion);
    }
    ok = take(&length, 4) && length <= bytes.size() - at;
    if (ok) {
        file.plugin_namespace.assign(reinterpret_cast<const char *>(bytes.data() + at), length);
        at += length;
        ok = take(&length, 4) && length <= bytes.size() - at;
    }
    if (ok) {
        file.fields.assign(bytes.begin() + static_cast<long>(at), bytes.begin() + static_cast<long>(at + length));
        at += length;
        ok = take(&plan_size, 8) && plan_size == bytes.size() - at;
    }
    if (!ok) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "engine file %s is cut short", path.c_str());
    file.plan.assign(bytes.begin() + static_cast<long>(at), bytes.end());
    return TRTLLM4J_OK;
}

/* Written under a temporary name and renamed, so a reader never sees half a file. */
int32_t write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    std::string temporary = path + ".tmp" + std::to_string(static_cast<long long>(getpid()));
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        if (!out) {
            std::remove(temporary.c_str());
            return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "cannot write the engine file %s", path.c_str());
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "cannot rename %s to %s", temporary.c_str(), path.c_str());
    }
    return TRTLLM4J_OK;
}

void make_folders(const std::string &path) {
    for (size_t slash = path.find('/', 1); ; slash = path.find('/', slash + 1)) {
        mkdir(path.substr(0, slash).c_str(), 0755);
        if (slash == std::string::npos) break;
    }
}

std::string cache_path(const trtllm4j_plugin &p, const Shapes &max) {
    if (p.options.engine_cache_dir.empty()) return "";
    std::vector<uint8_t> fields = p.fields.serialize();
    std::string identity = p.options.plugin_namespace + "|" + trtllm4j::file_identity(p.options.plugin_library) + "|" +
                           std::to_string(trtllm4j::tensorrt_version()) + "|" + trtllm4j::gpu_identity() + "|" +
                           std::to_string(max.batch_size) + "," + std::to_string(max.num_tokens) + "," +
                           std::to_string(max.max_seq_len) + "," + std::to_string(max.rotary_positions) + "|" +
                           std::to_string(kFileVersion);
    uint64_t key = trtllm4j::fnv1a(identity.data(), identity.size(), trtllm4j::fnv1a(fields.data(), fields.size()));
    char name[48];
    std::snprintf(name, sizeof name, "/gpt_attention-%016llx.engine", static_cast<unsigned long long>(key));
    return p.options.engine_cache_dir + name;
}

/* Makes the plan p's engine: its context, limits, device memory and staging buffers. */
int32_t load_plan_parts(trtllm4j_plugin &p, const std::vector<uint8_t> &plan) {
    p.context.reset();
    p.engine.reset(trtllm4j::tensorrt_runtime().deserializeCudaEngine(plan.data(), plan.size()));
    if (!p.engine) return tensorrt_failure("deserializeCudaEngine failed");
    Dims past = p.engine->getProfileShape("past_key_value", 0, OptProfileSelector::kMAX);
    Dims qkv = p.engine->getProfileShape("qkv", 0, OptProfileSelector::kMAX);
    if (past.nbDims != 5 || qkv.nbDims != 2) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "the engine has no GPTAttention inputs past_key_value and qkv "
                             "of TensorRT-LLM's shapes");
    }
    p.limits.batch_size = static_cast<int32_t>(past.d[0]);
    p.limits.max_seq_len = static_cast<int32_t>(past.d[3]);
    p.limits.num_tokens = static_cast<int32_t>(qkv.d[0]);
    p.limits.rotary_positions = 0;
    if (p.layout.has(Input::rotary_cos_sin)) {
        Dims table = p.engine->getProfileShape("rotary_cos_sin", 0, OptProfileSelector::kMAX);
        p.limits.rotary_positions = static_cast<int32_t>(table.d[1] / p.params.rotary_embedding_dim);
    }
    p.device_memory = p.engine->getDeviceMemorySizeV2();
    p.context.reset(p.engine->createExecutionContext(p.device_memory > 0
                                                         ? ExecutionContextAllocationStrategy::kUSER_MANAGED
                                                         : ExecutionContextAllocationStrategy::kSTATIC));
    if (!p.context) return tensorrt_failure("createExecutionContext failed");
    p.bound_workspace = nullptr;
    p.bound_shapes = Shapes{};

    auto staging = std::make_unique<Staging>();
    const int64_t batch = p.limits.batch_size;
    /* Each piece gets a stride that holds the largest: [batch] int32, the per-layer windows, 16 knobs. */
    staging->stride = Staging::aligned(std::max<int64_t>({batch * 4, (p.params.layer_idx + 1LL) * 4,
                                                          trtllm4j::kPerfKnobs * 8LL}));
    CHECK(cuda_check(cudaHostAlloc(reinterpret_cast<void **>(&staging->host), 8 * staging->stride,
                                   cudaHostAllocDefault),
                     "cudaHostAlloc for the host tensors"));
    const int64_t device_bytes = 2 * staging->stride + batch * p.limits.max_seq_len * 4;
    CHECK(cuda_check(cudaMalloc(reinterpret_cast<void **>(&staging->device), device_bytes),
                     "cudaMalloc for sequence_length, context_lengths and cache_indirection"));
    /* Beam width 1: every cache_indirection entry is beam 0. */
    CHECK(cuda_check(cudaMemset(staging->device, 0, device_bytes), "cudaMemset of cache_indirection"));
    CHECK(cuda_check(cudaEventCreateWithFlags(&staging->copied, cudaEventDisableTiming), "cudaEventCreate"));
    CHECK(cuda_check(cudaDeviceSynchronize(), "cudaDeviceSynchronize after the staging buffers"));
    /* -1: TensorRT-LLM's "use the default" for every runtime performance knob; 0: no context progress. */
    for (int i = 0; i < trtllm4j::kPerfKnobs; i++) staging->knobs()[i] = -1;
    *staging->progress() = 0;
    p.staging = std::move(staging);
    return TRTLLM4J_OK;
}

/* All of the engine or none of it: a half-loaded engine would be run without its context. */
int32_t load_plan(trtllm4j_plugin &p, const std::vector<uint8_t> &plan) {
    int32_t status = load_plan_parts(p, plan);
    if (status != TRTLLM4J_OK) {
        p.context.reset();
        p.engine.reset();
        p.staging.reset();
        p.limits = Shapes{};
    }
    return status;
}

/* Makes sure p has an engine whose profile holds the step's shapes: from the cache, else built. */
int32_t ensure_engine(trtllm4j_plugin &p, const Shapes &step) {
    if (p.engine && p.limits.hold(step)) return TRTLLM4J_OK;
    Shapes max;
    max.batch_size = std::max({p.options.max_batch_size, power_of_two_at_least(step.batch_size), p.limits.batch_size});
    max.num_tokens = std::max({p.options.max_num_tokens, power_of_two_at_least(step.num_tokens), p.limits.num_tokens});
    max.max_seq_len = std::max({p.options.max_seq_len, power_of_two_at_least(step.max_seq_len), p.limits.max_seq_len});
    if (p.layout.has(Input::rotary_cos_sin)) {
        /* Tables usually cover rotary_embedding_max_positions or max_seq_len: either fits without a rebuild. */
        max.rotary_positions = std::max({power_of_two_at_least(step.rotary_positions), max.max_seq_len,
                                         p.params.rotary_embedding_max_positions, p.limits.rotary_positions});
    }
    std::string cached = cache_path(p, max);
    EngineFile file;
    std::vector<uint8_t> fields = p.fields.serialize();
    if (!cached.empty() && read_engine_file(cached, file) == TRTLLM4J_OK && file.fields == fields &&
        file.plugin_namespace == p.options.plugin_namespace && load_plan(p, file.plan) == TRTLLM4J_OK &&
        p.limits.hold(step)) {
        p.from_file = true;
        p.build_seconds = 0;
        trtllm4j_clear_error();
        trtllm4j::clear_tensorrt_errors();
        return TRTLLM4J_OK;
    }
    trtllm4j::clear_tensorrt_errors();
    auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> plan;
    CHECK(build_plan(p, max, plan));
    p.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    p.from_file = false;
    CHECK(load_plan(p, plan));
    if (!cached.empty()) {
        make_folders(p.options.engine_cache_dir);
        /* A cache that cannot be written costs the next run a build, nothing more. */
        if (write_file(cached, engine_file(p, plan)) != TRTLLM4J_OK) trtllm4j_clear_error();
    }
    return TRTLLM4J_OK;
}

Shapes step_shapes(const trtllm4j_attention_step &s) {
    return Shapes{s.batch_size, s.num_tokens, s.max_seq_len, s.rotary_positions};
}

int32_t bind(trtllm4j_plugin &p, Input input, const void *data) {
    if (!p.layout.has(input)) return TRTLLM4J_OK;
    if (!p.context->setTensorAddress(trtllm4j::input_name(input), const_cast<void *>(data))) {
        return tensorrt_failure("setTensorAddress");
    }
    return TRTLLM4J_OK;
}

int32_t run_step(trtllm4j_plugin &p, const trtllm4j_attention_step &s) {
    Staging &staging = *p.staging;
    const int32_t batch = s.batch_size;
    const int32_t *input_lengths = static_cast<const int32_t *>(s.input_lengths.data);
    const int32_t *past_lengths = static_cast<const int32_t *>(s.past_lengths.data);
    const int32_t *types = static_cast<const int32_t *>(s.host_request_types.data);
    /* The previous step's copies out of the pinned buffers must be done before they are rewritten. */
    CHECK(cuda_check(cudaEventSynchronize(staging.copied), "waiting for the previous step's copies"));
    int32_t *host_past = staging.host_at<int32_t>(0);
    int32_t *host_types = staging.host_at<int32_t>(1);
    int32_t *host_context = staging.host_at<int32_t>(2);
    int32_t *sequence = staging.host_at<int32_t>(3);
    int32_t *windows = staging.windows();
    int32_t *sink = staging.sink();
    for (int32_t b = 0; b < batch; b++) {
        host_past[b] = past_lengths[b];
        host_types[b] = types[b];
        sequence[b] = past_lengths[b] + input_lengths[b];
        /* A context request's prompt is its new tokens; a generation request's is taken as all it has seen. */
        host_context[b] = types[b] == TRTLLM4J_REQUEST_CONTEXT ? input_lengths[b] : sequence[b];
    }
    for (int32_t l = 0; l <= p.params.layer_idx; l++) windows[l] = s.max_attention_window;
    *sink = s.sink_token_length;
    cudaStream_t stream = static_cast<cudaStream_t>(s.stream);
    int32_t *device_sequence = staging.device_at(0);
    int32_t *device_context = staging.device_at(1);
    int32_t *cache_indirection = staging.device_at(2);
    CHECK(cuda_check(cudaMemcpyAsync(device_sequence, sequence, batch * 4LL, cudaMemcpyHostToDevice, stream),
                     "copying sequence_length"));
    CHECK(cuda_check(cudaMemcpyAsync(device_context, host_context, batch * 4LL, cudaMemcpyHostToDevice, stream),
                     "copying context_lengths"));
    CHECK(cuda_check(cudaEventRecord(staging.copied, stream), "cudaEventRecord"));

    Shapes shapes = step_shapes(s);
    if (shapes.batch_size != p.bound_shapes.batch_size || shapes.num_tokens != p.bound_shapes.num_tokens ||
        shapes.max_seq_len != p.bound_shapes.max_seq_len || shapes.rotary_positions != p.bound_shapes.rotary_positions) {
        for (int i = 0; i < static_cast<int>(Input::count); i++) {
            Input input = static_cast<Input>(i);
            if (!p.layout.has(input) || !is_dynamic(network_dims(p, input))) continue;
            Dims shape = input_dims(p, input, s.batch_size, s.num_tokens, s.max_seq_len, s.rotary_positions);
            if (!p.context->setInputShape(trtllm4j::input_name(input), shape)) return tensorrt_failure("setInputShape");
        }
        p.bound_shapes = shapes;
    }
    if (p.device_memory > 0 && s.workspace.data != p.bound_workspace) {
        p.context->setDeviceMemoryV2(s.workspace.data, p.device_memory);
        p.bound_workspace = s.workspace.data;
    }
    CHECK(bind(p, Input::qkv, s.qkv.data));
    CHECK(bind(p, Input::sequence_length, device_sequence));
    CHECK(bind(p, Input::host_past_key_value_lengths, host_past));
    CHECK(bind(p, Input::host_max_attention_window_sizes, windows));
    CHECK(bind(p, Input::host_sink_token_length, sink));
    CHECK(bind(p, Input::context_lengths, device_context));
    CHECK(bind(p, Input::cache_indirection, cache_indirection));
    CHECK(bind(p, Input::host_request_types, host_types));
    CHECK(bind(p, Input::past_key_value, s.kv_cache.data));
    CHECK(bind(p, Input::rotary_inv_freq, s.rotary_inv_freq.data));
    CHECK(bind(p, Input::rotary_cos_sin, s.rotary_cos_sin.data));
    CHECK(bind(p, Input::alibi_slopes, s.alibi_slopes.data));
    CHECK(bind(p, Input::host_context_lengths, host_context));
    CHECK(bind(p, Input::long_rope_rotary_inv_freq, s.long_rope_rotary_inv_freq.data));
    CHECK(bind(p, Input::long_rope_rotary_cos_sin, s.long_rope_rotary_cos_sin.data));
    CHECK(bind(p, Input::host_runtime_perf_knobs, staging.knobs()));
    CHECK(bind(p, Input::host_context_progress, staging.progress()));
    if (!p.context->setTensorAddress("context", s.context.data) ||
        !p.context->setTensorAddress("present_key_value", s.kv_cache.data)) {
        return tensorrt_failure("setTensorAddress of the outputs");
    }
    trtllm4j::clear_tensorrt_errors();
    p.enqueued = true;
    if (!p.context->enqueueV3(stream)) {
        std::string refusal = trtllm4j::plugin_refusal(p.options);
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "TensorRT: enqueueV3 failed: %s", refusal.c_str());
    }
    return TRTLLM4J_OK;
}

int32_t catch_all(const char *where) {
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "%s: out of host memory", where);
    } catch (const std::exception &e) {
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "%s: %s", where, e.what());
    } catch (...) {
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "%s: unknown C++ exception", where);
    }
}

/* Fills a new plugin from fields: parse, the network's limits, then the registry's createPlugin. */
int32_t make_plugin(const trtllm4j_plugin_field_collection &fields, const trtllm4j::Options &options,
                    std::unique_ptr<trtllm4j_plugin> &out) {
    auto p = std::make_unique<trtllm4j_plugin>();
    CHECK(trtllm4j_params_parse(&fields, &p->params));
    CHECK(trtllm4j::check_supported(p->params));
    CHECK(p->fields.assign(fields));
    p->layout = trtllm4j::input_layout(p->params);
    p->options = options;
    IPluginCreator *creator = trtllm4j::gpt_attention_creator(options);
    if (creator == nullptr) return TRTLLM4J_UNSUPPORTED; /* the message is set */
    trtllm4j::clear_tensorrt_errors();
    /* TensorRT's PluginFieldCollection is trtllm4j_plugin_field_collection byte for byte (trtllm4j.h). */
    p->trt_plugin = creator->createPlugin(
        "gpt_attention", reinterpret_cast<const PluginFieldCollection *>(&p->fields.collection()));
    if (p->trt_plugin == nullptr) {
        std::string refusal = trtllm4j::plugin_refusal(options);
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED, "GPTAttention plugin (namespace %s) refused the fields: %s",
                             options.plugin_namespace.c_str(), refusal.c_str());
    }
    out = std::move(p);
    return TRTLLM4J_OK;
}

const char *describe() {
    static thread_local std::string text; /* per thread: callers may race */
    try {
        text = trtllm4j::tensorrt_description();
    } catch (...) {
        text = "tensorrt";
    }
    return text.c_str();
}

int32_t initialize() {
    trtllm4j_clear_error();
    try {
        return trtllm4j::tensorrt_initialize();
    } catch (...) {
        return catch_all("initialize");
    }
}

int32_t create(const trtllm4j_plugin_field_collection *fields, trtllm4j_plugin **out) {
    trtllm4j_clear_error();
    if (out == nullptr) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "create: the output pointer is NULL");
    *out = nullptr;
    if (fields == nullptr) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "the plugin field collection is NULL");
    try {
        CHECK(trtllm4j::tensorrt_initialize());
        std::unique_ptr<trtllm4j_plugin> plugin;
        CHECK(make_plugin(*fields, trtllm4j::tensorrt_options(), plugin));
        *out = plugin.release();
        return TRTLLM4J_OK;
    } catch (...) {
        return catch_all("create");
    }
}

int32_t workspace_size(const trtllm4j_plugin *plugin, const trtllm4j_attention_step *step, int64_t *bytes) {
    trtllm4j_clear_error();
    if (plugin == nullptr || step == nullptr || bytes == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace_size: plugin, step and bytes must not be NULL");
    }
    if (step->batch_size < 1 || step->num_tokens < 1 || step->max_seq_len < 1) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "workspace_size: batch_size = %d, num_tokens = %d, max_seq_len = %d: need at least 1",
                             step->batch_size, step->num_tokens, step->max_seq_len);
    }
    try {
        /* The engine's device memory is the workspace; an engine whose profile holds the step is made now. */
        trtllm4j_plugin &p = *const_cast<trtllm4j_plugin *>(plugin);
        Shapes shapes = step_shapes(*step);
        shapes.rotary_positions = std::max(shapes.rotary_positions, p.limits.rotary_positions);
        if (!p.layout.has(Input::rotary_cos_sin)) shapes.rotary_positions = 0;
        CHECK(ensure_engine(p, shapes));
        *bytes = p.device_memory;
        return TRTLLM4J_OK;
    } catch (...) {
        return catch_all("workspace_size");
    }
}

int32_t enqueue(trtllm4j_plugin *plugin, const trtllm4j_attention_step *step) {
    trtllm4j_clear_error();
    if (plugin == nullptr) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "enqueue: the plugin is NULL");
    try {
        CHECK(trtllm4j_check_step(&plugin->params, step, TRTLLM4J_DEVICE, 0));
        Shapes shapes = step_shapes(*step);
        if (!plugin->layout.has(Input::rotary_cos_sin)) shapes.rotary_positions = 0;
        CHECK(ensure_engine(*plugin, shapes));
        if (plugin->device_memory > 0 &&
            (step->workspace.data == nullptr || step->workspace.size_bytes < plugin->device_memory)) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace: %lld bytes, this step needs %lld",
                                 static_cast<long long>(step->workspace.data == nullptr ? 0 : step->workspace.size_bytes),
                                 static_cast<long long>(plugin->device_memory));
        }
        return run_step(*plugin, *step);
    } catch (...) {
        return catch_all("enqueue");
    }
}

void destroy(trtllm4j_plugin *plugin) {
    try {
        delete plugin;
    } catch (...) {
        catch_all("destroy");
    }
}

int32_t set_option(const char *name, const char *value) {
    trtllm4j_clear_error();
    try {
        return trtllm4j::tensorrt_set_option(name, value);
    } catch (...) {
        return catch_all("set_option");
    }
}

int32_t save_engine(trtllm4j_plugin *plugin, const char *path) {
    trtllm4j_clear_error();
    if (plugin == nullptr || path == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "save_engine: plugin and path must not be NULL");
    }
    try {
        CHECK(ensure_engine(*plugin, Shapes{1, 1, 1, plugin->layout.has(Input::rotary_cos_sin) ? 1 : 0}));
        std::unique_ptr<IHostMemory> plan(plugin->engine->serialize());
        if (!plan) return tensorrt_failure("ICudaEngine::serialize failed");
        const uint8_t *bytes = static_cast<const uint8_t *>(plan->data());
        return write_file(path, engine_file(*plugin, std::vector<uint8_t>(bytes, bytes + plan->size())));
    } catch (...) {
        return catch_all("save_engine");
    }
}

int32_t open_engine(const char *path, trtllm4j_plugin **out) {
    trtllm4j_clear_error();
    if (path == nullptr || out == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "open_engine: path and plugin must not be NULL");
    }
    *out = nullptr;
    try {
        CHECK(trtllm4j::tensorrt_initialize());
        EngineFile file;
        CHECK(read_engine_file(path, file));
        trtllm4j::FieldSet fields;
        CHECK(fields.deserialize(file.fields.data(), file.fields.size()));
        trtllm4j::Options options = trtllm4j::tensorrt_options();
        if (file.plugin_namespace != options.plugin_namespace) {
            return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                                 "engine file %s holds a GPTAttention plugin of namespace '%s'; this backend is set "
                                 "up for '%s' (options plugin_library and plugin_namespace)",
                                 path, file.plugin_namespace.c_str(), options.plugin_namespace.c_str());
        }
        std::unique_ptr<trtllm4j_plugin> plugin;
        CHECK(make_plugin(fields.collection(), options, plugin));
        trtllm4j::clear_tensorrt_errors();
        CHECK(load_plan(*plugin, file.plan));
        plugin->from_file = true;
        *out = plugin.release();
        return TRTLLM4J_OK;
    } catch (...) {
        return catch_all("open_engine");
    }
}

int32_t engine_info(const trtllm4j_plugin *plugin, double *build_seconds, int32_t *from_file) {
    trtllm4j_clear_error();
    if (plugin == nullptr || build_seconds == nullptr || from_file == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "engine_info: plugin, build_seconds and from_file must not be NULL");
    }
    *build_seconds = plugin->build_seconds;
    *from_file = plugin->from_file ? 1 : 0;
    return TRTLLM4J_OK;
}

int32_t plugin_fields(const trtllm4j_plugin *plugin, const trtllm4j_plugin_field_collection **fields) {
    trtllm4j_clear_error();
    if (plugin == nullptr || fields == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "plugin_fields: plugin and fields must not be NULL");
    }
    *fields = &plugin->fields.collection();
    return TRTLLM4J_OK;
}

const trtllm4j_backend_api api = {
    TRTLLM4J_ABI_VERSION,
    "tensorrt",
    TRTLLM4J_DEVICE,
    describe,
    create,
    workspace_size,
    enqueue,
    destroy,
    trtllm4j_last_error,
    trtllm4j_abi_layout,
    initialize,
    trtllm4j_device_memory_info,
    trtllm4j_device_allocate,
    trtllm4j_device_release,
    trtllm4j_device_copy,
    trtllm4j_device_fill,
    trtllm4j_device_stream_create,
    trtllm4j_device_stream_synchronize,
    trtllm4j_device_stream_destroy,
    set_option,
    save_engine,
    open_engine,
    plugin_fields,
    engine_info,
};

} // namespace

extern "C" {

__attribute__((visibility("default"))) const trtllm4j_backend_api *trtllm4j_backend(void) {
    return &api;
}

} // extern "C"
