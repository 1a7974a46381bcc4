package dev.trtllm4j.runtime;

import static dev.trtllm4j.runtime.RequestType.CONTEXT;
import static dev.trtllm4j.runtime.RequestType.GENERATION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import dev.trtllm4j.runtime.AttentionCase.Outputs;
import dev.trtllm4j.runtime.AttentionCase.Sequence;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tensorrt backend beside the cuda and cpu backends, its engine files, engine cache, refusals and
 * device memory. Skipped where TensorRT or a GPU is missing (TRTLLM4J_TENSORRT_LIBRARY names the
 * folder of libnvinfer.so.10).
 */
class TensorRtBackendTest {

    private static final Backend CPU = Backend.open("cpu");
    private static Backend tensorrt;
    private static Backend cuda;

    @TempDir
    Path dir;

    @BeforeAll
    static void openGpuBackends() {
        tensorrt = GpuBackends.tensorrt();
        cuda = GpuBackends.cuda();
    }

    /** A configuration and the step it runs: the window, its sinks and the batch. */
    record Case(String name, GptAttentionConfig config, int maxSeqLen, int window, int sinks, Sequence[] batch) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final Sequence[] MIXED = AttentionAccuracySpec.MIXED_BATCH;
    private static final Sequence[] DECODE = {
        new Sequence(GENERATION, 1, 40), new Sequence(GENERATION, 1, 7), new Sequence(GENERATION, 1, 90),
        new Sequence(GENERATION, 1, 0),
    };

    private static GptAttentionConfig.Builder rope(PositionEmbeddingType form, int heads, int kvHeads, int headSize,
            int rotaryDim, DataType type) {
        return GptAttentionConfig.builder().numHeads(heads).numKvHeads(kvHeads).headSize(headSize).maxContextLength(256)
                .positionEmbeddingType(form).rotaryEmbeddingDim(rotaryDim).typeId(type);
    }

