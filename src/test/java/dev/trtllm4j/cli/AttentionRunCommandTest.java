package dev.trtllm4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.config.BuildConfig;
import dev.trtllm4j.config.CheckpointConfig;
import dev.trtllm4j.embedding.RotaryTables;
import dev.trtllm4j.reference.ReferenceAttention;
import dev.trtllm4j.safetensors.SafeTensor;
import dev.trtllm4j.safetensors.Safetensors;
import dev.trtllm4j.safetensors.SafetensorsDtype;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trtllm4j attention run} on the CPU backend, checked against the double-precision
 * {@link ReferenceAttention}: a batch of one context request (3 new tokens) and one generation
 * request (1 new token after 4 cached), 4 query heads over 2 KV heads of 64 features, a cache of 8
 * positions.
 */
class AttentionRunCommandTest {

    private static final int HEADS = 4;
    private static final int KV_HEADS = 2;
    private static final int HEAD_SIZE = 64;
    private static final int MAX_SEQ_LEN = 8;
    private static final int[] INPUT_LENGTHS = {3, 1};
    private static final int[] PAST_LENGTHS = {0, 4};
    private static final int[] REQUEST_TYPES = {0, 1};
    private static final int TOKENS = 4;
    private static final String FIELDS = """
            {"num_heads": 4, "num_kv_heads": 2, "head_size": 64, "max_context_length": 16,
             "position_embedding_type": "rope_gpt_neox", "rotary_embedding_dim": 64, "type_id": "float32"}""";

    @TempDir
    Path dir;

    private final Random random = new Random(7);
    private final float[] qkv = values(TOKENS * (HEADS + 2 * KV_HEADS) * HEAD_SIZE);
    private final float[] cache = values(2 * 2 * KV_HEADS * MAX_SEQ_LEN * HEAD_SIZE);

    /** The same layer, built without the code under test. */
    private static GptAttentionConfig reference(float base) {
        return GptAttentionConfig.builder()
                .numHeads(HEADS).numKvHeads(KV_HEADS).headSize(HEAD_SIZE).maxContextLength(16)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(HEAD_SIZE)
                .rotaryEmbeddingBase(base).typeId(DataType.FLOAT32)
                .build();
    }

