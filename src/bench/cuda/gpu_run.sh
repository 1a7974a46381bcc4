#!/usr/bin/env bash
# One call on a GPU host: the CPU-vs-CUDA check, a memcheck run on a few cases, then the benchmarks.
#   gpu_run.sh DIR OUT   DIR holds libtrtllm4j_cpu.so, libtrtllm4j_cuda.so, cuda_check, bench_cuda and
#                        bench_torch.py; logs go to OUT
set -o pipefail
dir=$1 out=$2
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv | tee "$out/gpu.txt"
"$dir/cuda_check" "$dir" "${CHECK_CASES:-240}" 1234 > "$out/check.log" 2>&1; echo "check rc=$?"
grep -E '^FAIL' "$out/check.log" | head -20
tail -5 "$out/check.log"
if command -v compute-sanitizer >/dev/null; then
  timeout 150 compute-sanitizer --tool memcheck "$dir/cuda_check" "$dir" 9 77 > "$out/memcheck.log" 2>&1
  echo "memcheck rc=$?"; tail -4 "$out/memcheck.log"
fi
"$dir/bench_cuda" "$dir" 2>&1 | tee "$out/bench.log"
python3 "$dir/bench_torch.py" 2>&1 | tee "$out/torch.log"
