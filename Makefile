# trtllm4j: one entry point for building, testing and running.
#   make run       build, then run the main job (a Llama-3.1-8B attention layer) on the CPU backend
#   make test      every test (unit and integration)
#   make build     compile Java and the CPU backend, no tests
#   make bindings  regenerate dev.trtllm4j.ffi from jextract-config/ (needs JEXTRACT)
#   make native    the CPU backend alone (Maven calls this itself)

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
CFLAGS_NATIVE := -std=c11 -O3 -fPIC -fopenmp -Wall -Wextra -Werror -fvisibility=hidden \
                 -Ijextract-config -Isrc/main/native/common
COMMON_SRC := $(wildcard src/main/native/common/*.c)
COMMON_HDR := $(wildcard src/main/native/common/*.h) jextract-config/trtllm4j.h
CPU_SRC := $(wildcard src/main/native/cpu/*.c)
CPU_LIB := $(NATIVE_OUT)/libtrtllm4j_cpu.so

.PHONY: build test run bindings native check-jdk clean

check-jdk:
	@test "$(call is_jdk25,$(JAVA_HOME))" = yes || { \
	  echo "error: trtllm4j needs a JDK 25; none at JAVA_HOME=$(JAVA_HOME). Install one (Temurin 25) and set JAVA_HOME." >&2; exit 1; }

native: $(CPU_LIB)

$(CPU_LIB): $(CPU_SRC) $(COMMON_SRC) $(COMMON_HDR) $(wildcard src/main/native/cpu/*.h)
	@mkdir -p $(NATIVE_OUT)
	$(CC) $(CFLAGS_NATIVE) -shared -o $@ $(CPU_SRC) $(COMMON_SRC) -lm

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
