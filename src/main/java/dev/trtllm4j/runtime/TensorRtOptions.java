package dev.trtllm4j.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Options of the {@code tensorrt} backend, given to {@link Backend#openTensorRt}: which GPTAttention
 * plugin library and namespace to build engines with, where to cache built engines, and the least
 * largest shapes of an engine's optimisation profile. An option left unset takes the backend's
 * default: its environment variable where set, else the built-in default (README, "The tensorrt
 * backend"). Each setter checks its value and names the option when it refuses one. Immutable;
 * equal when the same options are set to the same values.
 *
 * {@snippet :
 * Backend tensorrt = Backend.openTensorRt(TensorRtOptions.builder()
 *         .engineCacheDir(Path.of("engines")).maxBatchSize(16).build());
 * }
 */
public final class TensorRtOptions {

    /** No option set: every option takes the backend's default. */
    public static final TensorRtOptions DEFAULTS = new TensorRtOptions(Map.of());

    // The backend's option names (set_option) and their values, sorted by name.
    private final Map<String, String> values;

    private TensorRtOptions(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    }

    /** A builder with no option set. */
    public static Builder builder() {
        return new Builder();
    }

    /** The options set, by the backend's names ({@code plugin_library}, {@code max_batch_size}, ...). */
    Map<String, String> nativeValues() {
        return values;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TensorRtOptions that && values.equals(that.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.isEmpty() ? "TensorRtOptions{defaults}" : "TensorRtOptions" + values;
    }

    /** Sets options one at a time; {@link #build()} makes the immutable options. */
    public static final class Builder {

        private final Map<String, String> values = new TreeMap<>();

        private Builder() {}

        /**
         * The library holding the GPTAttention plugin creator: trtllm4j's
         * {@code libtrtllm4j_tensorrt_plugin.so} (the default, beside the backend) or TensorRT-LLM's
         * {@code libnvinfer_plugin_tensorrt_llm.so}.
         *
         * @throws IllegalArgumentException when no file is there
         */
        public Builder pluginLibrary(Path library) {
            Objects.requireNonNull(library, "pluginLibrary");
            // Absolute: the backend hands it to dlopen, which searches the library path for a bare name.
            Path absolute = library.toAbsolutePath().normalize();
            if (!Files.isRegularFile(absolute)) {
                throw new IllegalArgumentException("pluginLibrary (plugin_library) = " + absolute + ": no such file");
            }
            return put("plugin_library", absolute.toString());
        }

        /**
         * The namespace the creator is registered in: {@code trtllm4j} for trtllm4j's plugin (the
         * default), {@code tensorrt_llm} for TensorRT-LLM's.
         *
         * @throws IllegalArgumentException when empty or not letters, digits, '_', '-' and '.'
         */
        public Builder pluginNamespace(String namespace) {
            Objects.requireNonNull(namespace, "pluginNamespace");
            if (!namespace.matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("pluginNamespace (plugin_namespace) = '" + namespace
                        + "': must be one or more letters, digits, '_', '-' or '.'");
            }
            return put("plugin_namespace", namespace);
        }

        /**
         * Where built engines are kept and looked for, created when missing.
         *
         * @throws IllegalArgumentException when the path is a file
         */
        public Builder engineCacheDir(Path folder) {
            Objects.requireNonNull(folder, "engineCacheDir");
            Path absolute = folder.toAbsolutePath().normalize();
            if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
                throw new IllegalArgumentException("engineCacheDir (engine_cache_dir) = " + absolute
                        + ": a file, not a folder");
            }
            return put("engine_cache_dir", absolute.toString());
        }

        /** Turns the engine cache off: every plugin builds its engine. */
        public Builder withoutEngineCache() {
            return put("engine_cache_dir", "");
        }

        /** The least largest batch an engine's profile holds (default 8). */
        public Builder maxBatchSize(int maxBatchSize) {
            return positive("maxBatchSize", "max_batch_size", maxBatchSize);
        }

        /** The least largest number of tokens in a step an engine's profile holds (default 8192). */
        public Builder maxNumTokens(int maxNumTokens) {
            return positive("maxNumTokens", "max_num_tokens", maxNumTokens);
        }

        /** The least largest KV cache length an engine's profile holds (default 4096). */
        public Builder maxSeqLen(int maxSeqLen) {
            return positive("maxSeqLen", "max_seq_len", maxSeqLen);
        }

        /** The options set so far. */
        public TensorRtOptions build() {
            return new TensorRtOptions(values);
        }

        private Builder positive(String option, String nativeName, int value) {
            if (value < 1) {
                throw new IllegalArgumentException(option + " (" + nativeName + ") = " + value + ": must be at least 1");
            }
            return put(nativeName, Integer.toString(value));
        }

        private Builder put(String nativeName, String value) {
            values.put(nativeName, value);
            return this;
        }
    }
}