    static Stream<Case> cases() {
        PositionEmbeddingType neox = PositionEmbeddingType.ROPE_GPT_NEOX;
        return Stream.of(
                new Case("GPT-J, full rotary, MHA, bfloat16", rope(PositionEmbeddingType.ROPE_GPTJ, 8, 8, 128, 128,
                        DataType.BFLOAT16).build(), 96, AttentionStep.NO_WINDOW, 0, MIXED),
                new Case("GPT-J, partial rotary, GQA, float32", rope(PositionEmbeddingType.ROPE_GPTJ, 8, 2, 64, 32,
                        DataType.FLOAT32).build(), 96, AttentionStep.NO_WINDOW, 0, MIXED),
                new Case("NeoX, partial rotary, GQA, float16", rope(neox, 8, 2, 128, 64, DataType.FLOAT16).build(), 96,
                        AttentionStep.NO_WINDOW, 0, MIXED),
                new Case("NeoX, MQA, float32, decode", rope(neox, 8, 1, 64, 64, DataType.FLOAT32).build(), 128,
                        AttentionStep.NO_WINDOW, 0, DECODE),
                new Case("llama3 scaling, GQA, bfloat16", rope(neox, 8, 2, 128, 128, DataType.BFLOAT16)
                        .rotaryEmbeddingBase(500000f).rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3)
                        .rotaryEmbeddingScale(8f).rotaryEmbeddingOriginalMaxPositions(64)
                        .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLlama3(1, 4)).build(), 96,
                        AttentionStep.NO_WINDOW, 0, MIXED),
                new Case("yarn scaling, GQA, float16", rope(neox, 8, 2, 128, 128, DataType.FLOAT16)
                        .rotaryEmbeddingScaleType(RotaryScalingType.YARN).rotaryEmbeddingScale(4f)
                        .rotaryEmbeddingOriginalMaxPositions(64).build(), 96, AttentionStep.NO_WINDOW, 0, MIXED),
                new Case("window 32 with 4 sinks, GQA, bfloat16", rope(neox, 8, 2, 128, 128, DataType.BFLOAT16).build(),
                        160, 32, 4, new Sequence[] {new Sequence(CONTEXT, 70, 0), new Sequence(GENERATION, 1, 120),
                            new Sequence(CONTEXT, 12, 60)}),
                new Case("ALiBi, MHA, float16", GptAttentionConfig.builder().numHeads(8).numKvHeads(8).headSize(64)
                        .maxContextLength(256).positionEmbeddingType(PositionEmbeddingType.ALIBI)
                        .typeId(DataType.FLOAT16).build(), 96, AttentionStep.NO_WINDOW, 0, MIXED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void writesTheCudaBackendsBytesOnTheSameStep(Case c) {
        Outputs onTensorRt = AttentionCase.outputs(tensorrt, c.config(), c.maxSeqLen(), c.window(), c.sinks(), 11, c.batch());
        Outputs onCuda = AttentionCase.outputs(cuda, c.config(), c.maxSeqLen(), c.window(), c.sinks(), 11, c.batch());
        // Storage values widened to float32 exactly, so equal bits here are equal bytes in the storage type.
        assertThat(bits(onTensorRt.context())).as("context").isEqualTo(bits(onCuda.context()));
        assertThat(bits(onTensorRt.kvCache())).as("kv cache").isEqualTo(bits(onCuda.kvCache()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheCpuBackendWithinTheStorageTypesTolerance(Case c) {
        Outputs onTensorRt = AttentionCase.outputs(tensorrt, c.config(), c.maxSeqLen(), c.window(), c.sinks(), 12, c.batch());
        Outputs onCpu = AttentionCase.outputs(CPU, c.config(), c.maxSeqLen(), c.window(), c.sinks(), 12, c.batch());
        // Each backend is within the reference's tolerance (the accuracy suites), so they are within twice it.
        double tolerance = 2 * GpuBackends.tolerance(c.config().typeId());
        assertThat(AttentionCase.maxDifference(onCpu.context(), onTensorRt.context())).as("context").isLessThan(tolerance);
        assertThat(AttentionCase.maxDifference(onCpu.kvCache(), onTensorRt.kvCache())).as("kv cache").isLessThan(tolerance);
    }

    /** The engine-file test's configuration: bfloat16 llama-like GQA with partial rotary. */
    static final GptAttentionConfig ENGINE_FILE_CONFIG = rope(PositionEmbeddingType.ROPE_GPT_NEOX, 8, 2, 128, 64,
            DataType.BFLOAT16).rotaryEmbeddingBase(500000f).build();

    /** The engine-file test's step, here and in {@link TensorRtEngineProbe}'s fresh JVM. */
    static Outputs engineFileStep(GptAttentionPlugin plugin) {
        return AttentionCase.outputs(plugin, 96, AttentionStep.NO_WINDOW, 0, 21, MIXED);
    }

    @Test
    void anEngineSavedHereGivesTheSameBytesInAFreshJvm() throws IOException, InterruptedException {
        Path file = dir.resolve("attention.engine");
        String expected;
        try (GptAttentionPlugin plugin = tensorrt.createPlugin(ENGINE_FILE_CONFIG)) {
            expected = digest(engineFileStep(plugin));
            plugin.saveEngine(file);
        }
        String classPath = codeSource(TensorRtEngineProbe.class) + File.pathSeparator + codeSource(Backend.class);
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, TensorRtEngineProbe.class.getName(),
                file.toString()).redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes()).strip();
        assertThat(probe.waitFor()).as("probe exit code; output:%n%s", output).isZero();
        assertThat(output.lines().toList()).containsExactly(expected, ENGINE_FILE_CONFIG.toString());
    }

    @Test
    void anOpenedEngineHasTheConfigurationOfItsFieldsAndCameFromTheFile() {
        Path file = dir.resolve("attention.engine");
        try (GptAttentionPlugin plugin = tensorrt.createPlugin(ENGINE_FILE_CONFIG)) {
            plugin.saveEngine(file);
        }
        try (GptAttentionPlugin opened = tensorrt.openEngine(file)) {
            assertThat(opened.config()).isEqualTo(ENGINE_FILE_CONFIG);
            assertThat(opened.engineInfo()).isEqualTo(new GptAttentionPlugin.EngineInfo(0, true));
        }
    }

    @Test
    void aSecondPluginOfTheSameFieldsReadsItsEngineFromTheCache() {
        String cache = System.getenv("TRTLLM4J_ENGINE_CACHE");
        boolean cacheOn = cache != null ? !cache.isEmpty()
                : System.getenv("XDG_CACHE_HOME") != null || System.getenv("HOME") != null;
        org.junit.jupiter.api.Assumptions.assumeTrue(cacheOn, "the engine cache is off (TRTLLM4J_ENGINE_CACHE is empty,"
                + " or neither XDG_CACHE_HOME nor HOME is set)");
        GptAttentionConfig config = ENGINE_FILE_CONFIG.toBuilder().layerIdx(5).build();
        AttentionCase.outputs(tensorrt, config, 96, AttentionStep.NO_WINDOW, 0, 3, MIXED);
        try (GptAttentionPlugin second = tensorrt.createPlugin(config)) {
            AttentionCase.outputs(second, 96, AttentionStep.NO_WINDOW, 0, 3, MIXED);
            assertThat(second.engineInfo()).isEqualTo(new GptAttentionPlugin.EngineInfo(0, true));
        }
    }

    @Test
    void whatThePluginDoesNotImplementIsANativeExceptionNamingTheField() {
        assertThatThrownBy(() -> tensorrt.createPlugin(ENGINE_FILE_CONFIG.toBuilder().pagedKvCache(true).build()))
                .isInstanceOfSatisfying(NativeException.class,
                        e -> assertThat(e.status()).isEqualTo(NativeStatus.UNSUPPORTED))
                .hasMessageContaining("paged_kv_cache");
    }

    @Test
    void aFileThatIsNoEngineIsRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("fields.json"), "{\"num_heads\": 8}");
        assertThatThrownBy(() -> tensorrt.openEngine(file))
                .isInstanceOfSatisfying(NativeException.class,
                        e -> assertThat(e.status()).isEqualTo(NativeStatus.INVALID_ARGUMENT))
                .hasMessageContaining(file + " is not a trtllm4j engine file");
    }

