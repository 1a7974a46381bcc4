#!/usr/bin/env bash
# Stages target/gpu-bundle/: everything the GPU host needs to run trtllm4j and its tests without
# Java, Maven or a network there (make gpu-bundle). About 80 MB: where a command carries 64 MiB at
# most, runtime/ goes in one and the rest in another.
#
#   runtime/     a Java 25 runtime made with jlink
#   trtllm4j.jar, lib/      the tool and its libraries (the CPU and CUDA backends are inside the jar)
#   test-classes/, test-lib/, junit-console.jar    the tests, Testcontainers and the JUnit console launcher
#   trtllm4j     the command-line tool;   run-tests    the unit tests, ending with JUnit's summary
#   run-gpu-it   TrtLlmContainerGpuIT, the GPU image under a container engine (DOCKER_HOST)
#   run-bench    with BENCH=1 only: the benchmarks of src/bench/java (JMH, its jars in test-lib/), e.g.
#                run-bench GpuStepBenchmark
#
# SLIM=1 (make gpu-bundle SLIM=1) fits one command's 64 MiB when the jar has no tensorrt backend
# (about 61 MB with BENCH=1): test-lib/ without Testcontainers, so no run-gpu-it, and instead
#   tools/, run-gpu-checks OUT    the C check and benchmarks of make gpu-tools (gpu_run.sh), run with
#                                 the backends of the bundle's jar; their logs go to OUT
#
# On the GPU host, from the checkout's root (tests read jextract-config/ and README.md from there):
#   target/gpu-bundle/run-tests        and        target/gpu-bundle/trtllm4j demo --backend cuda
#   scripts/gpu-host-engine.sh DEBS target/gpu-bundle/run-gpu-it     (see README, "GPU containers")
set -euo pipefail
cd "$(dirname "$0")/.."
: "${JAVA_HOME:?JAVA_HOME must name a JDK 25}"
MVN=${MVN:-mvn -B -q --no-transfer-progress}
out=target/gpu-bundle
# BENCH=1: the test classes with the benchmarks (JMH's harness generated at compile time), and JMH.
profile=${BENCH:+-P bench}
slim=${SLIM:-}
if [ -n "$slim" ] && [ ! -x target/gpu-tools/gpu_run.sh ]; then
  echo "error: SLIM=1 bundles target/gpu-tools/, which is missing: make gpu-tools (make gpu-bundle SLIM=1 does)" >&2
  exit 1
