package dev.trtllm4j.bench;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.embedding.RotaryTables;
import dev.trtllm4j.onnx.OrtGroupQueryAttention;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.runtime.RequestType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU backend against ONNX Runtime's {@code GroupQueryAttention} on the same shapes, float32, 32 query
 * and 8 KV heads of size 128, GPT-NeoX RoPE over the whole head:
 * <ul>
 *   <li>{@code decode}: a batch of 8 sequences, each generating 1 token after 2,048 cached ones;
 *   <li>{@code prefill}: 1 sequence of a 1,024-token prompt.
 * </ul>
 * Both sides run on the same number of threads, the parameter {@code threads} ({@code make bench
 * BENCH_THREADS=n}, default 2): ORT as its intra-op threads, with past and present sharing one
 * buffer, its fastest setting; the CPU backend as its OpenMP threads, which OpenMP reads from
 * {@code OMP_NUM_THREADS} when the backend loads (the bench profile sets it to the same count, and
 * setup refuses a backend running on another count).
 *
 * <p>Decode reads the whole KV cache of the batch once: 8 x 2 x 8 x 2,049 x 128 x 4 bytes = 134.3 MB.
 * {@link #memoryRead} reads, and {@link #memoryCopy} copies, as many bytes on as many threads: the
 * machine's memory bandwidth that decode's is compared with, in the same run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class AttentionBenchmark {

    static final int HEADS = 32, KV_HEADS = 8, HEAD_SIZE = 128;
    static final int DECODE_BATCH = 8, DECODE_PAST = 2048, PREFILL_TOKENS = 1024;

    /** The inputs of one phase: random qkv and cache, the RoPE table, per-sequence lengths. */
    @State(Scope.Thread)
    public static class Inputs {
        @Param({"decode", "prefill"})
        public String phase;

        @Param("2")
        public int threads;

        final Arena arena = Arena.ofShared();
        GptAttentionConfig config;
        int batch, newTokens, maxSeqLen;
        int[] pastLengths;
        MemorySegment qkv, cache, output;
        RotaryTables tables;

        void create() {
            boolean decode = phase.equals("decode");
            batch = decode ? DECODE_BATCH : 1;
            newTokens = decode ? 1 : PREFILL_TOKENS;
            pastLengths = new int[batch];
            Arrays.fill(pastLengths, decode ? DECODE_PAST : 0);
            maxSeqLen = pastLengths[0] + newTokens;
            config = GptAttentionConfig.builder().numHeads(HEADS).numKvHeads(KV_HEADS).headSize(HEAD_SIZE)
                    .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(HEAD_SIZE)
                    .maxContextLength(maxSeqLen).typeId(DataType.FLOAT32).build();
            SplittableRandom random = new SplittableRandom(42);
            qkv = randomFloats(random, (long) batch * newTokens * (HEADS + 2 * KV_HEADS) * HEAD_SIZE);
            cache = randomFloats(random, (long) batch * 2 * KV_HEADS * maxSeqLen * HEAD_SIZE);
            output = arena.allocate((long) batch * newTokens * HEADS * HEAD_SIZE * Float.BYTES, 64);
            tables = RotaryTables.compute(config, maxSeqLen);
        }

        MemorySegment randomFloats(SplittableRandom random, long count) {
            MemorySegment segment = arena.allocate(count * Float.BYTES, 64);
            for (long i = 0; i < count; i++) {
                segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble(-1, 1));
            }
            return segment;
        }
    }

    /** The CPU backend's plugin and step. */
    @State(Scope.Thread)
    public static class CpuBackend extends Inputs {
        GptAttentionPlugin plugin;
        AttentionStep step;

        @Setup(Level.Trial)
        public void setUp() {
            create();
            Backend cpu = Backend.open("cpu");
            if (!cpu.description().contains(" " + threads + " OpenMP threads")) {
                throw new IllegalStateException("the comparison needs both sides on " + threads + " threads, but the"
                        + " backend says: " + cpu.description() + " (set OMP_NUM_THREADS=" + threads + ")");
            }
            plugin = cpu.createPlugin(config);
            AttentionStep.Builder builder = AttentionStep.builder().qkv(qkv).kvCache(cache).context(output)
                    .rotaryTables(arena.allocateFrom(ValueLayout.JAVA_FLOAT, tables.invFreq()),
                            arena.allocateFrom(ValueLayout.JAVA_FLOAT, tables.cosSin()));
            for (int past : pastLengths) {
                builder.sequence(past > 0 ? RequestType.GENERATION : RequestType.CONTEXT, newTokens, past);
            }
            step = builder.build();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            plugin.close();
            arena.close();
        }
    }

    /** ORT's operator bound to its own copy of the inputs, in its cache layout. */
    @State(Scope.Thread)
    public static class OnnxRuntime extends Inputs {
        OrtGroupQueryAttention operator;
        OrtGroupQueryAttention.Binding binding;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            create();
            operator = new OrtGroupQueryAttention(HEADS, KV_HEADS, HEAD_SIZE, HEAD_SIZE, false,
                    (float) (1 / Math.sqrt(HEAD_SIZE)), threads);
            // Our cache is [batch, 2, kv, seq, head]; ORT's K and V are each [batch, kv, seq, head].
            long half = (long) KV_HEADS * maxSeqLen * HEAD_SIZE * Float.BYTES;
            MemorySegment keys = arena.allocate(batch * half, 64), values = arena.allocate(batch * half, 64);
            for (int b = 0; b < batch; b++) {
                MemorySegment.copy(cache, 2 * b * half, keys, b * half, half);
                MemorySegment.copy(cache, (2 * b + 1) * half, values, b * half, half);
            }
            MemorySegment[] cosSin = OrtGroupQueryAttention.splitCosSin(arena, tables.cosSin());
            binding = operator.bind(batch, newTokens, pastLengths, qkv, keys, values, cosSin[0], cosSin[1], output);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            binding.close();
            operator.close();
            arena.close();
        }
    }

    /** Two buffers the size of decode's KV-cache reads, and the helper library's parallel copy and read. */
    @State(Scope.Thread)
    public static class Memory {
        static final long BYTES = (long) DECODE_BATCH * 2 * KV_HEADS * (DECODE_PAST + 1) * HEAD_SIZE * Float.BYTES;

        @Param("2")
        public int threads;

        final Arena arena = Arena.ofShared();
        MemorySegment source, destination;
        MethodHandle copy, read;

        @Setup(Level.Trial)
        public void setUp() {
            source = arena.allocate(BYTES, 64);
            destination = arena.allocate(BYTES, 64);
            source.fill((byte) 1);
            destination.fill((byte) 2);
            SymbolLookup helpers = BridgeBenchmark.benchLibrary();
            copy = Linker.nativeLinker().downcallHandle(helpers.findOrThrow("trtllm4j_bench_copy"),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT));
            read = Linker.nativeLinker().downcallHandle(helpers.findOrThrow("trtllm4j_bench_read"),
                    FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @Benchmark
    public void cpuBackend(CpuBackend state) {
        state.plugin.enqueue(state.step);
    }

    @Benchmark
    public void onnxRuntime(OnnxRuntime state) throws Exception {
        state.binding.run();
    }

    @Benchmark
    public void memoryCopy(Memory state) throws Throwable {
        state.copy.invokeExact(state.destination, state.source, Memory.BYTES, state.threads);
    }

    @Benchmark
    public float memoryRead(Memory state) throws Throwable {
        return (float) state.read.invokeExact(state.source, Memory.BYTES, state.threads);
    }
}