    @Test
    void anEngineFileCutShortIsRefused() throws IOException {
        Path file = dir.resolve("attention.engine");
        try (GptAttentionPlugin plugin = tensorrt.createPlugin(ENGINE_FILE_CONFIG)) {
            plugin.saveEngine(file);
        }
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> tensorrt.openEngine(file)).isInstanceOf(NativeException.class)
                .hasMessageContaining("is cut short");
    }

    @Test
    void otherOptionsOnTheOpenBackendAreRefused() {
        TensorRtOptions other = TensorRtOptions.builder().maxBatchSize(3).maxSeqLen(17).build();
        assertThatThrownBy(() -> Backend.openTensorRt(other)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the tensorrt backend is already open in this JVM with")
                .hasMessageContaining("not " + other);
        assertThat(Backend.open("tensorrt")).isSameAs(tensorrt);
    }

    @Test
    void aHundredCreateEnqueueCloseCyclesDoNotGrowDeviceMemory() {
        GptAttentionConfig config = ENGINE_FILE_CONFIG;
        long freeAfterWarmUp = 0;
        for (int cycle = 0; cycle < 100; cycle++) {
            AttentionCase.outputs(tensorrt, config, 96, AttentionStep.NO_WINDOW, 0, cycle, MIXED);
            if (cycle == 4) {
                freeAfterWarmUp = tensorrt.deviceMemoryInfo().freeBytes();
            }
        }
        long growth = freeAfterWarmUp - tensorrt.deviceMemoryInfo().freeBytes();
        // A cycle allocates the engine's context, staging buffers, workspace and tensors (megabytes):
        // a leak of any of them in each of 95 cycles would take far more than 4 MiB.
        assertThat(growth).as("device bytes taken by 95 cycles after the fifth").isLessThan(4L << 20);
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    /** SHA-256 of the step's context and cache, as their float32 bits. */
    static String digest(Outputs outputs) {
        try {
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            for (float[] values : new float[][] {outputs.context(), outputs.kvCache()}) {
                ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES);
                buffer.asIntBuffer().put(bits(values));
                sha256.update(buffer);
            }
            return HexFormat.of().formatHex(sha256.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(type + " was loaded from no file", e);
        }
    }
}