fi
junit_version=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
version=$(unzip -p target/trtllm4j.jar META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: *\([^[:space:]]*\).*/\1/p')
[ -n "$version" ] || { echo "error: target/trtllm4j.jar's manifest names no Implementation-Version" >&2; exit 1; }

unzip -l target/trtllm4j.jar | grep -q libtrtllm4j_cuda.so || {
  echo "error: target/trtllm4j.jar has no CUDA backend: the bundle is for the GPU host; build with nvcc installed" >&2
  exit 1
}
rm -rf "$out"
mkdir -p "$out"
if [ -n "$profile" ]; then $MVN $profile test-compile; fi
# Test dependencies: AssertJ, Testcontainers, the logger (and JMH with BENCH=1). JUnit comes in the console launcher's own
# jar; ONNX Runtime stays out (its tests do not run there), as do the runtime libraries (lib/) and
# what AssertJ loads only for features these tests do not use (Byte Buddy).
$MVN $profile dependency:copy-dependencies -DincludeScope=test -DoutputDirectory="$out/test-lib" \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian,org.jspecify,com.microsoft.onnxruntime,com.fasterxml.jackson.core,info.picocli,net.bytebuddy
$MVN dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:"$junit_version" -DoutputDirectory="$out"
mv "$out"/junit-platform-console-standalone-*.jar "$out/junit-console.jar"

cp target/trtllm4j.jar "$out/"
cp -r target/lib "$out/lib"
cp -r target/test-classes "$out/test-classes"
# The modules the jar, JUnit and the tests use (jdk.zipfs: tests read the jar as a file system);
# native symbols stripped (5 MB of libjvm.so).
"$JAVA_HOME/bin/jlink" --output "$out/runtime" --add-modules java.base,java.logging,java.management,jdk.unsupported,jdk.zipfs \
  --strip-java-debug-attributes --strip-native-debug-symbols=exclude-debuginfo-files --no-header-files --no-man-pages --compress=zip-9

cat > "$out/trtllm4j" <<'LAUNCHER'
#!/bin/sh
# The trtllm4j command from the bundle: its runtime and its jar (the backends are inside).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/runtime/bin/java" --enable-native-access=ALL-UNNAMED -jar "$here/trtllm4j.jar" "$@"
LAUNCHER
cat > "$out/run-tests" <<'RUNNER'
#!/bin/sh
# The unit tests on this host, from the checkout's root; extra arguments go to the JUnit console
# launcher (e.g. --select-class dev.trtllm4j.runtime.CudaBackendTest). ONNX Runtime's tests are left
# out: its library is not in the bundle.
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then set -- --select-package dev.trtllm4j; fi
classes="$here/test-classes:$here/trtllm4j.jar"
for jar in "$here"/lib/*.jar "$here"/test-lib/*.jar; do classes="$classes:$jar"; done
exec "$here/runtime/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -jar "$here/junit-console.jar" execute --disable-banner --details=summary \
  --class-path "$classes" \
  --exclude-package dev.trtllm4j.onnx --exclude-classname '.*OnnxRuntime.*' "$@"
RUNNER
cat > "$out/run-gpu-it" <<RUNNER
#!/bin/sh
# TrtLlmContainerGpuIT on this host, against the engine that DOCKER_HOST names, with the GPU image
# trtllm4j/trtllm4j-gpu:$version loaded there; each test's outcome, then JUnit's summary.
here=\$(cd "\$(dirname "\$0")" && pwd)
classes="\$here/test-classes:\$here/trtllm4j.jar"
for jar in "\$here"/lib/*.jar "\$here"/test-lib/*.jar; do classes="\$classes:\$jar"; done
exec "\$here/runtime/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Dtrtllm4j.version=$version \\
  -jar "\$here/junit-console.jar" execute --disable-banner --details=tree \\
  --class-path "\$classes" --include-classname '.*IT' --select-class dev.trtllm4j.testing.TrtLlmContainerGpuIT "\$@"
RUNNER
if [ -n "$profile" ]; then
  cat > "$out/run-bench" <<'BENCH'
#!/bin/sh
# JMH on this host; arguments go to JMH (e.g. GpuStepBenchmark -rf json -rff result.json).
here=$(cd "$(dirname "$0")" && pwd)
classes="$here/test-classes:$here/trtllm4j.jar"
for jar in "$here"/lib/*.jar "$here"/test-lib/*.jar; do classes="$classes:$jar"; done
exec "$here/runtime/bin/java" --enable-native-access=ALL-UNNAMED -cp "$classes" org.openjdk.jmh.Main "$@"
BENCH
  chmod +x "$out/run-bench"
fi
if [ -n "$slim" ]; then
  # AssertJ, the logger and JMH's jars stay: what the unit tests and the benchmarks load.
  find "$out/test-lib" -name '*.jar' ! -name 'assertj-*' ! -name 'slf4j-*' ! -name 'jmh-*' ! -name 'jopt-simple-*' \
    ! -name 'commons-math3-*' -delete
  rm "$out/run-gpu-it"
  mkdir "$out/tools"
  cp target/gpu-tools/cuda_check target/gpu-tools/bench_cuda target/gpu-tools/bench_torch.py target/gpu-tools/gpu_run.sh "$out/tools/"
  cat > "$out/run-gpu-checks" <<'CHECKS'
#!/bin/sh
# gpu_run.sh (the CUDA backend against the CPU backend, memcheck, the benchmarks beside PyTorch's) with
# the backends of this bundle's jar, unpacked by python3 (which bench_torch.py needs anyway); logs to OUT.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run-gpu-checks OUT}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp "$here"/tools/* "$dir/"
python3 - "$here/trtllm4j.jar" "$dir" <<'PY'
import sys, zipfile
jar = zipfile.ZipFile(sys.argv[1])
for name in jar.namelist():
    if name.endswith('.so'):
        with open(sys.argv[2] + '/' + name.rsplit('/', 1)[1], 'wb') as f:
            f.write(jar.read(name))
PY
"$dir/gpu_run.sh" "$dir" "$out"
CHECKS
  chmod +x "$out/run-gpu-checks"
else
  chmod +x "$out/run-gpu-it"
fi
chmod +x "$out/trtllm4j" "$out/run-tests"
du -sh "$out"
