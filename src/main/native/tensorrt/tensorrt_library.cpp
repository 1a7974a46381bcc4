#include "tensorrt_library.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "device_runtime.h"
#include "status.h"
#include "trtllm4j.h"

using namespace nvinfer1;

namespace trtllm4j {
namespace {

constexpr char kNvinfer[] = "libnvinfer.so.10";
constexpr char kOwnPluginLibrary[] = "libtrtllm4j_tensorrt_plugin.so";
constexpr size_t kMaxErrorText = 2000;

thread_local std::string logged_errors;

/* TensorRT's errors become the calling thread's message; warnings and information are not kept. */
class Logger final : public ILogger {
public:
    void log(Severity severity, const char *message) noexcept override {
        if (severity > Severity::kERROR || message == nullptr) return;
        try {
            if (logged_errors.size() < kMaxErrorText) {
                if (!logged_errors.empty()) logged_errors += "; ";
                logged_errors += message;
            }
        } catch (...) {
            /* out of memory while keeping a message: the status still says the call failed */
        }
    }
};

struct PluginLibrary {
    void *handle = nullptr;
    const char *(*last_error)() = nullptr; /* trtllm4j's plugin library only */
};

struct State {
    std::mutex mutex;
    bool initialized = false;
    void *nvinfer = nullptr;
    std::string nvinfer_path;
    int32_t version = 0;
    std::string gpu;
    void *(*create_builder)(void *, int32_t) = nullptr;
    void *(*create_runtime)(void *, int32_t) = nullptr;
    IPluginRegistry *(*plugin_registry)() = nullptr;
    Logger logger;
    IBuilder *builder = nullptr;
    IRuntime *runtime = nullptr;
    bool options_read = false;
    Options options;
    std::map<std::string, PluginLibrary> plugin_libraries;
};

State &state() {
    static State *instance = new State(); /* never destroyed: TensorRT may log while the process exits */
    return *instance;
}

std::string own_folder() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&trtllm4j_backend), &info) == 0 || info.dli_fname == nullptr) {
        return ".";
    }
    std::string path = info.dli_fname;
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string env(const char *name) {
    const char *value = std::getenv(name);
    return value == nullptr ? "" : value;
}

int32_t parse_positive(const char *name, const std::string &text, int32_t *value) {
    char *end = nullptr;
    long parsed = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || parsed < 1 || parsed > INT32_MAX) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "%s = '%s': must be a whole number from 1 to %d", name,
                             text.c_str(), INT32_MAX);
    }
    *value = static_cast<int32_t>(parsed);
    return TRTLLM4J_OK;
}

int32_t set_option_locked(Options &options, const std::string &name, const std::string &value) {
    if (name == "plugin_library") {
        options.plugin_library = value;
    } else if (name == "plugin_namespace") {
        options.plugin_namespace = value;
    } else if (name == "engine_cache_dir") {
        options.engine_cache_dir = value;
    } else if (name == "max_batch_size") {
        return parse_positive("max_batch_size", value, &options.max_batch_size);
    } else if (name == "max_num_tokens") {
        return parse_positive("max_num_tokens", value, &options.max_num_tokens);
    } else if (name == "max_seq_len") {
        return parse_positive("max_seq_len", value, &options.max_seq_len);
    } else {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "unknown tensorrt option '%s': options are plugin_library, plugin_namespace, "
                             "engine_cache_dir, max_batch_size, max_num_tokens and max_seq_len",
                             name.c_str());
    }
    return TRTLLM4J_OK;
}

Options default_options() {
    Options options;
    options.plugin_library = own_folder() + "/" + kOwnPluginLibrary;
    std::string cache = env("XDG_CACHE_HOME");
    if (cache.empty() && !env("HOME").empty()) cache = env("HOME") + "/.cache";
    options.engine_cache_dir = cache.empty() ? "" : cache + "/trtllm4j/engines";
    static const char *const variables[][2] = {{"TRTLLM4J_TENSORRT_PLUGIN_LIBRARY", "plugin_library"},
                                               {"TRTLLM4J_TENSORRT_PLUGIN_NAMESPACE", "plugin_namespace"},
                                               {"TRTLLM4J_TENSORRT_MAX_BATCH_SIZE", "max_batch_size"},
                                               {"TRTLLM4J_TENSORRT_MAX_NUM_TOKENS", "max_num_tokens"},
                                               {"TRTLLM4J_TENSORRT_MAX_SEQ_LEN", "max_seq_len"}};
    for (const auto &variable : variables) {
        if (!env(variable[0]).empty()) set_option_locked(options, variable[1], env(variable[0]));
    }
    /* Set but empty turns the cache off, so the variable counts when present at all. */
    if (std::getenv("TRTLLM4J_ENGINE_CACHE") != nullptr) options.engine_cache_dir = env("TRTLLM4J_ENGINE_CACHE");
    return options;
}

void read_options(State &s) {
    if (!s.options_read) {
        s.options = default_options();
        s.options_read = true;
    }
}

