/*
 * What the tensorrt backend (libtrtllm4j_tensorrt.so) offers beside the bridge ABI's table: its
 * options, and engines saved to and opened from files.
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
#ifndef TRTLLM4J_TENSORRT_H
#define TRTLLM4J_TENSORRT_H

#include "trtllm4j.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets an option above for plugins created afterwards; TRTLLM4J_INVALID_ARGUMENT for an unknown name or bad value. */
int32_t trtllm4j_tensorrt_set_option(const char *name, const char *value);

/* Writes the plugin's engine (built now if no step has built it yet) to path. */
int32_t trtllm4j_tensorrt_save_engine(trtllm4j_plugin *plugin, const char *path);

/* A plugin running the engine saved at path: its fields come from the file. */
int32_t trtllm4j_tensorrt_open_engine(const char *path, trtllm4j_plugin **plugin);

/* Seconds the plugin's current engine took to build (0 when none yet) and whether it came from a file. */
int32_t trtllm4j_tensorrt_engine_info(const trtllm4j_plugin *plugin, double *build_seconds, int32_t *from_file);

#ifdef __cplusplus
}
#endif

#endif
