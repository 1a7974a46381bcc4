#include "status.h"

#include <stdarg.h>
#include <stdio.h>

/* Per thread, so that plugins used from several Java threads never read each other's message. */
static _Thread_local char last_message[4096];

int32_t trtllm4j_fail(int32_t status, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(last_message, sizeof last_message, format, args);
    va_end(args);
    return status;
}

const char *trtllm4j_last_error(void) {
    return last_message;
}

void trtllm4j_clear_error(void) {
    last_message[0] = '\0';
}
