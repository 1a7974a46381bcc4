"""The bridge benchmark's Python side: the CPU backend's enqueue of the trivial step, called through ctypes.

Sets up the plugin and step with the same helper as the C program (libtrtllm4j_bench.so), then times
ctypes calls of the backend's enqueue function pointer. Prints nanoseconds per call, the fastest of
several runs.

Usage: python3 bench_enqueue.py NATIVE_DIR BENCH_DIR
"""
import ctypes
import sys
import time

CALLS = 200_000
RUNS = 7


class BackendApi(ctypes.Structure):
    """The head of trtllm4j_backend_api, up to enqueue (trtllm4j.h)."""

    _fields_ = [
        ("abi_version", ctypes.c_int32),
        ("name", ctypes.c_char_p),
        ("tensor_location", ctypes.c_int32),
        ("describe", ctypes.c_void_p),
        ("create", ctypes.c_void_p),
        ("workspace_size", ctypes.c_void_p),
        ("enqueue", ctypes.c_void_p),
    ]


def main(native_dir, bench_dir):
    backend = ctypes.CDLL(f"{native_dir}/libtrtllm4j_cpu.so")
    helpers = ctypes.CDLL(f"{bench_dir}/libtrtllm4j_bench.so")
    backend.trtllm4j_backend.restype = ctypes.POINTER(BackendApi)
    api = backend.trtllm4j_backend()
    plugin, step = ctypes.c_void_p(), ctypes.c_void_p()
    if helpers.trtllm4j_bench_trivial(api, ctypes.byref(plugin), ctypes.byref(step)) != 0:
        sys.exit("bench_enqueue.py: setting up the trivial step failed")
    enqueue = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p)(api.contents.enqueue)

    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            enqueue(plugin, step)
        best = min(best, (time.perf_counter_ns() - start) / CALLS)
    if enqueue(plugin, step) != 0:
        sys.exit("bench_enqueue.py: enqueue failed")
    print(f"python ctypes enqueue (trivial step): {best:.1f} ns/call (fastest of {RUNS} runs of {CALLS} calls)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
