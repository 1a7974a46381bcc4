package dev.trtllm4j.cli;

import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.TensorRtOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The tensorrt backend's options on the command line, as {@link TensorRtOptions} takes them. */
final class TensorRtOptionsMixin {

    @Option(names = "--plugin-library", paramLabel = "LIB.so",
            description = "tensorrt: the GPTAttention plugin library (default: trtllm4j's, beside the backend).")
    private Path pluginLibrary;

    @Option(names = "--plugin-namespace", paramLabel = "NS",
            description = "tensorrt: the plugin creator's namespace (default: trtllm4j; tensorrt_llm for TensorRT-LLM's).")
    private String pluginNamespace;

    @Option(names = "--engine-cache", paramLabel = "DIR",
            description = "tensorrt: where built engines are kept (default: ~/.cache/trtllm4j/engines).")
    private Path engineCache;

    @Option(names = "--max-batch-size", paramLabel = "N",
            description = "tensorrt: least largest batch of the engine's profile (default: 8).")
    private Integer maxBatchSize;

    @Option(names = "--max-num-tokens", paramLabel = "N",
            description = "tensorrt: least largest tokens of a step in the engine's profile (default: 8192).")
    private Integer maxNumTokens;

    @Option(names = "--max-seq-len", paramLabel = "N",
            description = "tensorrt: least largest KV cache length of the engine's profile (default: 4096).")
    private Integer maxSeqLen;

    /** Whether any option was given. */
    boolean given() {
        return pluginLibrary != null || pluginNamespace != null || engineCache != null || maxBatchSize != null
                || maxNumTokens != null || maxSeqLen != null;
    }

    /**
     * The options given, checked.
     *
     * @throws IllegalArgumentException naming the command-line option of a value TensorRtOptions refuses
     */
    TensorRtOptions options() {
        TensorRtOptions.Builder builder = TensorRtOptions.builder();
        apply("--plugin-library", pluginLibrary, () -> builder.pluginLibrary(pluginLibrary));
        apply("--plugin-namespace", pluginNamespace, () -> builder.pluginNamespace(pluginNamespace));
        apply("--engine-cache", engineCache, () -> builder.engineCacheDir(engineCache));
        apply("--max-batch-size", maxBatchSize, () -> builder.maxBatchSize(maxBatchSize));
        apply("--max-num-tokens", maxNumTokens, () -> builder.maxNumTokens(maxNumTokens));
        apply("--max-seq-len", maxSeqLen, () -> builder.maxSeqLen(maxSeqLen));
        return builder.build();
    }

    /** The tensorrt backend with these options. */
    Backend open() {
        return Backend.openTensorRt(options());
    }

    private static void apply(String option, Object value, Runnable set) {
        if (value == null) {
            return;
        }
        try {
            set.run();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + value + ": " + e.getMessage(), e);
        }
    }
}
