package dev.trtllm4j.bench;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * The bridge's own cost: the CPU backend's enqueue of a trivial step (1 sequence, 1 new token, 1 head
 * of size 32, float32, no position embedding), three ways, in one JVM:
 * <ul>
 *   <li>{@link #javaEnqueue}: {@link GptAttentionPlugin#enqueue}, with all its checks and marshalling
 *       (the step struct, the per-sequence arrays, the workspace query) and two downcalls;
 *   <li>{@link #cEnqueue}: the same enqueue called from a C loop (bench_steps.c), one downcall per
 *       {@value #C_CALLS} calls: the native cost alone, the floor the other two are measured against;
 *   <li>{@link #downcallEnqueue}: one bare FFM downcall of the backend's enqueue on that C-built step,
 *       which separates the downcall from the marshalling.
 * </ul>
 * The bridge's cost per enqueue is {@code javaEnqueue - cEnqueue}. The C program bench_enqueue and the
 * Python script bench_enqueue.py time the same call outside the JVM.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class BridgeBenchmark {

    static final int C_CALLS = 1000;

    private final Arena arena = Arena.ofShared();
    private GptAttentionPlugin plugin;
    private AttentionStep step;
    private MethodHandle enqueueLoop;
    private MethodHandle enqueue;
    private MemorySegment api, nativePlugin, nativeStep;

    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        Backend cpu = Backend.open("cpu");
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(1).numKvHeads(1).headSize(32)
                .positionEmbeddingType(PositionEmbeddingType.LEARNED_ABSOLUTE).maxContextLength(1)
                .typeId(DataType.FLOAT32).build();
        plugin = cpu.createPlugin(config);
        MemorySegment qkv = arena.allocate(3 * 32 * Float.BYTES, 64);
        for (int i = 0; i < 96; i++) {
            qkv.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) / 7f);
        }
        step = AttentionStep.builder().qkv(qkv).kvCache(arena.allocate(2 * 32 * Float.BYTES, 64))
                .context(arena.allocate(32 * Float.BYTES, 64)).contextRequest(1, 0).build();
        plugin.enqueue(step);

        SymbolLookup helpers = benchLibrary();
        SymbolLookup backend = SymbolLookup.libraryLookup(
                Path.of("target/native/linux-x86_64/libtrtllm4j_cpu.so").toAbsolutePath(), Arena.global());
        Linker linker = Linker.nativeLinker();
        api = (MemorySegment) linker.downcallHandle(backend.findOrThrow("trtllm4j_backend"),
                FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
        api = api.reinterpret(64);
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS, 2);
        MethodHandle trivial = linker.downcallHandle(helpers.findOrThrow("trtllm4j_bench_trivial"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        int status = (int) trivial.invokeExact(api, out, out.asSlice(ValueLayout.ADDRESS.byteSize()));
        if (status != 0) {
            throw new IllegalStateException("trtllm4j_bench_trivial failed with status " + status);
        }
        nativePlugin = out.getAtIndex(ValueLayout.ADDRESS, 0);
        nativeStep = out.getAtIndex(ValueLayout.ADDRESS, 1);
        enqueueLoop = linker.downcallHandle(helpers.findOrThrow("trtllm4j_bench_enqueue_loop"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        // trtllm4j_backend_api: abi_version, name, tensor_location, describe, create, workspace_size, enqueue.
        MemorySegment enqueueFunction = api.get(ValueLayout.ADDRESS, 6 * ValueLayout.ADDRESS.byteSize());
        enqueue = linker.downcallHandle(enqueueFunction,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    }

    /**
     * The helper library that make bench-native builds, loaded for the JVM's lifetime: unloading it would
     * unload OpenMP under its idle worker threads.
     */
    static SymbolLookup benchLibrary() {
        Path library = Path.of("target/bench/libtrtllm4j_bench.so").toAbsolutePath();
        if (!Files.isRegularFile(library)) {
            throw new IllegalStateException(library + " is missing: run the benchmarks with make bench");
        }
        return SymbolLookup.libraryLookup(library, Arena.global());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        plugin.close();
    }

    @Benchmark
    public void javaEnqueue() {
        plugin.enqueue(step);
    }

    @Benchmark
    @OperationsPerInvocation(C_CALLS)
    public int cEnqueue() throws Throwable {
        return (int) enqueueLoop.invokeExact(api, nativePlugin, nativeStep, (long) C_CALLS);
    }

    @Benchmark
    public int downcallEnqueue() throws Throwable {
        return (int) enqueue.invokeExact(nativePlugin, nativeStep);
    }
}
