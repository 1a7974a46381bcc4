/*
 * trtllm4j's GPTAttention TensorRT plugin: creator "GPTAttention", version "1", namespace "trtllm4j",
 * with the interfaces of TensorRT-LLM's own (an IPluginCreator making an IPluginV2DynamicExt), so
 * the same TensorRT code drives either. It reads TensorRT-LLM's 58 fields with trtllm4j_params_parse,
 * takes TensorRT-LLM's inputs for packed tokens and a contiguous KV cache (plugin_io.h) and runs the
 * CUDA backend's kernels (cuda_attention.h) in enqueue.
 *
 * The library exports what TensorRT's IPluginRegistry::loadLibrary looks for (getPluginCreators and
 * setLoggerFinder), so trtexec --dynamicPlugins and the tensorrt backend load it alike.
 */
/* IPluginV2DynamicExt is deprecated since TensorRT 10.0 in favour of IPluginV3; TensorRT-LLM's
   GPTAttention still is one, and this plugin stands in for it. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <NvInferRuntime.h>

#include <cuda_runtime_api.h>

#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cuda_attention.h"
#include "field_set.h"
#include "plugin_io.h"
#include "plugin_params.h"
#include "status.h"
#include "step_check.h"

using namespace nvinfer1;

namespace trtllm4j {
namespace {

constexpr char kPluginName[] = "GPTAttention";
constexpr char kPluginVersion[] = "1";
constexpr char kDefaultNamespace[] = "trtllm4j";

ILoggerFinder *logger_finder = nullptr;

/* The refusal goes to TensorRT's logger, as TensorRT-LLM's plugin reports, and stays the thread's message. */
void report(int32_t status) {
    if (status == TRTLLM4J_OK || logger_finder == nullptr) return;
    ILogger *logger = logger_finder->findLogger();
    if (logger != nullptr) {
        std::string message = std::string("GPTAttention (trtllm4j): ") + trtllm4j_last_error();
        logger->log(ILogger::Severity::kERROR, message.c_str());
    }
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

/* What TensorRT-LLM's AttentionOp::initialize aborts on and what only this device decides. */
int32_t check_device(const trtllm4j_params &p) {
    int device = 0, major = 0;
    cudaError_t error = cudaGetDevice(&device);
    if (error == cudaSuccess) error = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    if (error != cudaSuccess) {
        cudaGetLastError();
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "GPTAttention: no CUDA device: %s", cudaGetErrorString(error));
    }
    if (p.type_id == TRTLLM4J_BFLOAT16 && major < 8) {
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                             "type_id = 7 (bfloat16): needs compute capability 8.0 or newer, this device has %d.x "
                             "(TensorRT-LLM aborts on it)",
                             major);
    }
    return TRTLLM4J_OK;
}

int32_t check_all(const trtllm4j_plugin_field_collection &fields, trtllm4j_params &params) {
    int32_t status = trtllm4j_params_parse(&fields, &params);
    if (status == TRTLLM4J_OK) status = check_supported(params);
    if (status == TRTLLM4J_OK) status = check_device(params);
    return status;
}

class GptAttentionPlugin final : public IPluginV2DynamicExt {
public:
    GptAttentionPlugin(const FieldSet &fields, const trtllm4j_params &params, std::string name_space)
        : fields_(fields), params_(params), layout_(input_layout(params)), namespace_(std::move(name_space)) {}

    const char *getPluginType() const noexcept override { return kPluginName; }
    const char *getPluginVersion() const noexcept override { return kPluginVersion; }
    int32_t getNbOutputs() const noexcept override { return Output::output_count; }
    int32_t initialize() noexcept override { return 0; }
    void terminate() noexcept override {}
    void destroy() noexcept override { delete this; }
    void setPluginNamespace(const char *name_space) noexcept override {
        namespace_ = name_space == nullptr ? "" : name_space;
    }
    const char *getPluginNamespace() const noexcept override { return namespace_.c_str(); }

    IPluginV2DynamicExt *clone() const noexcept override {
        try {
            return new GptAttentionPlugin(fields_, params_, namespace_);
        } catch (...) {
            report(catch_all("GPTAttention clone"));
            return nullptr;
        }
    }

    size_t getSerializationSize() const noexcept override {
        try {
            return fields_.serialize().size();
        } catch (...) {
            report(catch_all("GPTAttention getSerializationSize"));
            return 0;
        }
    }

    void serialize(void *buffer) const noexcept override {
        try {
            std::vector<uint8_t> bytes = fields_.serialize();
            std::memcpy(buffer, bytes.data(), bytes.size());
        } catch (...) {
            report(catch_all("GPTAttention serialize"));
        }
    }

