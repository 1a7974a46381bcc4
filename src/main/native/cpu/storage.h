/* Conversions between the storage types of type_id and the float32 the CPU backend computes in. */
#ifndef TRTLLM4J_CPU_STORAGE_H
#define TRTLLM4J_CPU_STORAGE_H

#include <stdint.h>
#include <string.h>

#include "trtllm4j.h"

static inline float bf16_to_float(uint16_t bits) {
    uint32_t widened = (uint32_t)bits << 16;
    float value;
    memcpy(&value, &widened, sizeof value);
    return value;
}

/* Round to nearest even, as PyTorch and CUDA's __float2bfloat16 do; NaN stays NaN. */
static inline uint16_t float_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t)((bits >> 16) | 0x40u);
    }
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

/* dst[i] = src[offset + i] as float, for n elements of storage type type_id. */
static inline void load_row(float *dst, const void *src, int64_t offset, int n, int32_t type_id) {
    switch (type_id) {
    case TRTLLM4J_FLOAT16: {
        const _Float16 *s = (const _Float16 *)src + offset;
        for (int i = 0; i < n; i++) dst[i] = (float)s[i];
        break;
    }
    case TRTLLM4J_BFLOAT16: {
        const uint16_t *s = (const uint16_t *)src + offset;
        for (int i = 0; i < n; i++) dst[i] = bf16_to_float(s[i]);
        break;
    }
    default:
        memcpy(dst, (const float *)src + offset, (size_t)n * sizeof(float));
        break;
    }
}

/* dst[offset + i] = src[i] in storage type type_id. */
static inline void store_row(void *dst, int64_t offset, const float *src, int n, int32_t type_id) {
    switch (type_id) {
    case TRTLLM4J_FLOAT16: {
        _Float16 *d = (_Float16 *)dst + offset;
        for (int i = 0; i < n; i++) d[i] = (_Float16)src[i];
        break;
    }
    case TRTLLM4J_BFLOAT16: {
        uint16_t *d = (uint16_t *)dst + offset;
        for (int i = 0; i < n; i++) d[i] = float_to_bf16(src[i]);
        break;
    }
    default:
        memcpy((float *)dst + offset, src, (size_t)n * sizeof(float));
        break;
    }
}

#endif