    private float[] values(int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    private Map<String, SafeTensor> stepTensors() {
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        tensors.put("qkv", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {TOKENS, (HEADS + 2 * KV_HEADS) * HEAD_SIZE}, qkv));
        tensors.put("kv_cache", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {2, 2, KV_HEADS, MAX_SEQ_LEN, HEAD_SIZE}, cache));
        tensors.put("input_lengths", SafeTensor.ofInts(new long[] {2}, INPUT_LENGTHS));
        tensors.put("past_lengths", SafeTensor.ofInts(new long[] {2}, PAST_LENGTHS));
        tensors.put("host_request_types", SafeTensor.ofInts(new long[] {2}, REQUEST_TYPES));
        return tensors;
    }

    private Path write(String name, Map<String, SafeTensor> tensors) throws Exception {
        Path path = dir.resolve(name);
        Safetensors.write(path, new SafetensorsFile(tensors, Map.of()));
        return path;
    }

    private Path fields(String json) throws Exception {
        Path path = dir.resolve("fields.json");
        Files.writeString(path, json);
        return path;
    }

    private static double maxDifference(double[] expected, float[] actual) {
        assertThat(actual).hasSize(expected.length);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        return max;
    }

    private static double maxDifference(float[] expected, float[] actual) {
        double[] widened = new double[expected.length];
        for (int i = 0; i < expected.length; i++) {
            widened[i] = expected[i];
        }
        return maxDifference(widened, actual);
    }

    @Test
    void runsAStepAsTheReferenceComputesIt() throws Exception {
        Path out = dir.resolve("out.safetensors");
        Cli.Result result = Cli.run("attention", "run", "--config", fields(FIELDS), "--input",
                write("in.safetensors", stepTensors()), "--output", out);
        assertThat(result.exitCode()).as(result.err()).isZero();

        float[] expectedCache = cache.clone();
        double[] expected = ReferenceAttention.run(reference(10000f), qkv, expectedCache, REQUEST_TYPES, INPUT_LENGTHS,
                PAST_LENGTHS, MAX_SEQ_LEN, Integer.MAX_VALUE, 0);
        SafetensorsFile output = Safetensors.read(out);
        assertThat(output.tensor("context").shape()).containsExactly(TOKENS, HEADS * HEAD_SIZE);
        assertThat(maxDifference(expected, output.tensor("context").toFloatArray())).isLessThan(1e-5);
        assertThat(maxDifference(expectedCache, output.tensor("kv_cache").toFloatArray())).isLessThan(1e-5);
    }

    @Test
    void appliesTheAttentionWindowAndSinkTokens() throws Exception {
        Map<String, SafeTensor> tensors = stepTensors();
        tensors.put("max_attention_window", SafeTensor.ofInts(new long[] {1}, new int[] {3}));
        tensors.put("sink_token_length", SafeTensor.ofInts(new long[] {1}, new int[] {1}));
        Path out = dir.resolve("out.safetensors");
        Cli.Result result = Cli.run("attention", "run", "--config", fields(FIELDS), "--input",
                write("in.safetensors", tensors), "--output", out);
        assertThat(result.exitCode()).as(result.err()).isZero();

        double[] expected = ReferenceAttention.run(reference(10000f), qkv, cache.clone(), REQUEST_TYPES, INPUT_LENGTHS,
                PAST_LENGTHS, MAX_SEQ_LEN, 3, 1);
        assertThat(maxDifference(expected, Safetensors.read(out).tensor("context").toFloatArray())).isLessThan(1e-5);
    }

    @Test
    void usesGivenRotaryTablesInsteadOfTheConfigs() throws Exception {
        // Tables of base 500, handed to a plugin configured with base 10000: the step must follow the tables.
        RotaryTables tables = RotaryTables.compute(reference(500f), MAX_SEQ_LEN);
        Map<String, SafeTensor> tensors = stepTensors();
        tensors.put("rotary_inv_freq", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {HEAD_SIZE / 2}, tables.invFreq()));
        tensors.put("rotary_cos_sin", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {MAX_SEQ_LEN, HEAD_SIZE / 2, 2},
                tables.cosSin()));
        Path out = dir.resolve("out.safetensors");
        Cli.Result result = Cli.run("attention", "run", "--config", fields(FIELDS), "--input",
                write("in.safetensors", tensors), "--output", out);
        assertThat(result.exitCode()).as(result.err()).isZero();

        double[] expected = ReferenceAttention.run(reference(500f), qkv, cache.clone(), REQUEST_TYPES, INPUT_LENGTHS,
                PAST_LENGTHS, MAX_SEQ_LEN, Integer.MAX_VALUE, 0);
        assertThat(maxDifference(expected, Safetensors.read(out).tensor("context").toFloatArray())).isLessThan(1e-4);
    }

    @Test
    void runsALayerOfACheckpointConfigOnTheContiguousCache() throws Exception {
        Path ckpt = dir.resolve("ckpt");
        assertThat(Cli.run("config", "convert", "--hf", Cli.hfConfig("Mistral-7B-v0.3"), "--out", ckpt, "--dtype",
                "float32").exitCode()).isZero();
        CheckpointConfig checkpoint = CheckpointConfig.read(ckpt.resolve("config.json"));
        GptAttentionConfig layer = checkpoint.attentionConfig(BuildConfig.defaults(checkpoint).withPagedKvCache(false), 2);
        int row = (32 + 2 * 8) * 128;
        float[] mistralQkv = values(TOKENS * row);
        float[] mistralCache = values(2 * 2 * 8 * MAX_SEQ_LEN * 128);
        Map<String, SafeTensor> tensors = stepTensors();
        tensors.put("qkv", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {TOKENS, row}, mistralQkv));
        tensors.put("kv_cache", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {2, 2, 8, MAX_SEQ_LEN, 128}, mistralCache));
        Path out = dir.resolve("out.safetensors");
        Cli.Result result = Cli.run("attention", "run", "--config", ckpt.resolve("config.json"), "--layer", "2",
                "--input", write("in.safetensors", tensors), "--output", out);
        assertThat(result.exitCode()).as(result.err()).isZero();

        double[] expected = ReferenceAttention.run(layer, mistralQkv, mistralCache, REQUEST_TYPES, INPUT_LENGTHS,
                PAST_LENGTHS, MAX_SEQ_LEN, Integer.MAX_VALUE, 0);
        assertThat(maxDifference(expected, Safetensors.read(out).tensor("context").toFloatArray())).isLessThan(1e-4);
    }

    @Test
    void aMissingTensorIsOneLineNamingIt() throws Exception {
        Map<String, SafeTensor> tensors = stepTensors();
        tensors.remove("past_lengths");
        Path in = write("in.safetensors", tensors);
        Cli.Result result = Cli.run("attention", "run", "--config", fields(FIELDS), "--input", in, "--output",
                dir.resolve("out.safetensors"));
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("trtllm4j: " + in + ": missing tensor 'past_lengths'" + System.lineSeparator());
        assertThat(dir.resolve("out.safetensors")).doesNotExist();
    }

    @Test
    void aTensorOfTheWrongDtypeIsNamed() throws Exception {
        Map<String, SafeTensor> tensors = stepTensors();
        tensors.put("qkv", SafeTensor.ofFloats(SafetensorsDtype.F16, new long[] {TOKENS, (HEADS + 2 * KV_HEADS) * HEAD_SIZE}, qkv));
        Path in = write("in.safetensors", tensors);
        Cli.Result result = Cli.run("attention", "run", "--config", fields(FIELDS), "--input", in, "--output",
                dir.resolve("out.safetensors"));
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("trtllm4j: " + in + ": tensor 'qkv' is F16, expected F32" + System.lineSeparator());
    }

    @Test
    void anUnknownFieldIsOneLineNamingIt() throws Exception {
        Path config = fields("{\"num_head\": 4}");
        Cli.Result result = Cli.run("attention", "run", "--config", config, "--input",
                write("in.safetensors", stepTensors()), "--output", dir.resolve("out.safetensors"));
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).startsWith("trtllm4j: " + config + ": unknown key 'num_head'");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void whatTheBackendDoesNotSupportIsBadInput() throws Exception {
        Path config = fields(FIELDS.replace("\"type_id\"", "\"paged_kv_cache\": true, \"type_id\""));
        Cli.Result result = Cli.run("attention", "run", "--config", config, "--input",
                write("in.safetensors", stepTensors()), "--output", dir.resolve("out.safetensors"));
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).isEqualTo("trtllm4j: cpu backend, create: UNSUPPORTED: paged_kv_cache = 1:"
                + " the cpu backend keeps a contiguous KV cache" + System.lineSeparator());
    }

    @Test
    void aBackendThatIsNotThereIsBadInput() throws Exception {
        Cli.Result result = Cli.run("attention", "run", "--config", fields(FIELDS), "--input",
                write("in.safetensors", stepTensors()), "--output", dir.resolve("out.safetensors"), "--backend", "nosuch");
        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).startsWith("trtllm4j: --backend nosuch: no library could be loaded (tried: ");
        assertThat(result.err().lines()).hasSize(1);
    }

    @Test
    void everyCommandHasHelpWithExamples() {
        for (String[] command : new String[][] {{"attention"}, {"attention", "run"}}) {
            String[] args = java.util.Arrays.copyOf(command, command.length + 1);
            args[command.length] = "--help";
            Cli.Result result = Cli.run((Object[]) args);
            assertThat(result.exitCode()).as(String.join(" ", command)).isZero();
            assertThat(result.out()).as(String.join(" ", command)).contains("Example", "trtllm4j " + String.join(" ", command));
        }
    }
}