    DataType getOutputDataType(int32_t, const DataType *, int32_t) const noexcept override {
        return static_cast<DataType>(params_.type_id);
    }

    DimsExprs getOutputDimensions(int32_t output, const DimsExprs *inputs, int32_t, IExprBuilder &builder) noexcept override {
        if (output == Output::present_key_value) return inputs[layout_.at(Input::past_key_value)];
        DimsExprs dims;
        dims.nbDims = 2;
        dims.d[0] = inputs[layout_.at(Input::qkv)].d[0];
        dims.d[1] = builder.constant(static_cast<int64_t>(params_.num_heads) * params_.head_size);
        return dims;
    }

    bool supportsFormatCombination(int32_t pos, const PluginTensorDesc *in_out, int32_t nb_inputs,
                                   int32_t) noexcept override {
        const PluginTensorDesc &desc = in_out[pos];
        if (desc.format != TensorFormat::kLINEAR) return false;
        int32_t wanted = pos >= nb_inputs ? params_.type_id : input_data_type(input_at(pos), params_);
        return static_cast<int32_t>(desc.type) == wanted;
    }

    void configurePlugin(const DynamicPluginTensorDesc *, int32_t, const DynamicPluginTensorDesc *,
                         int32_t) noexcept override {}

    /* Called with the profile's largest shapes: the kernels' scratch for those covers every step. */
    size_t getWorkspaceSize(const PluginTensorDesc *inputs, int32_t, const PluginTensorDesc *,
                            int32_t) const noexcept override {
        trtllm4j_attention_step step{};
        step.batch_size = static_cast<int32_t>(inputs[layout_.at(Input::host_request_types)].dims.d[0]);
        step.num_tokens = static_cast<int32_t>(inputs[layout_.at(Input::qkv)].dims.d[0]);
        step.max_seq_len = static_cast<int32_t>(inputs[layout_.at(Input::past_key_value)].dims.d[3]);
        int64_t bytes = trtllm4j_cuda_workspace_size(&params_, &step);
        return bytes > 0 ? static_cast<size_t>(bytes) : 0;
    }

    int32_t enqueue(const PluginTensorDesc *input_desc, const PluginTensorDesc *output_desc, const void *const *inputs,
                    void *const *outputs, void *workspace, cudaStream_t stream) noexcept override {
        int32_t status;
        try {
            status = run(input_desc, output_desc, inputs, outputs, workspace, stream);
        } catch (...) {
            status = catch_all("GPTAttention enqueue");
        }
        report(status);
        return status;
    }

private:
    Input input_at(int32_t pos) const {
        for (int i = 0; i < static_cast<int>(Input::count); i++) {
            if (layout_.index[i] == pos) return static_cast<Input>(i);
        }
        return Input::count;
    }

    template <typename T> const T *host(const void *const *inputs, Input input) const {
        return static_cast<const T *>(inputs[layout_.at(input)]);
    }

    static trtllm4j_buffer buffer(const void *data, int64_t bytes, int32_t location, int32_t type) {
        return trtllm4j_buffer{const_cast<void *>(data), bytes, location, type};
    }

