package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.attention.GptAttentionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engines are the tensorrt backend's: the cpu backend refuses them, naming itself, and writes no file. */
class EngineFilesOnCpuTest {

    private static final Backend CPU = Backend.open("cpu");
    private static final GptAttentionConfig CONFIG = GptAttentionConfig.builder().numHeads(4).numKvHeads(2).headSize(64)
            .maxContextLength(16).build();

    @TempDir
    Path dir;

    @Test
    void aCpuPluginSavesNoEngine() {
        Path file = dir.resolve("attention.engine");
        try (GptAttentionPlugin plugin = CPU.createPlugin(CONFIG)) {
            assertThatThrownBy(() -> plugin.saveEngine(file)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("the cpu backend has no engine files: it builds no TensorRT engines (the tensorrt backend does)");
        }
        assertThat(Files.exists(file)).isFalse();
    }

    @Test
    void theCpuBackendOpensNoEngine() throws Exception {
        Path file = Files.writeString(dir.resolve("attention.engine"), "TRTLLM4J-ENGINE");
        assertThatThrownBy(() -> CPU.openEngine(file)).isInstanceOf(UnsupportedOperationException.class)
                .hasMessageStartingWith("the cpu backend has no engine files");
    }

    @Test
    void aCpuPluginHasNoEngineInfo() {
        try (GptAttentionPlugin plugin = CPU.createPlugin(CONFIG)) {
            assertThatThrownBy(plugin::engineInfo).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageStartingWith("the cpu backend has no engines");
        }
    }
}
