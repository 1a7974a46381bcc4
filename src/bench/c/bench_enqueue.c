/*
 * The bridge benchmark's C side: the CPU backend's enqueue of the trivial step (bench_steps.h), called
 * straight from C. Prints the nanoseconds per call of the fastest of several timed runs, the figure
 * that the JMH (Java) and ctypes (Python) runs of the same call are compared with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_steps.h"

enum { CALLS = 2000000, RUNS = 7 };

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
    const trtllm4j_backend_api *api = trtllm4j_backend();
    trtllm4j_plugin *plugin;
    trtllm4j_attention_step *step;
    if (trtllm4j_bench_trivial(api, &plugin, &step) != TRTLLM4J_OK) {
        fprintf(stderr, "bench_enqueue: setting up the trivial step failed: %s\n", api->last_error());
        return 1;
    }
    trtllm4j_bench_enqueue_loop(api, plugin, step, CALLS); /* warm-up */
    double best = 1e300;
    for (int run = 0; run < RUNS; run++) {
        double start = now_ns();
        if (trtllm4j_bench_enqueue_loop(api, plugin, step, CALLS) != TRTLLM4J_OK) {
            fprintf(stderr, "bench_enqueue: enqueue failed: %s\n", api->last_error());
            return 1;
        }
        double per_call = (now_ns() - start) / CALLS;
        if (per_call < best) best = per_call;
    }
    printf("c enqueue (trivial step): %.1f ns/call (fastest of %d runs of %d calls)\n", best, RUNS, CALLS);
    return 0;
}
