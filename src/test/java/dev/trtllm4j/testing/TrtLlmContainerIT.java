package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.cli.Trtllm4jCommand;
import dev.trtllm4j.config.PluginFieldFile;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.safetensors.SafeTensor;
import dev.trtllm4j.safetensors.Safetensors;
import dev.trtllm4j.safetensors.SafetensorsDtype;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.ContainerLaunchException;
import picocli.CommandLine;

/**
 * The CPU image in a real container engine: built from docker/cpu.Dockerfile, started as a
 * {@link TrtLlmContainer}, and checked against the same work done in this JVM on the CPU backend.
 */
class TrtLlmContainerIT {

    private static CpuImage image;
    private static TrtLlmContainer container;

    @BeforeAll
    static void startContainer() {
        image = CpuImage.build();
        container = new TrtLlmContainer(image.name());
        container.start();
    }

    @AfterAll
    static void removeContainerAndImage() {
        try (CpuImage built = image) {
            if (container != null) {
                container.stop();
            }
        }
    }

    @Test
    void reportsTheVersionOfTheJarItCarries() {
        assertThat(container.getVersion()).isEqualTo(System.getProperty("trtllm4j.version"));
    }

    @Test
    void demoInsideTheContainerMatchesTheDemoInProcess() throws IOException, InterruptedException {
        String[] demo = {"demo", "--prompt", "16", "--steps", "2"};

        ExecResult inside = container.runTrtllm4j(demo);

        assertThat(inside.getExitCode()).as(inside.getStderr()).isZero();
        assertThat(deterministicLines(inside.getStdout())).isEqualTo(deterministicLines(inProcess(demo)));
    }

    @Test
    void badInputExitsWithStatusTwoAndNamesTheProblem() throws IOException, InterruptedException {
        ExecResult result = container.runTrtllm4j("demo", "--dtype", "float64");

        assertThat(result.getExitCode()).isEqualTo(2);
        assertThat(result.getStderr()).contains("float64");
    }

    @Test
    void attentionRunInsideTheContainerMatchesTheSameStepInProcess(@TempDir Path work)
            throws IOException, InterruptedException {
        // A small GQA layer with GPT-NeoX RoPE in float16; a batch of a 5-token prompt and a
        // generation step after 3 cached tokens.
        int heads = 4;
        int kvHeads = 2;
        int headSize = 64;
        int maxSeqLen = 8;
        GptAttentionConfig config = GptAttentionConfig.builder()
                .numHeads(heads).numKvHeads(kvHeads).headSize(headSize)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(headSize)
                .maxContextLength(16).typeId(DataType.FLOAT16)
                .build();
        AttentionStep.Builder sequences = AttentionStep.builder().contextRequest(5, 0).generationRequest(3);
        int tokens = 6;
        int rowWidth = (heads + 2 * kvHeads) * headSize;
        Random random = new Random(7);
        SafeTensor qkv = SafeTensor.ofFloats(SafetensorsDtype.F16, new long[] {tokens, rowWidth},
                uniform(random, tokens * rowWidth));                                   // [tokens, (h + 2 kv) d]
        long[] cacheShape = {2, 2, kvHeads, maxSeqLen, headSize};                      // [batch, K/V, kv, seq, d]
        SafeTensor kvCache = SafeTensor.ofFloats(SafetensorsDtype.F16, cacheShape,
                uniform(random, 2 * 2 * kvHeads * maxSeqLen * headSize));
        Map<String, SafeTensor> step = new LinkedHashMap<>();
        step.put("qkv", qkv);
        step.put("kv_cache", kvCache);
        step.put("input_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {5, 1}));
        step.put("past_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {0, 3}));
        step.put("host_request_types", SafeTensor.ofInts(new long[] {2}, new int[] {0, 1}));
        Path fields = work.resolve("fields.json");
        new ObjectMapper().writeValue(fields.toFile(), PluginFieldFile.toJsonNode(config));
        Path input = work.resolve("step.safetensors");
        Safetensors.write(input, new SafetensorsFile(step, Map.of()));
        Path output = work.resolve("out.safetensors");

        container.runAttention(fields, input, output);

        SafetensorsFile inside = Safetensors.read(output);
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = Backend.open("cpu").createPlugin(config)) {
            MemorySegment cache = arena.allocate(kvCache.byteSize()).copyFrom(MemorySegment.ofArray(kvCache.data()));
            MemorySegment context = arena.allocate((long) tokens * heads * headSize * DataType.FLOAT16.byteSize());
            plugin.enqueue(sequences
                    .qkv(arena.allocate(qkv.byteSize()).copyFrom(MemorySegment.ofArray(qkv.data())))
                    .kvCache(cache)
                    .context(context)
                    .build());

            assertThat(inside.tensor("context")).isEqualTo(SafeTensor.of(SafetensorsDtype.F16,
                    new long[] {tokens, heads * headSize}, context.toArray(ValueLayout.JAVA_BYTE)));
            assertThat(inside.tensor("kv_cache")).isEqualTo(SafeTensor.of(SafetensorsDtype.F16, cacheShape,
                    cache.toArray(ValueLayout.JAVA_BYTE)));
        }
    }

    @Test
    void configConvertInsideTheContainerMatchesConvertInProcess(@TempDir Path work)
            throws IOException, InterruptedException {
        Path hfConfig = work.resolve("config.json");
        Files.copy(TrtLlmContainerIT.class.getResourceAsStream("/hf-configs/Llama-3.1-8B/config.json"), hfConfig);

        List<Path> converted = container.convertConfig(hfConfig, DataType.BFLOAT16, work.resolve("container"));
        Path inProcessOut = work.resolve("in-process");
        inProcess("config", "convert", "--hf", hfConfig.toString(), "--out", inProcessOut.toString(),
                "--dtype", "bfloat16");

        assertThat(converted).isNotEmpty();
        for (Path file : converted) {
            Path twin = inProcessOut.resolve(work.resolve("container").relativize(file));
            assertThat(file).hasSameTextualContentAs(twin);
        }
        try (var inProcessFiles = Files.walk(inProcessOut)) {
            assertThat(inProcessFiles.filter(Files::isRegularFile).count()).isEqualTo(converted.size());
        }
    }

    @Test
    void askingForGpusWhereNoneIsVisibleFailsTheStart() {
        assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this host has an NVIDIA GPU");
        // Docker passes the device request on; Podman's GPUs come from a CDI specification, and a
        // host without a GPU has none.
        String why = TrtLlmContainer.isPodman(DockerClientFactory.instance().client())
                ? "no CDI device nvidia.com/gpu=all in [/etc/cdi, /var/run/cdi]"
                : "asked for GPUs (all) but sees no /dev/nvidiaN device";

        try (TrtLlmContainer withGpus = new TrtLlmContainer(image.name()).withGpus()) {
            assertThatThrownBy(withGpus::start)
                    .isInstanceOf(ContainerLaunchException.class)
                    .rootCause().hasMessageContaining(why);
        }
    }

    /** Runs the trtllm4j command in this JVM, on the CPU backend of this build; returns its output. */
    private static String inProcess(String... arguments) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = new CommandLine(new Trtllm4jCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(arguments);
        assertThat(status).as(err.toString()).isZero();
        return out.toString();
    }

    private static float[] uniform(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    /** The demo's plugin fields and its difference from the reference; times and thread counts vary. */
    private static List<String> deterministicLines(String demoOutput) {
        return demoOutput.lines().filter(line -> line.startsWith("  ") || line.startsWith("largest difference"))
                .toList();
    }
}
