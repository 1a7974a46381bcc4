package dev.trtllm4j.bench;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.BackendMemory;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Steps of the cuda backend driven from Java as a serving loop drives them: {@code enqueue} with
 * tensors in {@link BackendMemory}, back to back on the plugin's stream, one {@code synchronize} after
 * each invocation's steps. The shapes and step counts are those of {@code bench_cuda LIBDIR loop}
 * (src/bench/cuda/bench_cuda.cu), which times the same loop from C, so both sides can be compared in
 * one run on the GPU host: bfloat16, 32 query and 8 KV heads of size 128, GPT-NeoX RoPE;
 * <ul>
 *   <li>{@link #decodeStep}: 64 sequences each adding 1 token after 4,096 cached ones, 100 steps an invocation;
 *   <li>{@link #prefillStep}: 2 sequences of 4,096 new tokens, 10 steps an invocation;
 *   <li>{@link #decodeEnqueue}: the host's time in one decode {@code enqueue} (checks, marshalling, the
 *       downcall and the backend's launches); the device catches up after the invocation, untimed.
 * </ul>
 * Run on the GPU host from the bundle ({@code make gpu-bundle BENCH=1}, then its {@code run-bench}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class GpuStepBenchmark {

    static final int HEADS = 32, KV_HEADS = 8, HEAD_SIZE = 128;
    static final int DECODE_BATCH = 64, DECODE_PAST = 4096, PREFILL_BATCH = 2, PREFILL_TOKENS = 4096;
    static final int DECODE_STEPS = 100, PREFILL_STEPS = 10;

    /** A plugin of the cuda backend and one step's tensors in device memory, random bfloat16 in [-1, 1). */
    abstract static class Step {
        final Arena arena = Arena.ofShared();
        GptAttentionPlugin plugin;
        AttentionStep step;

        void create(int batch, int newTokens, int past) {
            int maxSeqLen = past + newTokens;
            GptAttentionConfig config = GptAttentionConfig.builder().numHeads(HEADS).numKvHeads(KV_HEADS)
                    .headSize(HEAD_SIZE).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                    .rotaryEmbeddingDim(HEAD_SIZE).maxContextLength(maxSeqLen).typeId(DataType.BFLOAT16).build();
            Backend cuda = Backend.open("cuda");
            plugin = cuda.createPlugin(config);
            long tokens = (long) batch * newTokens;
            AttentionStep.Builder builder = AttentionStep.builder()
                    .qkv(random(cuda, tokens * (HEADS + 2 * KV_HEADS) * HEAD_SIZE))
                    .kvCache(random(cuda, (long) batch * 2 * KV_HEADS * maxSeqLen * HEAD_SIZE))
                    .context(cuda.allocate(arena, DataType.BFLOAT16, tokens * HEADS * HEAD_SIZE));
            for (int b = 0; b < batch; b++) {
                if (past > 0) {
                    builder.generationRequest(past);
                } else {
                    builder.contextRequest(newTokens, 0);
                }
            }
            step = builder.build();
        }

        /** Device memory of {@code elements} bfloat16 values: a random block of 1 Mi values, repeated. */
        BackendMemory random(Backend backend, long elements) {
            SplittableRandom random = new SplittableRandom(42);
            long blockElements = Math.min(elements, 1 << 20);
            try (Arena host = Arena.ofConfined()) {
                MemorySegment block = host.allocate(blockElements * 2, 64);
                for (long i = 0; i < blockElements; i++) {
                    int bits = Float.floatToRawIntBits((float) random.nextDouble(-1, 1));
                    block.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (bits >>> 16));
                }
                MemorySegment all = host.allocate(elements * 2, 64);
                for (long at = 0; at < elements * 2; at += block.byteSize()) {
                    MemorySegment.copy(block, 0, all, at, Math.min(block.byteSize(), elements * 2 - at));
                }
                return backend.upload(arena, all);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            plugin.close();
            arena.close();
        }
    }

    @State(Scope.Thread)
    public static class Decode extends Step {
        @Setup(Level.Trial)
        public void setUp() {
            create(DECODE_BATCH, 1, DECODE_PAST);
        }
    }

    @State(Scope.Thread)
    public static class Prefill extends Step {
        @Setup(Level.Trial)
        public void setUp() {
            create(PREFILL_BATCH, PREFILL_TOKENS, 0);
        }
    }

    /** Decode for {@link #decodeEnqueue}: waits for the device after each invocation, outside the timing. */
    @State(Scope.Thread)
    public static class DecodeQueued extends Decode {
        @TearDown(Level.Invocation)
        public void drain() {
            plugin.synchronize();
        }
    }

    @Benchmark
    @OperationsPerInvocation(DECODE_STEPS)
    public void decodeStep(Decode state) {
        enqueue(state, DECODE_STEPS);
        state.plugin.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(PREFILL_STEPS)
    public void prefillStep(Prefill state) {
        enqueue(state, PREFILL_STEPS);
        state.plugin.synchronize();
    }

    @Benchmark
    @OperationsPerInvocation(DECODE_STEPS)
    public void decodeEnqueue(DecodeQueued state) {
        enqueue(state, DECODE_STEPS);
    }

    /** The state's step, {@code steps} times back to back on its plugin's stream. */
    private static void enqueue(Step state, int steps) {
        for (int i = 0; i < steps; i++) {
            state.plugin.enqueue(state.step);
        }
    }
}
