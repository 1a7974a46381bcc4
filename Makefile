# trtllm4j: one entry point for building, testing and running.
#   make run       build, then run the main job (a Llama-3.1-8B attention layer) on the CPU backend
#   make test      every test (unit and integration)
#   make build     compile Java and the CPU backend, no tests
#   make bindings  regenerate dev.trtllm4j.ffi from jextract-config/ (needs JEXTRACT)
#   make native    the CPU backend alone (Maven calls this itself)
#   make bench     the benchmarks: the bridge from C, Python ctypes and Java (JMH), the CPU backend
#                  against ONNX Runtime (JMH); BENCHMARKS.md records the figures

# A JDK 25 is required: take JAVA_HOME when it is one, else Temurin's in Debian's JVM folder.
JDK25_DEFAULT := /usr/lib/jvm/temurin-25-jdk-amd64
is_jdk25 = $(shell "$(1)/bin/java" -version 2>&1 | grep -Eq 'version "25[".]' && echo yes)
ifneq ($(call is_jdk25,$(JAVA_HOME)),yes)
  override JAVA_HOME := $(JDK25_DEFAULT)
endif
export JAVA_HOME

MVN ?= mvn -B --no-transfer-progress
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

.PHONY: build test run bindings native bench bench-native check-jdk clean

check-jdk:
	@test "$(call is_jdk25,$(JAVA_HOME))" = yes || { \
	  echo "error: trtllm4j needs a JDK 25; none at JAVA_HOME=$(JAVA_HOME). Install one (Temurin 25) and set JAVA_HOME." >&2; exit 1; }

native: $(CPU_LIB)

$(CPU_LIB): $(CPU_SRC) $(COMMON_SRC) $(COMMON_HDR) $(wildcard src/main/native/cpu/*.h)
	@mkdir -p $(NATIVE_OUT)
	$(CC) $(CFLAGS_NATIVE) -shared -o $@ $(CPU_SRC) $(COMMON_SRC) -lm

BENCH_OUT := target/bench
BENCH_LIB := $(BENCH_OUT)/libtrtllm4j_bench.so
BENCH_C := $(BENCH_OUT)/bench_enqueue
BENCH_HELPERS := src/bench/c/bench_steps.c src/bench/c/bench_steps.h
JMH_ARGS ?=

bench-native: $(BENCH_LIB) $(BENCH_C)

$(BENCH_LIB): $(BENCH_HELPERS) $(COMMON_HDR)
	@mkdir -p $(BENCH_OUT)
	$(CC) $(CFLAGS_NATIVE) -shared -o $@ src/bench/c/bench_steps.c

$(BENCH_C): src/bench/c/bench_enqueue.c $(BENCH_LIB) $(CPU_LIB)
	$(CC) $(CFLAGS_NATIVE) -o $@ src/bench/c/bench_enqueue.c -L$(BENCH_OUT) -ltrtllm4j_bench \
	  -L$(NATIVE_OUT) -ltrtllm4j_cpu -Wl,-rpath,'$$ORIGIN' -Wl,-rpath,'$$ORIGIN/../native/$(PLATFORM)'

# The C and Python runs first, then JMH; each prints its figures (JMH also to target/jmh-result.json).
bench: check-jdk native bench-native
	$(BENCH_C)
	python3 src/bench/python/bench_enqueue.py $(NATIVE_OUT) $(BENCH_OUT)
	$(MVN) -P bench -DskipTests verify $(if $(JMH_ARGS),-Djmh.args="$(JMH_ARGS)")

build: check-jdk
	$(MVN) -q package -DskipTests

test: check-jdk
	$(MVN) verify

run: build
	bin/trtllm4j demo

bindings:
	@test -n "$(JEXTRACT)" || { \
	  echo "error: no jextract found. Build jextract (github.com/openjdk/jextract) and run: make bindings JEXTRACT=/path/to/bin/jextract" >&2; exit 1; }
	rm -f src/main/java/dev/trtllm4j/ffi/*.java
	"$(JEXTRACT)" @jextract-config/jextract.args jextract-config/trtllm4j.h
	cat jextract-config/trtllm4j.h jextract-config/jextract.args | sha256sum | cut -d' ' -f1 > jextract-config/bindings.sha256

clean:
	$(MVN) -q clean
