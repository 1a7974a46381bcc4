/* The library's own view of the ABI structs, reported through trtllm4j_backend_api.layout. */
#ifndef TRTLLM4J_ABI_LAYOUT_H
#define TRTLLM4J_ABI_LAYOUT_H

#include "trtllm4j.h"

#ifdef __cplusplus
extern "C" {
#endif

int32_t trtllm4j_abi_layout(const trtllm4j_layout_entry **entries);

#ifdef __cplusplus
}
#endif

#endif
