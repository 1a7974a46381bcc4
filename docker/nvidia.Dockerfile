# trtllm4j inside NVIDIA's TensorRT-LLM release image: the same command-line tool, Java runtime, jar
# and CPU backend as cpu.Dockerfile, plus the cuda backend, the tensorrt backend and trtllm4j's
# GPTAttention plugin library, built here against the release image's own CUDA and TensorRT. The
# tensorrt backend runs TensorRT-LLM's own plugin library (libnvinfer_plugin_tensorrt_llm.so) by
# default.
#
# Written, not yet built: the project's build hosts reach no NVIDIA registry. The paths below are
# where TensorRT-LLM's release images keep TensorRT (/usr/local/tensorrt) and CUDA (/usr/local/cuda);
# each is checked while building, so a release that moves them fails here, naming the path.
#
# Built by `make image-nvidia TRTLLM_RELEASE_IMAGE=...`, from the context `make image-context` stages
# in target/image/ (as for cpu.Dockerfile, plus native-src/: the Makefile, jextract-config/ and
# src/main/native/, all the native build needs).
# TRTLLM_RELEASE_IMAGE: the repository of NVIDIA's TensorRT-LLM release images (NGC's
#   tensorrt-llm/release), with its registry; it has no default so that a build never reaches
#   a registry the user did not name.
# TRTLLM_RELEASE_TAG: the release the image is pinned to.
ARG TRTLLM_RELEASE_IMAGE
ARG TRTLLM_RELEASE_TAG=1.0.0

# The GPU backends, compiled with the release image's nvcc and TensorRT headers, so that they match the
# CUDA and TensorRT they run with (the jar's copies, where it has them, were built elsewhere).
FROM ${TRTLLM_RELEASE_IMAGE}:${TRTLLM_RELEASE_TAG} AS native
RUN command -v make >/dev/null \
 || { apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make \
      && rm -rf /var/lib/apt/lists/*; }
COPY native-src/ /build/
WORKDIR /build
RUN make --no-print-directory native-cuda native-tensorrt \
      NVCC=/usr/local/cuda/bin/nvcc CUDA_HOME=/usr/local/cuda TENSORRT_INCLUDE=/usr/local/tensorrt/include

FROM ${TRTLLM_RELEASE_IMAGE}:${TRTLLM_RELEASE_TAG}

# The CPU backend links libgomp; the release image normally has it already.
RUN ldconfig -p | grep -q 'libgomp\.so\.1 ' \
 || { apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgomp1 \
      && rm -rf /var/lib/apt/lists/*; }

# TensorRT-LLM's plugin library lies in the tensorrt_llm Python package, whose folder depends on the
# image's Python. An environment variable cannot take a value found while building, so a fixed link
# names the package's libs/ folder (a link to the folder, not the file, so that the library's $ORIGIN
# is still that folder). find_spec locates the package without importing it: importing loads its CUDA
# libraries, which need a driver that a build does not have.
RUN test -f /usr/local/tensorrt/lib/libnvinfer.so.10 \
      || { echo "error: no /usr/local/tensorrt/lib/libnvinfer.so.10 in this release image" >&2; exit 1; } \
 && libs="$(python3 -c 'import importlib.util, os; print(os.path.join(os.path.dirname(importlib.util.find_spec("tensorrt_llm").origin), "libs"))')" \
 && { test -f "$libs/libnvinfer_plugin_tensorrt_llm.so" \
      || { echo "error: no libnvinfer_plugin_tensorrt_llm.so in $libs" >&2; exit 1; }; } \
 && mkdir -p /opt/trtllm4j \
 && ln -s "$libs" /opt/trtllm4j/tensorrt_llm-libs

COPY runtime/ /opt/trtllm4j/runtime/
COPY lib/ /opt/trtllm4j/lib/
COPY trtllm4j.jar /opt/trtllm4j/
COPY trtllm4j /usr/local/bin/trtllm4j
# libtrtllm4j_cuda.so, libtrtllm4j_tensorrt.so and libtrtllm4j_tensorrt_plugin.so. TRTLLM4J_LIBRARY_PATH
# puts them before the jar's copies; the CPU backend, not built here, still comes from the jar.
COPY --from=native /build/target/native/linux-x86_64/ /opt/trtllm4j/native/

# TRTLLM4J_TENSORRT_LIBRARY: where the tensorrt backend opens libnvinfer.so.10. LD_LIBRARY_PATH: where
# TensorRT finds libnvinfer_builder_resource.so.10.* when it builds an engine (the release image adds
# TensorRT's folder only in its shells' start-up file, which the entry point does not read).
# TensorRT-LLM's plugin library exports initTrtLlmPlugins, so the backend's plugin namespace defaults
# to tensorrt_llm; TRTLLM4J_TENSORRT_PLUGIN_LIBRARY= (empty) at `docker run` selects trtllm4j's own
# plugin library, beside the backend, instead.
ENV TRTLLM4J_LIBRARY_PATH=/opt/trtllm4j/native \
    TRTLLM4J_TENSORRT_LIBRARY=/usr/local/tensorrt/lib \
    TRTLLM4J_TENSORRT_PLUGIN_LIBRARY=/opt/trtllm4j/tensorrt_llm-libs/libnvinfer_plugin_tensorrt_llm.so \
    LD_LIBRARY_PATH=/usr/local/tensorrt/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}

WORKDIR /workspace
ENTRYPOINT ["trtllm4j"]
CMD ["--help"]
