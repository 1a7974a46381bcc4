# trtllm4j inside NVIDIA's TensorRT-LLM release image: the same command-line tool, Java runtime,
# jar and CPU backend as cpu.Dockerfile, on top of TensorRT 10 and TensorRT-LLM's plugin library.
#
# The TensorRT-LLM backend (src/main/native/trtllm, which calls the real GPTAttention plugin)
# does not exist yet: until it does, this image runs the CPU backend only, and is what the GPU
# integration test starts with a GPU device request. That backend will be built inside this
# image and added here.
#
# Built by `make image-nvidia TRTLLM_RELEASE_IMAGE=...`, from the context in target/image/.
# TRTLLM_RELEASE_IMAGE: the repository of NVIDIA's TensorRT-LLM release images (NGC's
#   tensorrt-llm/release), with its registry; it has no default so that a build never reaches
#   a registry the user did not name.
# TRTLLM_RELEASE_TAG: the release the image is pinned to.
ARG TRTLLM_RELEASE_IMAGE
ARG TRTLLM_RELEASE_TAG=1.0.0
FROM ${TRTLLM_RELEASE_IMAGE}:${TRTLLM_RELEASE_TAG}

# The CPU backend links libgomp; the release image normally has it already.
RUN ldconfig -p | grep -q 'libgomp\.so\.1 ' \
 || { apt-get update \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgomp1 \
      && rm -rf /var/lib/apt/lists/*; }

COPY runtime/ /opt/trtllm4j/runtime/
COPY lib/ /opt/trtllm4j/lib/
COPY trtllm4j.jar /opt/trtllm4j/
COPY trtllm4j /usr/local/bin/trtllm4j

WORKDIR /workspace
ENTRYPOINT ["trtllm4j"]
CMD ["--help"]