int32_t open_nvinfer(State &s) {
    std::vector<std::string> candidates;
    std::string configured = env("TRTLLM4J_TENSORRT_LIBRARY");
    struct stat info{};
    if (!configured.empty()) {
        bool folder = stat(configured.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
        candidates.push_back(folder ? configured + "/" + kNvinfer : configured);
    }
    candidates.push_back(own_folder() + "/" + kNvinfer);
    candidates.push_back(kNvinfer); /* the dynamic linker's own search: LD_LIBRARY_PATH, ld.so.cache */
    std::string looked;
    for (const std::string &candidate : candidates) {
        bool searched = candidate == kNvinfer;
        if (!searched && stat(candidate.c_str(), &info) != 0) {
            looked += (looked.empty() ? "" : ", ") + candidate + " (absent)";
            continue;
        }
        /* RTLD_GLOBAL: TensorRT-LLM's plugin library links libnvinfer.so.10 and must get this one. */
        void *handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_GLOBAL);
        if (handle != nullptr) {
            s.nvinfer = handle;
            s.nvinfer_path = candidate;
            Dl_info where{};
            void *symbol = dlsym(handle, "getInferLibVersion");
            if (symbol != nullptr && dladdr(symbol, &where) != 0 && where.dli_fname != nullptr) {
                s.nvinfer_path = where.dli_fname;
            }
            return TRTLLM4J_OK;
        }
        const char *error = dlerror();
        looked += (looked.empty() ? "" : ", ") +
                  (searched ? std::string("the system library path (LD_LIBRARY_PATH=") + env("LD_LIBRARY_PATH") + ")"
                            : candidate) +
                  ": " + (error == nullptr ? "not loadable" : error);
    }
    return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                         "libnvinfer.so.10 not found: looked in %s. Set TRTLLM4J_TENSORRT_LIBRARY to its folder; "
                         "TensorRT 10.6 is org.bytedeco:tensorrt:10.6-1.5.11:linux-x86_64-redist on Maven Central",
                         looked.c_str());
}

template <typename F> int32_t symbol(State &s, const char *name, F *function) {
    *function = reinterpret_cast<F>(dlsym(s.nvinfer, name));
    return *function != nullptr ? TRTLLM4J_OK
                                : trtllm4j_fail(TRTLLM4J_UNSUPPORTED, "%s has no %s: not a TensorRT 10 library",
                                                s.nvinfer_path.c_str(), name);
}

int32_t initialize_locked(State &s) {
    if (s.initialized) return TRTLLM4J_OK;
    read_options(s);
    /* TensorRT first: where it is missing, that is what to say, with or without a GPU here. */
    int32_t status = s.nvinfer == nullptr ? open_nvinfer(s) : TRTLLM4J_OK;
    if (status == TRTLLM4J_OK) status = trtllm4j_device_initialize("tensorrt");
    int32_t (*version)() = nullptr;
    if (status == TRTLLM4J_OK) status = symbol(s, "getInferLibVersion", &version);
    if (status == TRTLLM4J_OK) status = symbol(s, "createInferBuilder_INTERNAL", &s.create_builder);
    if (status == TRTLLM4J_OK) status = symbol(s, "createInferRuntime_INTERNAL", &s.create_runtime);
    if (status == TRTLLM4J_OK) status = symbol(s, "getPluginRegistry", &s.plugin_registry);
    if (status != TRTLLM4J_OK) return status;
    s.version = version();
    if (s.version / 10000 != NV_TENSORRT_MAJOR) {
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED, "%s is TensorRT %d.%d; this backend needs TensorRT %d",
                             s.nvinfer_path.c_str(), s.version / 10000, s.version / 100 % 100, NV_TENSORRT_MAJOR);
    }
    char gpu[320];
    status = trtllm4j_device_identity(gpu, sizeof gpu);
    if (status != TRTLLM4J_OK) return status;
    s.gpu = gpu;
    s.runtime = static_cast<IRuntime *>(s.create_runtime(&s.logger, NV_TENSORRT_VERSION));
    if (s.runtime == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "TensorRT: createInferRuntime failed: %s",
                             tensorrt_errors().c_str());
    }
    s.initialized = true;
    return TRTLLM4J_OK;
}

int32_t load_plugin_library(State &s, const Options &options, PluginLibrary **loaded) {
    auto found = s.plugin_libraries.find(options.plugin_library);
    if (found != s.plugin_libraries.end()) {
        *loaded = &found->second;
        return TRTLLM4J_OK;
    }
    void *handle = dlopen(options.plugin_library.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (handle == nullptr) {
        const char *error = dlerror();
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED, "the GPTAttention plugin library %s cannot be loaded: %s",
                             options.plugin_library.c_str(), error == nullptr ? "unknown error" : error);
    }
    PluginLibrary library;
    library.handle = handle;
    library.last_error = reinterpret_cast<const char *(*)()>(dlsym(handle, "trtllm4j_plugin_last_error"));
    auto init = reinterpret_cast<bool (*)(void *, const char *)>(dlsym(handle, "initTrtLlmPlugins"));
    if (init != nullptr) {
        /* TensorRT-LLM's: it registers its creators under the namespace it is given. */
        if (!init(&s.logger, options.plugin_namespace.c_str())) {
            return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "initTrtLlmPlugins of %s failed: %s",
                                 options.plugin_library.c_str(), tensorrt_errors().c_str());
        }
    } else if (s.plugin_registry()->loadLibrary(options.plugin_library.c_str()) == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "TensorRT: IPluginRegistry::loadLibrary(%s) failed: %s",
                             options.plugin_library.c_str(), tensorrt_errors().c_str());
    }
    *loaded = &(s.plugin_libraries[options.plugin_library] = library);
    return TRTLLM4J_OK;
}

} // namespace

