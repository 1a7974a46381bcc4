package dev.trtllm4j.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {

    @TempDir
    Path dir;

    @Test
    void aHuggingFaceConfigIsRecognisedByModelType() {
        assertThat(ConfigFile.read(HfConfigs.path("falcon-7b")).kind()).isEqualTo(ConfigFile.Kind.HUGGING_FACE);
    }

    @Test
    void aCheckpointIsRecognisedByArchitecture() throws Exception {
        Path file = dir.resolve("config.json");
        HuggingFaceConfig.read(HfConfigs.path("falcon-7b"), null).write(file);
        assertThat(ConfigFile.read(file).kind()).isEqualTo(ConfigFile.Kind.CHECKPOINT);
    }

    @Test
    void aHuggingFaceConfigAndItsCheckpointYieldTheSameLayer() throws Exception {
        Path file = dir.resolve("config.json");
        HuggingFaceConfig.read(HfConfigs.path("gemma-2-9b"), null).write(file);
        assertThat(ConfigFile.read(file).attentionConfig(3, null))
                .isEqualTo(ConfigFile.read(HfConfigs.path("gemma-2-9b")).attentionConfig(3, null));
    }

    @Test
    void aBuildConfigAloneYieldsNoLayer() throws Exception {
        Path file = dir.resolve("build_config.json");
        Files.writeString(file, "{\"max_seq_len\": 4096, \"plugin_config\": {}}");
        assertThatThrownBy(() -> ConfigFile.read(file).attentionConfig(0, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(file + ": a trtllm-build build config holds no model");
    }

    @Test
    void anyOtherObjectIsReadAsPluginFields() throws Exception {
        Path file = dir.resolve("other.json");
        Files.writeString(file, "{\"colour\": \"blue\"}");
        ConfigFile config = ConfigFile.read(file);
        assertThat(config.kind()).isEqualTo(ConfigFile.Kind.PLUGIN_FIELDS);
        assertThatThrownBy(() -> config.attentionConfig(0, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(file + ": unknown key 'colour'");
    }

    @Test
    void malformedJsonIsNamedWithItsLine() throws Exception {
        Path file = dir.resolve("broken.json");
        Files.writeString(file, "{\n\"num_heads\": 8,\n}");
        assertThatThrownBy(() -> ConfigFile.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(file + ": not valid JSON: ")
                .hasMessageEndingWith("(line 3)");
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("absent.json");
        assertThatThrownBy(() -> ConfigFile.read(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(file + ": no such file");
    }
}