    int32_t run(const PluginTensorDesc *desc, const PluginTensorDesc *output_desc, const void *const *inputs,
                void *const *outputs, void *workspace, cudaStream_t stream) {
        /* The builder times plugin layers with device buffers for every input: host tensors that are
           device memory mean this is such a run, whose inputs are no step (TensorRT-LLM's plugin
           returns early while IS_BUILDING is set, for the same reason). */
        cudaPointerAttributes where{};
        const void *request_types = inputs[layout_.at(Input::host_request_types)];
        if (cudaPointerGetAttributes(&where, request_types) == cudaSuccess && where.type == cudaMemoryTypeDevice) {
            return TRTLLM4J_OK;
        }
        cudaGetLastError();
        const int64_t element = trtllm4j_data_type_size(params_.type_id);
        const Dims &past_dims = desc[layout_.at(Input::past_key_value)].dims;
        trtllm4j_attention_step step{};
        step.batch_size = static_cast<int32_t>(desc[layout_.at(Input::host_request_types)].dims.d[0]);
        step.num_tokens = static_cast<int32_t>(desc[layout_.at(Input::qkv)].dims.d[0]);
        step.max_seq_len = static_cast<int32_t>(past_dims.d[3]);
        step.max_attention_window = host<int32_t>(inputs, Input::host_max_attention_window_sizes)[params_.layer_idx];
        step.sink_token_length = host<int32_t>(inputs, Input::host_sink_token_length)[0];

        /* TensorRT-LLM's host_context_lengths holds prompt lengths; a generation request adds one token. */
        const int32_t *types = host<int32_t>(inputs, Input::host_request_types);
        const int32_t *context_lengths = host<int32_t>(inputs, Input::host_context_lengths);
        input_lengths_.resize(static_cast<size_t>(step.batch_size));
        for (int32_t b = 0; b < step.batch_size; b++) {
            input_lengths_[b] = types[b] == TRTLLM4J_REQUEST_GENERATION ? 1 : context_lengths[b];
        }
        const int64_t ints = static_cast<int64_t>(step.batch_size) * 4;
        step.input_lengths = buffer(input_lengths_.data(), ints, TRTLLM4J_HOST, TRTLLM4J_INT32);
        step.past_lengths = buffer(host<int32_t>(inputs, Input::host_past_key_value_lengths), ints, TRTLLM4J_HOST,
                                   TRTLLM4J_INT32);
        step.host_request_types = buffer(types, ints, TRTLLM4J_HOST, TRTLLM4J_INT32);

        const int64_t heads = params_.num_heads + 2LL * params_.num_kv_heads;
        step.qkv = buffer(inputs[layout_.at(Input::qkv)], step.num_tokens * heads * params_.head_size * element,
                          TRTLLM4J_DEVICE, params_.type_id);
        int64_t cache_bytes = element;
        for (int32_t i = 0; i < past_dims.nbDims; i++) cache_bytes *= past_dims.d[i];
        /* TensorRT-LLM's runtime binds present_key_value to past_key_value's memory; a separate one gets a copy. */
        void *present = outputs[Output::present_key_value];
        const void *past = inputs[layout_.at(Input::past_key_value)];
        if (present != past) {
            cudaError_t error = cudaMemcpyAsync(present, past, static_cast<size_t>(cache_bytes),
                                                cudaMemcpyDeviceToDevice, stream);
            if (error != cudaSuccess) {
                return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "GPTAttention: copying past_key_value to "
                                     "present_key_value: %s", cudaGetErrorString(error));
            }
        }
        step.kv_cache = buffer(present, cache_bytes, TRTLLM4J_DEVICE, params_.type_id);
        step.context = buffer(outputs[Output::context],
                              step.num_tokens * static_cast<int64_t>(params_.num_heads) * params_.head_size * element,
                              TRTLLM4J_DEVICE, params_.type_id);
        (void)output_desc;
        if (layout_.has(Input::rotary_cos_sin)) {
            const int64_t dim = params_.rotary_embedding_dim;
            const Dims &table = desc[layout_.at(Input::rotary_cos_sin)].dims;
            step.rotary_positions = static_cast<int32_t>(table.d[0] * table.d[1] / dim);
            step.rotary_inv_freq = buffer(inputs[layout_.at(Input::rotary_inv_freq)], dim / 2 * 4, TRTLLM4J_DEVICE,
                                          TRTLLM4J_FLOAT32);
            step.rotary_cos_sin = buffer(inputs[layout_.at(Input::rotary_cos_sin)], step.rotary_positions * dim * 4,
                                         TRTLLM4J_DEVICE, TRTLLM4J_FLOAT32);
            if (layout_.has(Input::long_rope_rotary_cos_sin)) {
                step.long_rope_rotary_inv_freq = buffer(inputs[layout_.at(Input::long_rope_rotary_inv_freq)],
                                                        dim / 2 * 4, TRTLLM4J_DEVICE, TRTLLM4J_FLOAT32);
                step.long_rope_rotary_cos_sin = buffer(inputs[layout_.at(Input::long_rope_rotary_cos_sin)],
                                                       step.rotary_positions * dim * 4, TRTLLM4J_DEVICE,
                                                       TRTLLM4J_FLOAT32);
            }
        }
        if (layout_.has(Input::alibi_slopes)) {
            step.alibi_slopes = buffer(inputs[layout_.at(Input::alibi_slopes)], params_.num_heads * 4LL,
                                       TRTLLM4J_DEVICE, TRTLLM4J_FLOAT32);
        }
        /* The workspace TensorRT hands over is getWorkspaceSize's for the profile's largest shapes. */
        int64_t needed = trtllm4j_cuda_workspace_size(&params_, &step);
        step.workspace = buffer(workspace, needed, TRTLLM4J_DEVICE, TRTLLM4J_INT32);
        step.stream = stream;
        int32_t status = trtllm4j_check_step(&params_, &step, TRTLLM4J_DEVICE, needed);
        return status != TRTLLM4J_OK ? status : trtllm4j_cuda_attention_enqueue(&params_, &step);
    }

    FieldSet fields_;
    trtllm4j_params params_;
    InputLayout layout_;
    std::string namespace_;
    std::vector<int32_t> input_lengths_;
};