int32_t tensorrt_initialize() {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return initialize_locked(s);
}

Options tensorrt_options() {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    read_options(s);
    Options options = s.options;
    if (options.plugin_namespace.empty()) {
        /* TensorRT-LLM's library is asked for its own namespace unless told otherwise. */
        void *probe = dlopen(options.plugin_library.c_str(), RTLD_LAZY | RTLD_NOLOAD);
        bool trtllm = options.plugin_library.find("tensorrt_llm") != std::string::npos ||
                      (probe != nullptr && dlsym(probe, "initTrtLlmPlugins") != nullptr);
        if (probe != nullptr) dlclose(probe);
        options.plugin_namespace = trtllm ? "tensorrt_llm" : "trtllm4j";
    }
    return options;
}

int32_t tensorrt_set_option(const char *name, const char *value) {
    if (name == nullptr || value == nullptr) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "set_option: name and value must not be NULL");
    }
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    read_options(s); /* the environment first, so that an option set here wins */
    Options options = s.options;
    int32_t status = set_option_locked(options, name, value);
    if (status == TRTLLM4J_OK) s.options = options;
    return status;
}

std::string tensorrt_description() {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.initialized) return "tensorrt: TensorRT 10 through a GPTAttention plugin (not initialised)";
    return "tensorrt: TensorRT " + std::to_string(s.version / 10000) + "." + std::to_string(s.version / 100 % 100) +
           "." + std::to_string(s.version % 100) + " (" + s.nvinfer_path + "), GPTAttention from " +
           s.options.plugin_library + ", engine cache " +
           (s.options.engine_cache_dir.empty() ? std::string("off") : s.options.engine_cache_dir) + ", on " + s.gpu;
}

int32_t tensorrt_version() {
    return state().version;
}

const std::string &gpu_identity() {
    return state().gpu;
}

int32_t tensorrt_builder(IBuilder **builder) {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.builder == nullptr) {
        s.builder = static_cast<IBuilder *>(s.create_builder(&s.logger, NV_TENSORRT_VERSION));
        if (s.builder == nullptr) {
            /* The builder dlopens its resource library by name, and that library's soname is not its file
               name, so loading it first from libnvinfer's folder does not help: only the search path does. */
            return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                                 "TensorRT: createInferBuilder failed: %s. TensorRT's builder loads "
                                 "libnvinfer_builder_resource.so.%d.%d.%d through the system library path: "
                                 "LD_LIBRARY_PATH (now '%s') must name its folder when the process starts",
                                 tensorrt_errors().c_str(), s.version / 10000, s.version / 100 % 100, s.version % 100,
                                 env("LD_LIBRARY_PATH").c_str());
        }
    }
    *builder = s.builder;
    return TRTLLM4J_OK;
}

IRuntime &tensorrt_runtime() {
    return *state().runtime;
}

IPluginCreator *gpt_attention_creator(const Options &options) {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    PluginLibrary *library = nullptr;
    if (load_plugin_library(s, options, &library) != TRTLLM4J_OK) return nullptr;
    IPluginCreator *creator =
        s.plugin_registry()->getPluginCreator("GPTAttention", "1", options.plugin_namespace.c_str());
    if (creator == nullptr) {
        trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                      "TensorRT's plugin registry has no GPTAttention version 1 creator in namespace '%s' after "
                      "loading %s",
                      options.plugin_namespace.c_str(), options.plugin_library.c_str());
    }
    return creator;
}

std::string plugin_refusal(const Options &options) {
    State &s = state();
    std::string logged = tensorrt_errors();
    std::lock_guard<std::mutex> lock(s.mutex);
    auto found = s.plugin_libraries.find(options.plugin_library);
    if (found != s.plugin_libraries.end() && found->second.last_error != nullptr && found->second.last_error()[0]) {
        return found->second.last_error();
    }
    return logged.empty() ? "createPlugin returned no plugin and logged no error" : logged;
}

std::string tensorrt_errors() {
    return logged_errors;
}

void clear_tensorrt_errors() {
    logged_errors.clear();
}

std::string file_identity(const std::string &path) {
    char real[PATH_MAX];
    struct stat info{};
    if (realpath(path.c_str(), real) == nullptr || stat(real, &info) != 0) return "";
    return std::string(real) + ":" + std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
           std::to_string(info.st_mtim.tv_nsec);
}

} // namespace trtllm4j
