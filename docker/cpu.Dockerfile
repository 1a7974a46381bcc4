# trtllm4j on the CPU backend: the trtllm4j command-line tool as entry point, a Java 25 runtime
# made with jlink, the trtllm4j jar with its libraries, and the CPU backend (inside the jar).
#
# Built by `make image-cpu`, from the build context that `make image-context` stages in
# target/image/ (runtime/, lib/, trtllm4j.jar, the launcher and these Dockerfiles).
#
# BASE_IMAGE: a Debian bookworm image. The default is the public one; a host without a registry
# passes a locally made one, e.g. `make image-cpu BASE_IMAGE=localhost/local/debian:bookworm`
# (scripts/container-engine.sh makes that image with debootstrap).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# The CPU backend is built with OpenMP and links libgomp.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*

COPY runtime/ /opt/trtllm4j/runtime/
COPY lib/ /opt/trtllm4j/lib/
COPY trtllm4j.jar /opt/trtllm4j/
COPY trtllm4j /usr/local/bin/trtllm4j

WORKDIR /workspace
ENTRYPOINT ["trtllm4j"]
CMD ["--help"]
