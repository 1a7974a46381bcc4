package dev.trtllm4j.runtime;

import static dev.trtllm4j.runtime.RequestType.CONTEXT;
import static dev.trtllm4j.runtime.RequestType.GENERATION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.runtime.AttentionCase.Sequence;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The CUDA backend beside the CPU backend, its memory, and its refusals. Skipped where no GPU is. */
class CudaBackendTest {

    private static final Backend CPU = Backend.open("cpu");
    private static Backend cuda;

    @BeforeAll
    static void openCuda() {
        cuda = GpuBackends.cuda();
    }

    /** A random valid configuration and mixed batch: the space the accuracy grid samples sparsely. */
    private record RandomCase(GptAttentionConfig config, int maxSeqLen, int window, int sinks, Sequence[] batch) {}

    private static RandomCase randomCase(Random random) {
        int[] headSizes = {64, 80, 96, 128, 256};
        int headSize = headSizes[random.nextInt(headSizes.length)];
        int kvHeads = 1 + random.nextInt(3);
        int group = new int[] {1, 2, 4, 8}[random.nextInt(4)];
        DataType type = DataType.values()[random.nextInt(3)];
        PositionEmbeddingType[] forms = {PositionEmbeddingType.ROPE_GPT_NEOX, PositionEmbeddingType.ROPE_GPTJ,
            PositionEmbeddingType.LEARNED_ABSOLUTE, PositionEmbeddingType.ALIBI, PositionEmbeddingType.ALIBI_WITH_SCALE};
        PositionEmbeddingType form = forms[random.nextInt(forms.length)];
        GptAttentionConfig.Builder builder = GptAttentionConfig.builder().numHeads(kvHeads * group).numKvHeads(kvHeads)
                .headSize(headSize).maxContextLength(512).typeId(type).positionEmbeddingType(form)
                .qScaling(random.nextBoolean() ? 1f : 0.5f + random.nextFloat());
        if (form.isRope()) {
            int rotary = 16 * (1 + random.nextInt(headSize / 16)); // partial or full, even
            builder.rotaryEmbeddingDim(rotary).rotaryEmbeddingBase(random.nextBoolean() ? 10000f : 500000f);
        }
        if (!form.isAlibi() && random.nextInt(4) == 0) {
            builder.attnLogitSoftcappingScale(2f + 30 * random.nextFloat());
        }
        List<Sequence> batch = new ArrayList<>();
        int sequences = 1 + random.nextInt(4);
        int maxSeqLen = 0;
        for (int b = 0; b < sequences; b++) {
            int past = random.nextInt(3) == 0 ? 0 : random.nextInt(200);
            Sequence sequence = random.nextBoolean() ? new Sequence(GENERATION, 1, past)
                    : new Sequence(CONTEXT, 1 + random.nextInt(150), past);
            batch.add(sequence);
            maxSeqLen = Math.max(maxSeqLen, sequence.pastLength() + sequence.inputLength());
        }
        int window = AttentionStep.NO_WINDOW, sinks = 0;
        if (random.nextInt(3) == 0) {
            window = 8 + random.nextInt(64);
            sinks = random.nextInt(4);
        }
        return new RandomCase(builder.build(), maxSeqLen + random.nextInt(8), window, sinks,
                batch.toArray(Sequence[]::new));
    }

    @Test
    void agreesWithTheCpuBackendOnTwoHundredRandomConfigurationsAndMixedBatches() {
        Random random = new Random(2026);
        for (int i = 0; i < 200; i++) {
            RandomCase c = randomCase(random);
            long seed = random.nextLong();
            AttentionCase.Outputs onCuda = AttentionCase.outputs(cuda, c.config(), c.maxSeqLen(), c.window(), c.sinks(),
                    seed, c.batch());
            AttentionCase.Outputs onCpu = AttentionCase.outputs(CPU, c.config(), c.maxSeqLen(), c.window(), c.sinks(),
                    seed, c.batch());
            double tolerance = GpuBackends.tolerance(c.config().typeId());
            String which = "case " + i + ": " + c;
            assertThat(AttentionCase.maxDifference(onCpu.context(), onCuda.context())).as(which).isLessThan(tolerance);
            assertThat(AttentionCase.maxDifference(onCpu.kvCache(), onCuda.kvCache())).as(which).isLessThan(tolerance);
        }
    }

