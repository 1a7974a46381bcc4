package dev.trtllm4j.runtime;

import java.nio.file.Path;

/**
 * Opens an engine file on the tensorrt backend, runs {@link TensorRtBackendTest}'s engine-file step
 * and prints a digest of what it wrote, then the configuration read from the file.
 * {@link TensorRtBackendTest} runs it in a fresh JVM, which has built no engine and loaded no plugin.
 */
final class TensorRtEngineProbe {

    private TensorRtEngineProbe() {}

    public static void main(String[] args) {
        try (GptAttentionPlugin plugin = Backend.open("tensorrt").openEngine(Path.of(args[0]))) {
            System.out.println(TensorRtBackendTest.digest(TensorRtBackendTest.engineFileStep(plugin)));
            System.out.println(plugin.config());
        }
    }
}