class GptAttentionPluginCreator final : public IPluginCreator {
public:
    GptAttentionPluginCreator() {
#define TRTLLM4J_FIELD_NAME(name, wire, ctype) \
    field_names_.emplace_back(#name, nullptr, static_cast<PluginFieldType>(TRTLLM4J_FIELD_##wire), 1);
        TRTLLM4J_SCALAR_FIELDS(TRTLLM4J_FIELD_NAME)
#undef TRTLLM4J_FIELD_NAME
        field_names_.emplace_back("cp_group", nullptr, PluginFieldType::kINT32, 0);
        field_collection_.nbFields = static_cast<int32_t>(field_names_.size());
        field_collection_.fields = field_names_.data();
    }

    const char *getPluginName() const noexcept override { return kPluginName; }
    const char *getPluginVersion() const noexcept override { return kPluginVersion; }
    const PluginFieldCollection *getFieldNames() noexcept override { return &field_collection_; }
    void setPluginNamespace(const char *name_space) noexcept override {
        namespace_ = name_space == nullptr ? "" : name_space;
    }
    const char *getPluginNamespace() const noexcept override { return namespace_.c_str(); }

    /* TensorRT's PluginFieldCollection is trtllm4j_plugin_field_collection byte for byte (trtllm4j.h). */
    IPluginV2 *createPlugin(const char *, const PluginFieldCollection *collection) noexcept override {
        static_assert(sizeof(PluginField) == sizeof(trtllm4j_plugin_field), "PluginField layout");
        static_assert(sizeof(PluginFieldCollection) == sizeof(trtllm4j_plugin_field_collection), "collection layout");
        trtllm4j_clear_error();
        if (collection == nullptr) {
            report(trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "GPTAttention createPlugin: the field collection is NULL"));
            return nullptr;
        }
        return make(*reinterpret_cast<const trtllm4j_plugin_field_collection *>(collection), nullptr);
    }

    IPluginV2 *deserializePlugin(const char *, const void *data, size_t length) noexcept override {
        trtllm4j_clear_error();
        return make({0, nullptr}, [&](FieldSet &fields) { return fields.deserialize(data, length); });
    }

private:
    template <typename Source> IPluginV2 *make(const trtllm4j_plugin_field_collection &collection, Source source) {
        int32_t status;
        try {
            FieldSet fields;
            trtllm4j_params params;
            status = read(fields, collection, source);
            if (status == TRTLLM4J_OK) status = check_all(fields.collection(), params);
            if (status == TRTLLM4J_OK) return new GptAttentionPlugin(fields, params, namespace_);
        } catch (...) {
            status = catch_all("GPTAttention createPlugin");
        }
        report(status);
        return nullptr;
    }

    /* A fresh plugin parses the caller's fields before copying them, so a bad field is named as sent. */
    static int32_t read(FieldSet &fields, const trtllm4j_plugin_field_collection &collection, std::nullptr_t) {
        trtllm4j_params params;
        int32_t status = trtllm4j_params_parse(&collection, &params);
        return status != TRTLLM4J_OK ? status : fields.assign(collection);
    }
    template <typename Deserialize>
    static int32_t read(FieldSet &fields, const trtllm4j_plugin_field_collection &, Deserialize deserialize) {
        return deserialize(fields);
    }

    std::vector<PluginField> field_names_;
    PluginFieldCollection field_collection_{};
    std::string namespace_ = kDefaultNamespace;
};

} // namespace
} // namespace trtllm4j

extern "C" {

/* TensorRT's loadLibrary passes its logger finder before asking for the creators. */
__attribute__((visibility("default"))) void setLoggerFinder(nvinfer1::ILoggerFinder *finder) {
    trtllm4j::logger_finder = finder;
}

__attribute__((visibility("default"))) nvinfer1::IPluginCreator *const *getPluginCreators(int32_t &nb_creators) {
    static trtllm4j::GptAttentionPluginCreator creator;
    static nvinfer1::IPluginCreator *const creators[] = {&creator};
    nb_creators = 1;
    return creators;
}

/* TensorRT 10's loadLibrary asks for this one: an IPluginCreator is an IPluginCreatorInterface. */
__attribute__((visibility("default"))) nvinfer1::IPluginCreatorInterface *const *getCreators(int32_t &nb_creators) {
    static nvinfer1::IPluginCreatorInterface *const creators[] = {getPluginCreators(nb_creators)[0]};
    nb_creators = 1;
    return creators;
}

/* The calling thread's last refusal or failure of this library, "" when none. */
__attribute__((visibility("default"))) const char *trtllm4j_plugin_last_error(void) {
    return trtllm4j_last_error();
}

} // extern "C"
