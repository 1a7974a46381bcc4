/* Status codes with a per-thread message, shared by every backend. */
#ifndef TRTLLM4J_STATUS_H
#define TRTLLM4J_STATUS_H

#include "trtllm4j.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Records a printf-style message for the calling thread and returns status. */
int32_t trtllm4j_fail(int32_t status, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last message, "" when none. */
const char *trtllm4j_last_error(void);

void trtllm4j_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif
