# trtllm4j: one entry point for building, testing and running.
#   make run       build, then run the main job (a Llama-3.1-8B attention layer) on the CPU backend
#   make test      every test (unit and integration)
#   make build     compile Java and the CPU backend, no tests
#   make bindings  regenerate dev.trtllm4j.ffi from jextract-config/ (needs JEXTRACT)
#   make native    the CPU backend, and the CUDA backend where nvcc is found (Maven calls this itself)
#   make native-cuda   the CUDA backend alone (needs nvcc: NVCC=/path/to/nvcc)
#   make native-tensorrt TENSORRT_INCLUDE=...  the tensorrt backend and trtllm4j's GPTAttention TensorRT
#                  plugin library (needs nvcc and TensorRT 10's headers; see README)
#   make tensorrt-test TENSORRT_INCLUDE=...  the GPU host's test and benchmark program for them
#   make bench     the benchmarks: the bridge from C, Python ctypes and Java (JMH), the CPU backend
#                  against ONNX Runtime (JMH), both on BENCH_THREADS threads (default 2); BENCHMARKS.md
#                  records the figures
#   make image-cpu     the CPU container image (docker/cpu.Dockerfile); BASE_IMAGE=... for a local base
#   make image-gpu TENSORRT_INCLUDE=...  the GPU image (docker/gpu.Dockerfile): CPU, CUDA and tensorrt
#                  backends and TensorRT 10.6 from Maven Central; BASE_IMAGE=... for a local base
#   make image-gpu-archive TENSORRT_INCLUDE=...  the same, saved as target/trtllm4j-gpu-VERSION.tar
#   make image-nvidia  the image on NVIDIA's TensorRT-LLM release image; needs TRTLLM_RELEASE_IMAGE=...
#   make image-context stage target/image/, the images' build context (Maven calls this itself)
#   make gpu-bundle    stage target/gpu-bundle/: runtime, jar, backends and tests for a GPU host without Java
#                  (TENSORRT_INCLUDE=... builds and bundles the tensorrt backend too; BENCH=1 the
#                  benchmarks and JMH too, run there with its run-bench; SLIM=1 one command's 64 MiB:
#                  no Testcontainers, and make gpu-tools' programs, run there with its run-gpu-checks)
#   make podman-debs   Debian's Podman as .deb files in target/podman-debs/, for scripts/gpu-host-engine.sh

# A JDK 25 is required: take JAVA_HOME when it is one, else Temurin's in Debian's JVM folder.
JDK25_DEFAULT := /usr/lib/jvm/temurin-25-jdk-amd64
is_jdk25 = $(shell "$(1)/bin/java" -version 2>&1 | grep -Eq 'version "25[".]' && echo yes)
ifneq ($(call is_jdk25,$(JAVA_HOME)),yes)
  override JAVA_HOME := $(JDK25_DEFAULT)
endif
export JAVA_HOME

# The Maven Wrapper (mvnw) fetches the Maven release that .mvn/wrapper/ names from Maven Central on
# first use, so Maven need not be installed; MVN=mvn uses an installed Maven instead.
MVN ?= ./mvnw -B --no-transfer-progress
JEXTRACT ?= $(shell command -v jextract 2>/dev/null)
PLATFORM := linux-x86_64
NATIVE_OUT := target/native/$(PLATFORM)

CC ?= gcc
# -Wno-psabi: the CPU kernels' vector helpers are static and inlined, so the GCC 4.6 change in how
# vector arguments are passed, which GCC notes for the baseline clone, never crosses an ABI boundary.
CFLAGS_NATIVE := -std=c11 -O3 -fPIC -fopenmp -Wall -Wextra -Werror -Wno-psabi -fvisibility=hidden \
                 -Ijextract-config -Isrc/main/native/common
COMMON_SRC := $(wildcard src/main/native/common/*.c)
COMMON_HDR := $(wildcard src/main/native/common/*.h) jextract-config/trtllm4j.h
CPU_SRC := $(wildcard src/main/native/cpu/*.c)
CPU_LIB := $(NATIVE_OUT)/libtrtllm4j_cpu.so

.PHONY: build test run bindings native bench bench-native check-jdk check-tools check-bench-tools clean \
        image-context image-cpu image-gpu image-gpu-archive image-nvidia check-engine gpu-bundle podman-debs gpu-tools native-tensorrt tensorrt-test check-tensorrt-include

# Tool checks, made before a target starts. A check target's recipe is $(call check,REQUIREMENTS):
# each requirement that fails prints one line naming what to install, and the check fails after all
# of them have been tried, so one run names every missing tool. $(call require,TOOL,PACKAGE) requires
# TOOL on PATH and names the Debian/Ubuntu PACKAGE that provides it; $(require_jdk) the JDK 25.
check = @missing=; $(1) test -z "$$missing"
require = command -v $(1) >/dev/null 2>&1 || { \
  echo "error: trtllm4j needs $(1), which is not installed: apt-get install -y $(2)" >&2; missing=yes; };
require_jdk = test "$(call is_jdk25,$(JAVA_HOME))" = yes || { \
  echo "error: trtllm4j needs a JDK 25; none at JAVA_HOME=$(JAVA_HOME). Install one (Temurin 25) and set JAVA_HOME." >&2; missing=yes; };

check-jdk:
	$(call check,$(require_jdk))

# What build, test and run need (make itself aside): the JDK, Maven (or its wrapper), a C compiler.
check-tools:
	$(call check,$(require_jdk) $(call require,$(firstword $(MVN)),maven) $(call require,$(CC),gcc))

check-bench-tools:
	$(call check,$(call require,python3,python3))

# Order-only: the check runs first, yet does not make the library out of date.
$(CPU_LIB): | check-tools
$(CPU_LIB): $(CPU_SRC) $(COMMON_SRC) $(COMMON_HDR) $(wildcard src/main/native/cpu/*.h)
	@mkdir -p $(NATIVE_OUT)
	$(CC) $(CFLAGS_NATIVE) -shared -o $@ $(CPU_SRC) $(COMMON_SRC) -lm

# The CUDA backend: nvcc for the kernels, CC for the shared C parts; the CUDA runtime is linked
# statically so that the library needs only the NVIDIA driver. Built by `make native` where nvcc is
# found; `make native-cuda` insists on it.
NVCC ?= nvcc
HAVE_NVCC := $(shell command -v $(NVCC) 2>/dev/null)
CUDA_ARCHS ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90
NVCCFLAGS := -std=c++17 -O3 $(CUDA_ARCHS) -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra -Werror all-warnings \
             -Xptxas -warn-spills -Ijextract-config -Isrc/main/native/common -Isrc/main/native/cuda
CUDA_OBJ := target/native-obj/cuda
CUDA_SRC := $(wildcard src/main/native/cuda/*.cu)
CUDA_HDR := $(wildcard src/main/native/cuda/*.h src/main/native/cuda/*.cuh)
CUDA_OBJS := $(patsubst src/main/native/cuda/%.cu,$(CUDA_OBJ)/%.o,$(CUDA_SRC)) \
             $(patsubst src/main/native/common/%.c,$(CUDA_OBJ)/common_%.o,$(COMMON_SRC)) \
             $(CUDA_OBJ)/device_runtime.o
CUDA_LIB := $(NATIVE_OUT)/libtrtllm4j_cuda.so

native: $(CPU_LIB) $(if $(HAVE_NVCC),$(CUDA_LIB))

.PHONY: native-cuda check-nvcc
check-nvcc:
	@test -n "$(HAVE_NVCC)" || { \
	  echo "error: the CUDA backend needs nvcc (CUDA 12.8 or newer); none found as NVCC=$(NVCC). Install the CUDA toolkit or pass NVCC=/path/to/nvcc" >&2; exit 1; }

native-cuda: check-nvcc $(CUDA_LIB)

$(CUDA_OBJ)/%.o: src/main/native/cuda/%.cu $(CUDA_HDR) $(COMMON_HDR)
	@mkdir -p $(CUDA_OBJ)
	$(NVCC) $(NVCCFLAGS) -c -o $@ $<

$(CUDA_OBJ)/common_%.o: src/main/native/common/%.c $(COMMON_HDR)
	@mkdir -p $(CUDA_OBJ)
	$(CC) -std=c11 -O2 -fPIC -Wall -Wextra -Werror -fvisibility=hidden -Ijextract-config -Isrc/main/native/common -c -o $@ $<

# The ABI's memory and stream functions, shared with the tensorrt backend: C over the CUDA runtime,
# compiled by nvcc's host compiler so that it finds CUDA's headers as the kernels do.
$(CUDA_OBJ)/device_runtime.o: src/main/native/cuda/device_runtime.c src/main/native/cuda/device_runtime.h $(COMMON_HDR)
	@mkdir -p $(CUDA_OBJ)
	$(NVCC) -O2 -Xcompiler -std=c11,-fPIC,-fvisibility=hidden,-Wall,-Wextra,-Werror -Ijextract-config \
	  -Isrc/main/native/common -c -o $@ $<

$(CUDA_LIB): $(CUDA_OBJS)
	@mkdir -p $(NATIVE_OUT)
	$(NVCC) $(CUDA_ARCHS) -shared -cudart static -o $@ $(CUDA_OBJS) -Xlinker --exclude-libs,ALL -ldl

# The tensorrt backend (libtrtllm4j_tensorrt.so) and trtllm4j's GPTAttention TensorRT plugin library
# (libtrtllm4j_tensorrt_plugin.so), C++17 against TensorRT 10's headers (TENSORRT_INCLUDE: include/ of
# NVIDIA/TensorRT's release/10.6). Neither links libnvinfer: the backend opens libnvinfer.so.10 at run
# time (so it loads, and says what is missing, without TensorRT) and the plugin needs only TensorRT's
# header-only interfaces. Both link the CUDA kernels and the CUDA runtime statically.
CUDA_HOME ?= /usr/local/cuda
CXX := g++
TENSORRT_INCLUDE ?=
TRT_OUT := target/native/tensorrt-build
CXXFLAGS_TENSORRT := -std=c++17 -O3 -fPIC -Wall -Wextra -Werror -fvisibility=hidden -Ijextract-config \
                     -Isrc/main/native/common -Isrc/main/native/cuda -Isrc/main/native/tensorrt \
                     -isystem $(TENSORRT_INCLUDE) -isystem $(CUDA_HOME)/include
CFLAGS_GPU := -std=c11 -O3 -fPIC -Wall -Wextra -Werror -fvisibility=hidden -Ijextract-config \
              -Isrc/main/native/common -Isrc/main/native/cuda -isystem $(CUDA_HOME)/include
CUDA_LINK := -L$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt -lpthread
TRT_COMMON_OBJ := $(patsubst src/main/native/%.c,$(TRT_OUT)/%.o,$(COMMON_SRC))
TRT_SHARED_OBJ := $(TRT_OUT)/tensorrt/plugin_io.o $(TRT_OUT)/tensorrt/field_set.o
TRT_PLUGIN_OBJ := $(TRT_OUT)/tensorrt/gpt_attention_plugin.o
TRT_BACKEND_OBJ := $(TRT_OUT)/tensorrt/backend.o $(TRT_OUT)/tensorrt/tensorrt_library.o
# The cuda backend's kernel objects, all but its function table, in an archive for the plugin library.
CUDA_KERNELS := $(TRT_OUT)/libtrtllm4j_cuda_kernels.a
TENSORRT_BACKEND_LIB := $(NATIVE_OUT)/libtrtllm4j_tensorrt.so
TENSORRT_PLUGIN_LIB := $(NATIVE_OUT)/libtrtllm4j_tensorrt_plugin.so
TRT_HDR := $(COMMON_HDR) $(wildcard src/main/native/cuda/*.h src/main/native/tensorrt/*.h)

native-tensorrt: check-nvcc $(TENSORRT_BACKEND_LIB) $(TENSORRT_PLUGIN_LIB)

check-tensorrt-include:
	@test -f "$(CUDA_HOME)/include/cuda_runtime_api.h" || { \
	  echo "error: the CUDA toolkit's headers are not in CUDA_HOME=$(CUDA_HOME): pass CUDA_HOME=/path/to/cuda" >&2; exit 1; }
	@test -f "$(TENSORRT_INCLUDE)/NvInfer.h" || { \
	  echo "error: TensorRT 10's headers are needed: make native-tensorrt TENSORRT_INCLUDE=/path/to/TensorRT/include" \
	       "(include/ of github.com/NVIDIA/TensorRT, branch release/10.6)" >&2; exit 1; }

$(TRT_OUT)/%.o: src/main/native/%.c $(TRT_HDR) | check-tensorrt-include
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_GPU) -c -o $@ $<

$(TRT_OUT)/tensorrt/%.o: src/main/native/tensorrt/%.cpp $(TRT_HDR) | check-tensorrt-include
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_TENSORRT) -c -o $@ $<

$(CUDA_KERNELS): $(filter-out $(CUDA_OBJ)/backend.o,$(patsubst src/main/native/cuda/%.cu,$(CUDA_OBJ)/%.o,$(CUDA_SRC)))
	@mkdir -p $(TRT_OUT)
	rm -f $@
	ar rcs $@ $^

# --exclude-libs: the kernels and the CUDA runtime stay private, so they never stand in for the cuda
# backend's own copies in a process that loads both.
$(TENSORRT_PLUGIN_LIB): $(TRT_PLUGIN_OBJ) $(TRT_SHARED_OBJ) $(TRT_COMMON_OBJ) $(CUDA_KERNELS)
	@mkdir -p $(NATIVE_OUT)
	$(CXX) -shared -o $@ $^ $(CUDA_LINK) -Wl,--no-undefined -Wl,--exclude-libs,ALL

$(TENSORRT_BACKEND_LIB): $(TRT_BACKEND_OBJ) $(TRT_SHARED_OBJ) $(TRT_COMMON_OBJ) $(CUDA_OBJ)/device_runtime.o
	@mkdir -p $(NATIVE_OUT)
	$(CXX) -shared -o $@ $^ $(CUDA_LINK) -Wl,--no-undefined -Wl,--exclude-libs,ALL

# The GPU host's test of the tensorrt backend against the cuda and cpu backends (see its header):
#   target/native/tensorrt-build/tensorrt_backend_test target/native/linux-x86_64 [--bench]
TENSORRT_TEST := $(TRT_OUT)/tensorrt_backend_test

tensorrt-test: $(TENSORRT_TEST)

$(TENSORRT_TEST): $(wildcard src/test/native/tensorrt/*) $(TRT_HDR) | check-tensorrt-include
	@mkdir -p $(TRT_OUT)
	$(CXX) $(CXXFLAGS_TENSORRT) -fvisibility=default -o $@ src/test/native/tensorrt/tensorrt_backend_test.cpp -ldl

# The GPU host's check and benchmark of the CUDA backend, staged with the libraries in one folder
# that travels there (src/bench/cuda/gpu_run.sh runs them): target/gpu-tools.
GPU_TOOLS := target/gpu-tools
gpu-tools: check-nvcc native
	@mkdir -p $(GPU_TOOLS)
	$(CXX) -std=c++17 -O2 -Wall -Wextra -Werror -Ijextract-config -Isrc/main/native/common -Isrc/test/native \
	  -o $(GPU_TOOLS)/cuda_check src/test/native/cuda_check.cpp -ldl
	$(NVCC) -std=c++17 -O2 $(CUDA_ARCHS) -Ijextract-config -Isrc/main/native/common -Isrc/test/native \
	  -o $(GPU_TOOLS)/bench_cuda src/bench/cuda/bench_cuda.cu -ldl
	cp $(CPU_LIB) $(CUDA_LIB) src/bench/cuda/bench_torch.py src/bench/cuda/gpu_run.sh $(GPU_TOOLS)/

BENCH_OUT := target/bench
BENCH_LIB := $(BENCH_OUT)/libtrtllm4j_bench.so
BENCH_C := $(BENCH_OUT)/bench_enqueue
BENCH_HELPERS := src/bench/c/bench_steps.c src/bench/c/bench_steps.h
JMH_ARGS ?=
# Threads of both sides of AttentionBenchmark (the CPU backend's OpenMP threads, ONNX Runtime's
# intra-op threads) and of the memory read and copy measured beside them.
BENCH_THREADS ?= 2

bench-native: $(BENCH_LIB) $(BENCH_C)

$(BENCH_LIB): $(BENCH_HELPERS) $(COMMON_HDR)
	@mkdir -p $(BENCH_OUT)
	$(CC) $(CFLAGS_NATIVE) -shared -o $@ src/bench/c/bench_steps.c

$(BENCH_C): src/bench/c/bench_enqueue.c $(BENCH_LIB) $(CPU_LIB)
	$(CC) $(CFLAGS_NATIVE) -o $@ src/bench/c/bench_enqueue.c -L$(BENCH_OUT) -ltrtllm4j_bench \
	  -L$(NATIVE_OUT) -ltrtllm4j_cpu -Wl,-rpath,'$$ORIGIN' -Wl,-rpath,'$$ORIGIN/../native/$(PLATFORM)'

# The C and Python runs first, then JMH; each prints its figures (JMH also to target/jmh-result.json,
# with JMH_ARGS too).
bench: check-tools check-bench-tools native bench-native
	OMP_NUM_THREADS=$(BENCH_THREADS) $(BENCH_C)
	OMP_NUM_THREADS=$(BENCH_THREADS) python3 src/bench/python/bench_enqueue.py $(NATIVE_OUT) $(BENCH_OUT)
	$(MVN) -P bench -DskipTests verify -Dbench.threads=$(BENCH_THREADS) $(if $(JMH_ARGS),-Djmh.args="$(JMH_ARGS)")

build: check-tools
	$(MVN) -q package -DskipTests

# Integration tests need a container engine: the script uses the one that answers, or brings up
# Podman for the run and stops it afterwards.
test: check-tools
	scripts/container-engine.sh $(MVN) verify

run: build
	bin/trtllm4j demo

# The GPU host has no Java, Maven or network: this stages what its tests and the tool need there.
# With TENSORRT_INCLUDE=..., the tensorrt backend and its plugin library are built first and travel
# in the jar (TensorRT itself does not: the GPU host has its own, in TRTLLM4J_TENSORRT_LIBRARY).
gpu-bundle: $(if $(TENSORRT_INCLUDE),native-tensorrt) $(if $(SLIM),gpu-tools) build
	MVN="$(MVN) -q" BENCH="$(BENCH)" SLIM="$(SLIM)" scripts/gpu-bundle.sh

# A container engine for a GPU host without one or a network (see README, "GPU integration tests").
podman-debs:
	scripts/podman-for-gpu-host.sh target/podman-debs

bindings:
	@test -n "$(JEXTRACT)" || { \
	  echo "error: no jextract found. Build jextract (github.com/openjdk/jextract) and run: make bindings JEXTRACT=/path/to/bin/jextract" >&2; exit 1; }
	rm -f src/main/java/dev/trtllm4j/ffi/*.java
	"$(JEXTRACT)" @jextract-config/jextract.args jextract-config/trtllm4j.h
	cat jextract-config/trtllm4j.h jextract-config/jextract.args | sha256sum | cut -d' ' -f1 > jextract-config/bindings.sha256

# Container images. ENGINE: podman or docker, whichever is installed (override with ENGINE=...).
ENGINE ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null)
# Expanded where used: the NVIDIA image's native build runs this Makefile without pom.xml.
VERSION = $(shell sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)
IMAGE_CONTEXT := target/image
CPU_IMAGE = trtllm4j/trtllm4j-cpu:$(VERSION)
NVIDIA_IMAGE = trtllm4j/trtllm4j-nvidia:$(VERSION)
GPU_IMAGE = trtllm4j/trtllm4j-gpu:$(VERSION)
GPU_IMAGE_CONTEXT := target/image-gpu
GPU_IMAGE_ARCHIVE = target/trtllm4j-gpu-$(VERSION).tar
BASE_IMAGE ?= $(TRTLLM4J_BASE_IMAGE)
TRTLLM_RELEASE_IMAGE ?=
TRTLLM_RELEASE_TAG ?= 1.0.0

# The Java runtime holds exactly the modules that jdeps finds the jar and its libraries using.
# native-src/ is what nvidia.Dockerfile's build stage compiles the GPU backends from.
image-context: check-jdk
	@test -f target/trtllm4j.jar || { echo "error: target/trtllm4j.jar is missing: run 'make build' first" >&2; exit 1; }
	rm -rf $(IMAGE_CONTEXT)
	mkdir -p $(IMAGE_CONTEXT)
	"$(JAVA_HOME)/bin/jlink" --output $(IMAGE_CONTEXT)/runtime \
	  --add-modules "$$("$(JAVA_HOME)/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 25 \
	                    target/trtllm4j.jar target/lib/*.jar)" \
	  --strip-debug --no-header-files --no-man-pages --compress=zip-6
	cp -r target/trtllm4j.jar target/lib docker/trtllm4j docker/cpu.Dockerfile docker/nvidia.Dockerfile $(IMAGE_CONTEXT)/
	mkdir -p $(IMAGE_CONTEXT)/native-src/src/main
	cp -r Makefile jextract-config $(IMAGE_CONTEXT)/native-src/
	cp -r src/main/native $(IMAGE_CONTEXT)/native-src/src/main/

check-engine:
	@test -n "$(ENGINE)" || { \
	  echo "error: no container engine found: install Podman or Docker, or pass ENGINE=/path/to/docker" >&2; exit 1; }

image-cpu: build check-engine
	$(MAKE) --no-print-directory image-context
	"$(ENGINE)" build -f $(IMAGE_CONTEXT)/cpu.Dockerfile $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
	  -t $(CPU_IMAGE) $(IMAGE_CONTEXT)

# TensorRT 10.6 for the GPU image, from Maven Central: libnvinfer.so.10 (the CUDA runtime linked in)
# and its builder resource, unpacked from the artifact alone (1.1 GB; Maven keeps it in its local
# repository). Newer versions of this artifact lack the per-GPU builder resources: their builder fails.
TENSORRT_ARTIFACT := org.bytedeco:tensorrt:10.6-1.5.11:jar:linux-x86_64-redist
TENSORRT_DIR := target/tensorrt
TENSORRT_IN_JAR := org/bytedeco/tensorrt/linux-x86_64
TENSORRT_LIBS := libnvinfer.so.10 libnvinfer_builder_resource.so.10.6.0

# One rule makes both libraries; the builder resource, unpacked last, stands for the pair.
$(TENSORRT_DIR)/libnvinfer_builder_resource.so.10.6.0:
	rm -rf $(TENSORRT_DIR)
	$(MVN) -q dependency:unpack -Dartifact=$(TENSORRT_ARTIFACT) -DoutputDirectory=$(TENSORRT_DIR) \
	  -Dmdep.overWriteReleases=true -Dmdep.unpack.includes=$(TENSORRT_IN_JAR)/libnvinfer.so.10,$(TENSORRT_IN_JAR)/libnvinfer_builder_resource.so.10.6.0
	mv $(addprefix $(TENSORRT_DIR)/$(TENSORRT_IN_JAR)/,$(TENSORRT_LIBS)) $(TENSORRT_DIR)/
	rm -r $(TENSORRT_DIR)/org

# The GPU image: the jar with the tensorrt backend (so TensorRT's headers are needed), the CPU image's
# context, and TensorRT's libraries, in a context of its own (hard links, no copies) so that the CPU
# image's context stays small.
image-gpu: check-engine
	@test -n "$(TENSORRT_INCLUDE)" || { \
	  echo "error: image-gpu builds the tensorrt backend into the jar and needs TensorRT 10's headers:" \
	       "make image-gpu TENSORRT_INCLUDE=/path/to/TensorRT/include (include/ of github.com/NVIDIA/TensorRT," \
	       "branch release/10.6), and BASE_IMAGE=... where the public Debian image cannot be pulled" >&2; exit 1; }
	$(MAKE) --no-print-directory native-tensorrt
	$(MAKE) --no-print-directory build
	@for library in libtrtllm4j_cpu.so libtrtllm4j_cuda.so libtrtllm4j_tensorrt.so libtrtllm4j_tensorrt_plugin.so; do \
	  "$(JAVA_HOME)/bin/jar" tf target/trtllm4j.jar | grep -q "/$$library$$" \
	    || { echo "error: target/trtllm4j.jar lacks $$library" >&2; exit 1; }; done
	$(MAKE) --no-print-directory image-context
	$(MAKE) --no-print-directory $(TENSORRT_DIR)/libnvinfer_builder_resource.so.10.6.0
	rm -rf $(GPU_IMAGE_CONTEXT)
	mkdir -p $(GPU_IMAGE_CONTEXT)/tensorrt
	cp -rl $(IMAGE_CONTEXT)/runtime $(IMAGE_CONTEXT)/lib $(IMAGE_CONTEXT)/trtllm4j.jar $(IMAGE_CONTEXT)/trtllm4j \
	  $(GPU_IMAGE_CONTEXT)/
	cp -l $(addprefix $(TENSORRT_DIR)/,$(TENSORRT_LIBS)) $(GPU_IMAGE_CONTEXT)/tensorrt/
	cp docker/gpu.Dockerfile $(GPU_IMAGE_CONTEXT)/
	"$(ENGINE)" build -f $(GPU_IMAGE_CONTEXT)/gpu.Dockerfile $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
	  -t $(GPU_IMAGE) $(GPU_IMAGE_CONTEXT)

# The GPU image as one file to carry to a host that cannot build it: `docker load -i FILE` or
# `podman load -i FILE` there. Left uncompressed: Podman 4 loads no compressed archive.
image-gpu-archive: image-gpu
	rm -f $(GPU_IMAGE_ARCHIVE)
	"$(ENGINE)" save -o $(GPU_IMAGE_ARCHIVE) $(GPU_IMAGE)
	@ls -l $(GPU_IMAGE_ARCHIVE)

# Only where NVIDIA's release image can be had: already present, or pulled from the named registry.
image-nvidia: check-engine
	@test -n "$(TRTLLM_RELEASE_IMAGE)" || { \
	  echo "error: image-nvidia needs TRTLLM_RELEASE_IMAGE, the repository of NVIDIA's TensorRT-LLM release" \
	       "images with its registry (tag $(TRTLLM_RELEASE_TAG), TRTLLM_RELEASE_TAG to change it)" >&2; exit 1; }
	@"$(ENGINE)" image inspect $(TRTLLM_RELEASE_IMAGE):$(TRTLLM_RELEASE_TAG) >/dev/null 2>&1 \
	  || "$(ENGINE)" pull $(TRTLLM_RELEASE_IMAGE):$(TRTLLM_RELEASE_TAG) \
	  || { echo "error: $(TRTLLM_RELEASE_IMAGE):$(TRTLLM_RELEASE_TAG) cannot be had here (not present, pull failed):" \
	            "the NVIDIA image is built only where it can" >&2; exit 1; }
	$(MAKE) --no-print-directory build
	$(MAKE) --no-print-directory image-context
	"$(ENGINE)" build -f $(IMAGE_CONTEXT)/nvidia.Dockerfile --build-arg TRTLLM_RELEASE_IMAGE=$(TRTLLM_RELEASE_IMAGE) \
	  --build-arg TRTLLM_RELEASE_TAG=$(TRTLLM_RELEASE_TAG) -t $(NVIDIA_IMAGE) $(IMAGE_CONTEXT)

clean:
	$(MVN) -q clean
