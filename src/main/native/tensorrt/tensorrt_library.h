/*
 * TensorRT as the tensorrt backend finds it at run time: libnvinfer.so.10 opened with dlopen (so the
 * backend library loads, and says what is missing, where TensorRT is absent), one logger whose
 * errors become the calling thread's message, one builder and one runtime, and the GPTAttention
 * plugin libraries registered in TensorRT's plugin registry.
 */
#ifndef TRTLLM4J_TENSORRT_LIBRARY_H
#define TRTLLM4J_TENSORRT_LIBRARY_H

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* IPluginCreator/IPluginV2: see gpt_attention_plugin.cpp */
#include <NvInfer.h>

#include <cstdint>
#include <string>

namespace trtllm4j {

/*
 * The tensorrt backend's options, engine cache and engine files (the bridge ABI's set_option,
 * save_engine, open_engine, plugin_fields and engine_info; the environment is read once).
 *
 * TensorRT: libnvinfer.so.10 (10.x; built against 10.6's headers) is opened when the backend is
 * initialised, from the folder or file named by TRTLLM4J_TENSORRT_LIBRARY, else the backend's own
 * folder, else the system's library path (LD_LIBRARY_PATH); building engines also needs
 * libnvinfer_builder_resource.so.10.x on that path.
 *
 * Options (set_option, or the environment variable in brackets, read when the backend initialises):
 *   plugin_library    the GPTAttention plugin library [TRTLLM4J_TENSORRT_PLUGIN_LIBRARY]; default
 *                     trtllm4j's libtrtllm4j_tensorrt_plugin.so beside this library. A library that
 *                     exports initTrtLlmPlugins (TensorRT-LLM's libnvinfer_plugin_tensorrt_llm.so)
 *                     is initialised with it; any other is loaded with IPluginRegistry::loadLibrary.
 *   plugin_namespace  the creator's namespace [TRTLLM4J_TENSORRT_PLUGIN_NAMESPACE]; default
 *                     "trtllm4j", or "tensorrt_llm" for a library with initTrtLlmPlugins.
 *   engine_cache_dir  where built engines are kept [TRTLLM4J_ENGINE_CACHE]; default
 *                     $XDG_CACHE_HOME/trtllm4j/engines, else ~/.cache/trtllm4j/engines; "" turns
 *                     the cache off. A file is named gpt_attention-<key>.engine, the key a hash of
 *                     the serialised plugin fields, the plugin namespace and library (path, size,
 *                     modification time), TensorRT's version, the GPU's name and compute
 *                     capability and the profile's largest shapes; so a second run does not rebuild.
 *   max_batch_size, max_num_tokens, max_seq_len
 *                     the least largest shapes of an engine's optimisation profile
 *                     [TRTLLM4J_TENSORRT_MAX_BATCH_SIZE, ..._MAX_NUM_TOKENS, ..._MAX_SEQ_LEN];
 *                     default 8, 8192 and 4096. A step larger than the engine's profile gets an
 *                     engine whose profile holds it (each largest shape the next power of two).
 *
 * An engine file is "TRTLLM4J-ENGINE" and a format version, the plugin namespace and serialised
 * fields, then TensorRT's plan; the cache's files have the same format.
 */
struct Options {
    std::string plugin_library;
    std::string plugin_namespace;
    std::string engine_cache_dir;
    int32_t max_batch_size = 8;
    int32_t max_num_tokens = 8192;
    int32_t max_seq_len = 4096;
};

/* Opens libnvinfer.so.10 and checks a CUDA device once per process; TRTLLM4J_OK or a status with the message set. */
int32_t tensorrt_initialize();

/* A copy of the options as they are now. */
Options tensorrt_options();
int32_t tensorrt_set_option(const char *name, const char *value);

/* What describe() says: TensorRT's version and file, the plugin library, the cache, the GPU. */
std::string tensorrt_description();
/* TensorRT's version (e.g. 100600) and "<GPU name> (sm_XY)", both part of engine cache keys. */
int32_t tensorrt_version();
const std::string &gpu_identity();

/* The process's one builder, made on first use; TRTLLM4J_OK or a status with the message set. */
int32_t tensorrt_builder(nvinfer1::IBuilder **builder);
nvinfer1::IRuntime &tensorrt_runtime();

/*
 * The GPTAttention version 1 creator of the configured plugin library and namespace, loading the
 * library on first use; nullptr with the message set when either cannot be had.
 */
nvinfer1::IPluginCreator *gpt_attention_creator(const Options &options);

/* Why the configured plugin library's createPlugin returned nullptr, as its logger or own message says. */
std::string plugin_refusal(const Options &options);

/* TensorRT's errors logged on this thread since the last clear, "" when none. */
std::string tensorrt_errors();
void clear_tensorrt_errors();

/* Identity of a file for cache keys: real path, size and modification time; "" when absent. */
std::string file_identity(const std::string &path);

} // namespace trtllm4j

#endif
