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

/* Options of trtllm4j_tensorrt.h, with the environment read once. */
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

nvinfer1::IBuilder &tensorrt_builder();
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
