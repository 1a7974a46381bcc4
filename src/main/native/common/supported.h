/* The configurations every backend of this project refuses, with messages naming the backend. */
#ifndef TRTLLM4J_SUPPORTED_H
#define TRTLLM4J_SUPPORTED_H

#include "plugin_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Valid TensorRT-LLM configurations that the project's own kernels do not implement: returns
 * TRTLLM4J_OK or TRTLLM4J_UNSUPPORTED with a message naming the field, its value and backend_name.
 */
int32_t trtllm4j_check_supported(const trtllm4j_params *params, const char *backend_name);

#ifdef __cplusplus
}
#endif

#endif