    @Test
    void aStepWithHostTensorsIsRefusedNamingTheTensorAndBothLocations() {
        GptAttentionConfig config = AttentionAccuracySpec.config(64, 1, 2, DataType.FLOAT32).build();
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = cuda.createPlugin(config)) {
            AttentionStep step = AttentionStep.builder().contextRequest(4, 0)
                    .qkv(HostTensors.zeros(arena, DataType.FLOAT32, 4L * 4 * 64))
                    .kvCache(cuda.allocate(arena, DataType.FLOAT32, 2L * 8 * 64))
                    .context(cuda.allocate(arena, DataType.FLOAT32, 4L * 2 * 64)).build();
            assertThatThrownBy(() -> plugin.enqueue(step)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("qkv: in host memory, but the cuda backend reads device memory (allocate it with"
                            + " Backend.allocate)");
        }
    }

    @Test
    void memoryOfTheCpuBackendIsRefusedToo() {
        GptAttentionConfig config = AttentionAccuracySpec.config(64, 1, 2, DataType.FLOAT32).build();
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = cuda.createPlugin(config)) {
            AttentionStep step = AttentionStep.builder().contextRequest(4, 0)
                    .qkv(cuda.allocate(arena, DataType.FLOAT32, 4L * 4 * 64))
                    .kvCache(CPU.allocate(arena, DataType.FLOAT32, 2L * 8 * 64))
                    .context(cuda.allocate(arena, DataType.FLOAT32, 4L * 2 * 64)).build();
            assertThatThrownBy(() -> plugin.enqueue(step)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("kvCache: in host memory, but the cuda backend reads device memory");
        }
    }

    @Test
    void closedDeviceMemoryIsNamedNotPassedOn() {
        GptAttentionConfig config = AttentionAccuracySpec.config(64, 1, 2, DataType.FLOAT32).build();
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = cuda.createPlugin(config)) {
            BackendMemory context = cuda.allocate(arena, DataType.FLOAT32, 4L * 2 * 64);
            AttentionStep step = AttentionStep.builder().contextRequest(4, 0)
                    .qkv(cuda.allocate(arena, DataType.FLOAT32, 4L * 4 * 64))
                    .kvCache(cuda.allocate(arena, DataType.FLOAT32, 2L * 8 * 64)).context(context).build();
            context.close();
            assertThatThrownBy(() -> plugin.enqueue(step)).isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("context: BackendMemory[cuda, device");
        }
    }

    @Test
    void aConfigurationTheCpuBackendRefusesIsRefusedWithTheSameMessage() {
        GptAttentionConfig paged = AttentionAccuracySpec.config(64, 1, 2, DataType.FLOAT16).pagedKvCache(true)
                .tokensPerBlock(64).build();
        NativeException onCpu = org.junit.jupiter.api.Assertions.assertThrows(NativeException.class,
                () -> CPU.createPlugin(paged));
        assertThatThrownBy(() -> cuda.createPlugin(paged)).isInstanceOfSatisfying(NativeException.class,
                e -> assertThat(e.nativeMessage()).isEqualTo(onCpu.nativeMessage().replace("cpu", "cuda")));
    }

    @Test
    void tenThousandCreateEnqueueCloseCyclesDoNotGrowDeviceMemory() {
        GptAttentionConfig config = AttentionAccuracySpec.config(128, 2, 4, DataType.BFLOAT16)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128).build();
        try (Arena arena = Arena.ofConfined()) {
            int rowWidth = (8 + 2 * 2) * 128;
            BackendMemory qkv = cuda.allocate(arena, DataType.BFLOAT16, 3L * rowWidth);
            BackendMemory kvCache = cuda.allocate(arena, DataType.BFLOAT16, 2L * 2 * 2 * 64 * 128);
            BackendMemory context = cuda.allocate(arena, DataType.BFLOAT16, 3L * 8 * 128);
            qkv.zero();
            kvCache.zero();
            AttentionStep step = AttentionStep.builder().contextRequest(2, 10).generationRequest(20).qkv(qkv)
                    .kvCache(kvCache).context(context).build();
            long[] free = new long[11];
            for (int round = 0; round <= 10; round++) {
                for (int i = 0; i < 1000; i++) {
                    try (GptAttentionPlugin plugin = cuda.createPlugin(config)) {
                        plugin.enqueue(step);
                    }
                }
                free[round] = cuda.deviceMemoryInfo().freeBytes();
            }
            // The first round warms the allocator; after it, free memory must not shrink (the driver
            // hands out memory in 2 MiB pages, so a leak of even 256 bytes a cycle shows within a round).
            assertThat(free[10]).as("free device bytes after rounds 1 and 10 of 1,000 cycles").isGreaterThanOrEqualTo(free[1]);
        }
    }
}
