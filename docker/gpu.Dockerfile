# trtllm4j on the GPU, made from package registries alone: the trtllm4j command-line tool as entry
# point, a Java 25 runtime made with jlink, the trtllm4j jar with its libraries, the CPU, CUDA and
# tensorrt backends with trtllm4j's GPTAttention plugin library (inside the jar), and TensorRT 10.6's
# libnvinfer.so.10 and its builder resource from Maven Central
# (org.bytedeco:tensorrt:10.6-1.5.11:linux-x86_64-redist).
#
# No CUDA toolkit and no driver inside: the backends and libnvinfer link the CUDA runtime statically
# and need only the driver's libcuda.so.1. It and the GPU's device nodes come from the host when the
# container starts, as NVIDIA's container toolkit (`docker run --gpus all`) or a CDI specification
# (`podman run --device nvidia.com/gpu=all`) gives them. Without them the CPU backend runs and the GPU
# backends say that the driver is missing.
#
# Built by `make image-gpu TENSORRT_INCLUDE=...`, from the build context it stages in target/image-gpu/
# (what `make image-context` stages, and tensorrt/ with TensorRT's two libraries).
#
# BASE_IMAGE: a Debian bookworm image. The default is the public one; a host without a registry
# passes a locally made one, e.g. `make image-gpu BASE_IMAGE=localhost/local/debian:bookworm ...`
# (scripts/container-engine.sh makes that image with debootstrap).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# The CPU backend is built with OpenMP and links libgomp. The GPU backends and TensorRT are C++ and
# need libstdc++ besides glibc, nothing more (Debian's minimal images have it already: apt needs it).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgomp1 libstdc++6 \
 && rm -rf /var/lib/apt/lists/*

# TensorRT first: the largest layer (1.6 GB) and the one that changes least.
COPY tensorrt/ /opt/tensorrt/lib/
# The tensorrt backend opens libnvinfer.so.10 from TRTLLM4J_TENSORRT_LIBRARY; libnvinfer opens its
# builder resource by name alone, so the dynamic loader must find it there too. The toolkit mounts
# the driver's compute libraries (and nvidia-smi) when asked for these capabilities.
ENV TRTLLM4J_TENSORRT_LIBRARY=/opt/tensorrt/lib \
    LD_LIBRARY_PATH=/opt/tensorrt/lib \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility

COPY runtime/ /opt/trtllm4j/runtime/
COPY lib/ /opt/trtllm4j/lib/
COPY trtllm4j.jar /opt/trtllm4j/
COPY trtllm4j /usr/local/bin/trtllm4j

WORKDIR /workspace
ENTRYPOINT ["trtllm4j"]
CMD ["--help"]
