package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tensorrt backend's options, checked in Java before any reaches the backend. */
class TensorRtOptionsTest {

    @TempDir
    Path dir;

    @Test
    void refusesAProfileMaximumBelowOneNamingTheOption() {
        assertThatThrownBy(() -> TensorRtOptions.builder().maxBatchSize(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBatchSize (max_batch_size) = 0: must be at least 1");
        assertThatThrownBy(() -> TensorRtOptions.builder().maxSeqLen(-4))
                .hasMessage("maxSeqLen (max_seq_len) = -4: must be at least 1");
    }

    @Test
    void refusesAPluginLibraryThatIsNotThere() {
        Path missing = dir.resolve("libmissing.so");
        assertThatThrownBy(() -> TensorRtOptions.builder().pluginLibrary(missing))
                .hasMessage("pluginLibrary (plugin_library) = " + missing + ": no such file");
    }

    @Test
    void refusesAnEngineCacheThatIsAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("cache"), "not a folder");
        assertThatThrownBy(() -> TensorRtOptions.builder().engineCacheDir(file))
                .hasMessage("engineCacheDir (engine_cache_dir) = " + file + ": a file, not a folder");
    }

    @Test
    void refusesAnEmptyPluginNamespace() {
        assertThatThrownBy(() -> TensorRtOptions.builder().pluginNamespace(""))
                .hasMessage("pluginNamespace (plugin_namespace) = '': must be one or more letters, digits, '_', '-' or '.'");
    }

    @Test
    void passesTheBackendsOptionNamesWithAbsolutePathsAndAnEmptyCacheForNone() throws Exception {
        Path library = Files.writeString(dir.resolve("libplugin.so"), "");
        TensorRtOptions options = TensorRtOptions.builder().pluginLibrary(library).pluginNamespace("tensorrt_llm")
                .withoutEngineCache().maxBatchSize(16).maxNumTokens(2048).maxSeqLen(8192).build();
        assertThat(options.nativeValues()).isEqualTo(Map.of("plugin_library", library.toAbsolutePath().toString(),
                "plugin_namespace", "tensorrt_llm", "engine_cache_dir", "", "max_batch_size", "16",
                "max_num_tokens", "2048", "max_seq_len", "8192"));
    }

    @Test
    void optionsAreEqualWhenTheSameOptionsHaveTheSameValues() {
        assertThat(TensorRtOptions.builder().maxBatchSize(4).maxSeqLen(64).build())
                .isEqualTo(TensorRtOptions.builder().maxSeqLen(64).maxBatchSize(4).build())
                .isNotEqualTo(TensorRtOptions.builder().maxBatchSize(4).build())
                .isNotEqualTo(TensorRtOptions.DEFAULTS);
        assertThat(TensorRtOptions.builder().build()).isEqualTo(TensorRtOptions.DEFAULTS);
    }
}
