package dev.trtllm4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.config.PluginFieldFile;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.safetensors.SafeTensor;
import dev.trtllm4j.safetensors.Safetensors;
import dev.trtllm4j.safetensors.SafetensorsDtype;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.utility.DockerImageName;

/**
 * The GPU image ({@code make image-gpu}) started with {@link TrtLlmContainer#withGpus()}: the cuda and
 * tensorrt backends run attention steps inside the container, checked against the same steps on the
 * CPU backend in this JVM. Skipped, with the reason printed, where no GPU is offered ({@link
 * GpuOffer}, asked before any container starts) or the image is not here; anywhere else every
 * failure fails, a container that cannot start included.
 */
class TrtLlmContainerGpuIT {

    private static final DockerImageName IMAGE =
            TrtLlmContainer.GPU_IMAGE_NAME.withTag(System.getProperty("trtllm4j.version"));

    /** Float16 steps on a GPU against the CPU backend, as the CUDA backend's accuracy suite allows. */
    private static final double FLOAT16_TOLERANCE = 2e-3;

    private static TrtLlmContainer container;

    @BeforeAll
    static void startContainerWithGpus() {
        Optional<String> noGpu = GpuOffer.whyNone();
        assumeTrue(noGpu.isEmpty(), () -> "no GPU offered: " + noGpu.orElseThrow());
        assumeTrue(exists(DockerClientFactory.instance().client(), IMAGE), "no image "
                + IMAGE.asCanonicalNameString() + " here: build it with make image-gpu TENSORRT_INCLUDE=..., or load"
                + " the archive that make image-gpu-archive writes");

        container = new TrtLlmContainer(IMAGE).withGpus();
        container.start();
    }

    @AfterAll
    static void stopContainer() {
        if (container != null) {
            container.stop();
        }
    }

    @Test
    void listsAnNvidiaGpuInside() throws IOException, InterruptedException {
        ExecResult gpus = container.execInContainer("nvidia-smi", "-L");

        assertThat(gpus.getExitCode()).as(gpus.getStderr()).isZero();
        assertThat(gpus.getStdout()).startsWith("GPU 0: NVIDIA").contains("(UUID: GPU-");
    }

    @Test
    void theGpusInsideAreThisHostsGpus() throws IOException, InterruptedException {
        Optional<String> host = hostGpuList();
        assumeTrue(host.isPresent(), "nvidia-smi does not run on this host: the engine's GPUs cannot be compared");

        ExecResult inside = container.execInContainer("nvidia-smi", "-L");

        assertThat(inside.getStdout().lines()).isNotEmpty().isSubsetOf(host.orElseThrow().lines().toList());
    }

    @Test
    void reportsTheVersionOfTheJarItCarries() {
        assertThat(container.getVersion()).isEqualTo(System.getProperty("trtllm4j.version"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"cuda", "tensorrt"})
    void aStepOnTheGpuBackendInsideMatchesTheCpuBackendHere(String backend, @TempDir Path work)
            throws IOException, InterruptedException {
        // GQA with GPT-NeoX RoPE in float16: a 37-token prompt and a generation step after 20 cached
        // tokens, in one batch, so both the context and the decode kernels run.
        int heads = 8;
        int kvHeads = 2;
        int headSize = 128;
        int maxSeqLen = 64;
        GptAttentionConfig config = GptAttentionConfig.builder()
                .numHeads(heads).numKvHeads(kvHeads).headSize(headSize)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(headSize)
                .maxContextLength(maxSeqLen).typeId(DataType.FLOAT16)
                .build();
        int tokens = 38;
        int rowWidth = (heads + 2 * kvHeads) * headSize;
        Random random = new Random(11);
        SafeTensor qkv = SafeTensor.ofFloats(SafetensorsDtype.F16, new long[] {tokens, rowWidth},
                uniform(random, tokens * rowWidth));                                   // [tokens, (h + 2 kv) d]
        long[] cacheShape = {2, 2, kvHeads, maxSeqLen, headSize};                      // [batch, K/V, kv, seq, d]
        SafeTensor kvCache = SafeTensor.ofFloats(SafetensorsDtype.F16, cacheShape,
                uniform(random, 2 * 2 * kvHeads * maxSeqLen * headSize));
        Map<String, SafeTensor> step = new LinkedHashMap<>();
        step.put("qkv", qkv);
        step.put("kv_cache", kvCache);
        step.put("input_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {37, 1}));
        step.put("past_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {0, 20}));
        step.put("host_request_types", SafeTensor.ofInts(new long[] {2}, new int[] {0, 1}));
        Path fields = work.resolve("fields.json");
        new ObjectMapper().writeValue(fields.toFile(), PluginFieldFile.toJsonNode(config));
        Path input = work.resolve("step.safetensors");
        Safetensors.write(input, new SafetensorsFile(step, Map.of()));
        Path output = work.resolve("out.safetensors");

        container.withBackend(backend).runAttention(fields, input, output);

        SafetensorsFile inside = Safetensors.read(output);
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = Backend.open("cpu").createPlugin(config)) {
            MemorySegment cache = arena.allocate(kvCache.byteSize()).copyFrom(MemorySegment.ofArray(kvCache.data()));
            MemorySegment context = arena.allocate((long) tokens * heads * headSize * DataType.FLOAT16.byteSize());
            plugin.enqueue(AttentionStep.builder().contextRequest(37, 0).generationRequest(20)
                    .qkv(arena.allocate(qkv.byteSize()).copyFrom(MemorySegment.ofArray(qkv.data())))
                    .kvCache(cache)
                    .context(context)
                    .build());

            assertClose(inside.tensor("context"), SafeTensor.of(SafetensorsDtype.F16,
                    new long[] {tokens, heads * headSize}, context.toArray(ValueLayout.JAVA_BYTE)));
            assertClose(inside.tensor("kv_cache"),
                    SafeTensor.of(SafetensorsDtype.F16, cacheShape, cache.toArray(ValueLayout.JAVA_BYTE)));
        }
    }

    private static void assertClose(SafeTensor actual, SafeTensor expected) {
        assertThat(actual.dtype()).isEqualTo(expected.dtype());
        assertThat(actual.shape()).isEqualTo(expected.shape());
        float[] got = actual.toFloatArray();
        float[] want = expected.toFloatArray();
        double largest = 0;
        for (int i = 0; i < got.length; i++) {
            largest = Math.max(largest, Math.abs((double) got[i] - want[i]));
        }
        assertThat(largest).as("largest difference from the CPU backend").isLessThanOrEqualTo(FLOAT16_TOLERANCE);
    }

    /** This host's {@code nvidia-smi -L}, where it runs. */
    private static Optional<String> hostGpuList() throws InterruptedException {
        try {
            Process process = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
            String listing = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return process.waitFor() == 0 ? Optional.of(listing) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static float[] uniform(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }

    private static boolean exists(DockerClient engine, DockerImageName image) {
        try {
            engine.inspectImageCmd(image.asCanonicalNameString()).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

}
