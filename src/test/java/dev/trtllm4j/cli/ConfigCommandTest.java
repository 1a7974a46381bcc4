package dev.trtllm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.config.BuildConfig;
import dev.trtllm4j.config.CheckpointConfig;
import dev.trtllm4j.config.HuggingFaceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCommandTest {

    @TempDir
    Path dir;

    @Test
    void convertWritesTheCheckpointAndTheBuildConfig() {
        Cli.Result result = Cli.run("config", "convert", "--hf", Cli.hfConfig("Llama-3.1-8B"), "--out", dir.resolve("ckpt"));
        assertThat(result.exitCode()).isZero();
        assertThat(result.err()).isEmpty();
        assertThat(CheckpointConfig.read(dir.resolve("ckpt/config.json")))
                .isEqualTo(HuggingFaceConfig.read(Cli.hfConfig("Llama-3.1-8B"), null));
        assertThat(BuildConfig.read(dir.resolve("ckpt/build_config.json")).maxSeqLen()).isEqualTo(131072);
        assertThat(result.out()).contains("LlamaForCausalLM, bfloat16, 32 layers, rope_gpt_neox");
    }

    @Test
    void convertTakesTheSizesAndKvCacheKindFromOptions() {
        Cli.Result result = Cli.run("config", "convert", "--hf", Cli.hfConfig("phi-2"), "--out", dir,
                "--dtype", "float32", "--max-input-len", "512", "--kv-cache-type", "continuous");
        assertThat(result.exitCode()).isZero();
        BuildConfig build = BuildConfig.read(dir.resolve("build_config.json"));
        assertThat(build.maxInputLen()).isEqualTo(512);
        assertThat(build.plugin().pagedKvCache()).isFalse();
        assertThat(build.plugin().gptAttentionPlugin()).isEqualTo("float32");
    }

    @Test
    void convertRefusesAnUnknownKvCacheKind() {
        Cli.Result result = Cli.run("config", "convert", "--hf", Cli.hfConfig("phi-2"), "--out", dir,
                "--kv-cache-type", "sideways");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("trtllm4j: --kv-cache-type sideways: must be paged or continuous" + System.lineSeparator());
    }

    @Test
    void convertNamesTheUnknownArchitecture() throws Exception {
        Path t5 = dir.resolve("t5.json");
        Files.writeString(t5, "{\"model_type\": \"t5\"}");
        Cli.Result result = Cli.run("config", "convert", "--hf", t5, "--out", dir.resolve("out"));
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).startsWith("trtllm4j: " + t5 + ": key 'model_type' = t5: not an architecture");
        assertThat(result.err().lines()).hasSize(1);
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void convertWithoutHfIsAUsageError() {
        Cli.Result result = Cli.run("config", "convert", "--out", dir);
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).startsWith("trtllm4j: Missing required option: '--hf=CONFIG.json'");
    }

    @Test
    void explainPrintsEveryFieldWithItsWireTypeThenTheProblems() {
        Cli.Result result = Cli.run("config", "explain", Cli.hfConfig("Llama-3.1-8B"));
        assertThat(result.exitCode()).isZero();
        assertThat(result.out().lines().filter(line -> line.matches("[a-z_0-9]+=.* \\(k[A-Z0-9]+\\)")))
                .hasSize(GptAttentionField.values().length);
        assertThat(result.out()).contains(
                "num_kv_heads=8 (kINT32)",
                "q_scaling=1.0 (kFLOAT32)",
                "position_embedding_type=rope_gpt_neox (kINT8)",
                "rotary_embedding_base=500000.0 (kFLOAT32)",
                "rotary_embedding_scale_type=llama3 (kINT8)",
                "paged_kv_cache=1 (kINT32)",
                "type_id=bfloat16 (kINT32)");
        assertThat(result.out()).contains("problems:\n  cpu backend, create: UNSUPPORTED: paged_kv_cache = 1");
    }

    @Test
    void explainOfACheckpointWithAContiguousBuildHasNoProblems() {
        Path ckpt = dir.resolve("ckpt");
        Cli.run("config", "convert", "--hf", Cli.hfConfig("gpt-j-6b"), "--out", ckpt, "--kv-cache-type", "continuous");
        Cli.Result result = Cli.run("config", "explain", ckpt.resolve("config.json"), "--layer", "27",
                "--build-config", ckpt.resolve("build_config.json"));
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("layer_idx=27 (kINT32)", "position_embedding_type=rope_gptj (kINT8)",
                "rotary_embedding_dim=64 (kINT32)", "problems: none");
    }

    @Test
    void explainReadsAPluginFieldFile() throws Exception {
        Path fields = dir.resolve("fields.json");
        Files.writeString(fields, """
                {"num_heads": 12, "num_kv_heads": 4, "head_size": 64, "max_context_length": 256,
                 "position_embedding_type": "alibi", "type_id": "float32"}""");
        Cli.Result result = Cli.run("config", "explain", fields);
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).contains("# " + fields + ": plugin-field file", "num_heads=12 (kINT32)",
                "position_embedding_type=alibi (kINT8)", "paged_kv_cache=0 (kINT32)", "problems: none");
    }

    @Test
    void explainListsEveryFieldTheBackendRefusesOnALineOfItsOwn() throws Exception {
        Path fields = dir.resolve("unsupported.json");
        Files.writeString(fields, """
                {"num_heads": 8, "num_kv_heads": 8, "head_size": 64, "max_context_length": 16,
                 "paged_kv_cache": true, "mask_type": "bidirectional", "qkv_bias_enabled": true}""");
        Cli.Result result = Cli.run("config", "explain", fields);
        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).endsWith(String.join(System.lineSeparator(), "problems:",
                "  cpu backend, create: UNSUPPORTED: paged_kv_cache = 1: the cpu backend keeps a contiguous KV cache",
                "  cpu backend, create: UNSUPPORTED: mask_type = 3: the cpu backend implements causal and"
                        + " sliding_window_causal",
                "  cpu backend, create: UNSUPPORTED: qkv_bias_enabled = 1: not on the cpu backend", ""));
    }

    @Test
    void explainListsTheFieldsOfAFileThatBreaksARuleThenTheRule() throws Exception {
        Path fields = dir.resolve("odd-rotary.json");
        Files.writeString(fields, """
                {"num_heads": 8, "num_kv_heads": 8, "head_size": 64, "max_context_length": 16,
                 "position_embedding_type": "rope_gpt_neox", "rotary_embedding_dim": 33}""");
        Cli.Result result = Cli.run("config", "explain", fields);
        String rule = fields + ": rotary_embedding_dim = 33: must be even: RoPE rotates pairs of features";
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.out()).contains("num_heads=8 (kINT32)", "rotary_embedding_dim=33 (kINT32)",
                "type_id=float16 (kINT32)", "problems:" + System.lineSeparator() + "  " + rule);
        assertThat(result.err()).isEqualTo("trtllm4j: " + rule + System.lineSeparator());
    }

    @Test
    void explainNamesALayerThatDoesNotExist() {
        Cli.Result result = Cli.run("config", "explain", Cli.hfConfig("bloom-560m"), "--layer", "24");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("trtllm4j: " + Cli.hfConfig("bloom-560m")
                + ": layer 24 does not exist: num_hidden_layers = 24, so layers are 0 to 23" + System.lineSeparator());
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        for (String[] command : new String[][] {{"config"}, {"config", "convert"}, {"config", "explain"}}) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "--help";
            Cli.Result result = Cli.run((Object[]) args);
            assertThat(result.exitCode()).as(String.join(" ", command)).isZero();
            assertThat(result.out()).as(String.join(" ", command)).contains("Example", "trtllm4j " + String.join(" ", command));
        }
    }
}
