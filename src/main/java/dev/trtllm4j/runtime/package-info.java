/**
 * Layer 6, runtime: loading backend libraries and running attention steps on them.
 *
 * <p>{@link dev.trtllm4j.runtime.Backend#open(String)} loads {@code libtrtllm4j_<name>.so} from the
 * first of: the directory in the system property {@code trtllm4j.library.path}, else in the environment
 * variable {@code TRTLLM4J_LIBRARY_PATH}; the copy bundled in the jar under
 * {@code dev/trtllm4j/native/linux-x86_64/}; the system library path. When none loads, the
 * {@link dev.trtllm4j.runtime.BackendNotFoundException} lists every place tried. Running needs
 * {@code --enable-native-access=ALL-UNNAMED} (or this module's name).
 *
 * <p>{@link dev.trtllm4j.runtime.GptAttentionPlugin} runs {@link dev.trtllm4j.runtime.AttentionStep}s;
 * native failures become {@link dev.trtllm4j.runtime.NativeException}s carrying the backend's message.
 */
package dev.trtllm4j.runtime;
