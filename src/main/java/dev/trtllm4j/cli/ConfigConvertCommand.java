package dev.trtllm4j.cli;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.config.BuildConfig;
import dev.trtllm4j.config.CheckpointConfig;
import dev.trtllm4j.config.HuggingFaceConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code trtllm4j config convert}: a Hugging Face config.json to TensorRT-LLM's checkpoint and build configs. */
@Command(
        name = "convert",
        mixinStandardHelpOptions = true,
        description = {
            "Writes OUT/" + ConfigConvertCommand.CHECKPOINT_FILE + " (TensorRT-LLM's checkpoint config, as its"
                    + " converters write it) and OUT/" + ConfigConvertCommand.BUILD_FILE + " (a trtllm-build"
                    + " build config with TensorRT-LLM's defaults) from a Hugging Face config.json.",
            "Model types: llama, mistral, qwen2, qwen3, phi, phi3, gptj, gpt_neox, gemma, gemma2, falcon, bloom, mpt.",
            "",
            "Examples:",
            "  trtllm4j config convert --hf Llama-3.1-8B/config.json --out llama-3.1-8b-ckpt",
            "  trtllm4j config convert --hf gemma-2-9b/config.json --out gemma2-ckpt --dtype float16 --max-input-len 4096",
            "  trtllm4j config convert --hf phi-2/config.json --out phi2-ckpt --kv-cache-type continuous"
        })
final class ConfigConvertCommand implements Callable<Integer> {

    static final String CHECKPOINT_FILE = "config.json";
    static final String BUILD_FILE = "build_config.json";

    @Spec
    private CommandSpec spec;

    @Option(names = "--hf", required = true, paramLabel = "CONFIG.json", description = "The Hugging Face config.json.")
    private Path hfConfig;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "Directory to write " + CHECKPOINT_FILE + " and " + BUILD_FILE + " into (created if missing).")
    private Path out;

    @Option(names = "--dtype", converter = DataTypeConverter.class, paramLabel = "TYPE",
            description = "float32, float16 or bfloat16 (default: the config's torch_dtype, float32 becoming float16,"
                    + " as TensorRT-LLM's auto).")
    private DataType dtype;

    @Option(names = "--max-batch-size", paramLabel = "N", description = "max_batch_size (default: 2048).")
    private Integer maxBatchSize;

    @Option(names = "--max-input-len", paramLabel = "N", description = "max_input_len (default: 1024).")
    private Integer maxInputLen;

    @Option(names = "--max-seq-len", paramLabel = "N",
            description = "max_seq_len (default: max_position_embeddings, times a linear, dynamic or yarn factor).")
    private Integer maxSeqLen;

    @Option(names = "--max-num-tokens", paramLabel = "N", description = "max_num_tokens (default: 8192).")
    private Integer maxNumTokens;

    @Option(names = "--kv-cache-type", paramLabel = "KIND", defaultValue = "paged",
            description = "paged or continuous (default: ${DEFAULT-VALUE}); the cpu backend runs continuous.")
    private String kvCacheType;

    @Override
    public Integer call() {
        if (!kvCacheType.equals("paged") && !kvCacheType.equals("continuous")) {
            throw new IllegalArgumentException("--kv-cache-type " + kvCacheType + ": must be paged or continuous");
        }
        CheckpointConfig checkpoint = HuggingFaceConfig.read(hfConfig, dtype);
        BuildConfig defaults = BuildConfig.defaults(checkpoint);
        BuildConfig build = new BuildConfig(
                option("--max-batch-size", maxBatchSize, defaults.maxBatchSize()),
                option("--max-input-len", maxInputLen, defaults.maxInputLen()),
                option("--max-seq-len", maxSeqLen, defaults.maxSeqLen()),
                option("--max-num-tokens", maxNumTokens, defaults.maxNumTokens()),
                defaults.maxBeamWidth(),
                defaults.plugin().withPagedKvCache(kvCacheType.equals("paged")));
        // Derive every layer now, so that a config the plugin would reject fails here, not in trtllm-build.
        for (int layer = 0; layer < checkpoint.numHiddenLayers(); layer++) {
            checkpoint.attentionConfig(build, layer);
        }
        Path checkpointFile = out.resolve(CHECKPOINT_FILE);
        Path buildFile = out.resolve(BUILD_FILE);
        try {
            Files.createDirectories(out);
            checkpoint.write(checkpointFile);
        } catch (IOException e) {
            throw BadInput.file(checkpointFile, e);
        }
        try {
            build.write(buildFile);
        } catch (IOException e) {
            throw BadInput.file(buildFile, e);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf("wrote %s: %s, %s, %d layers, %s%n", checkpointFile, checkpoint.architecture(),
                checkpoint.dtype().tensorRtLlmName(), checkpoint.numHiddenLayers(),
                checkpoint.positionEmbeddingType().tensorRtLlmName());
        stdout.printf("wrote %s: max_input_len %d, max_seq_len %d, %s KV cache%n", buildFile, build.maxInputLen(),
                build.maxSeqLen(), kvCacheType);
        return 0;
    }

    private static int option(String name, Integer value, int defaultValue) {
        if (value == null) {
            return defaultValue;
        }
        if (value < 1) {
            throw new IllegalArgumentException(name + " " + value + ": must be at least 1");
        }
        return value;
    }
}
