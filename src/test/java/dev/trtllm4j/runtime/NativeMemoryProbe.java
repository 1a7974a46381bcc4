package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.StringJoiner;

/**
 * Runs rounds of 1,000 create/enqueue/close cycles and prints, on one line, how many bytes the C heap
 * holds after each round more than after the one before. {@link GptAttentionPluginTest} runs it in a
 * fresh JVM, away from the compiler and collector activity of the other tests.
 */
final class NativeMemoryProbe {

    static final int ROUNDS = 10;
    static final int CYCLES_PER_ROUND = 1000;

    /** glibc's {@code struct mallinfo2}: ten size_t counters. */
    private static final StructLayout MALLINFO2 = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("arena"), ValueLayout.JAVA_LONG.withName("ordblks"),
            ValueLayout.JAVA_LONG.withName("smblks"), ValueLayout.JAVA_LONG.withName("hblks"),
            ValueLayout.JAVA_LONG.withName("hblkhd"), ValueLayout.JAVA_LONG.withName("usmblks"),
            ValueLayout.JAVA_LONG.withName("fsmblks"), ValueLayout.JAVA_LONG.withName("uordblks"),
            ValueLayout.JAVA_LONG.withName("fordblks"), ValueLayout.JAVA_LONG.withName("keepcost"));

    private NativeMemoryProbe() {}

    public static void main(String[] args) throws Throwable {
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(4).numKvHeads(2).headSize(64)
                .maxContextLength(64).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(64).typeId(DataType.FLOAT32).build();
        Backend cpu = Backend.open("cpu");
        try (Arena arena = Arena.ofConfined()) {
            AttentionStep step = AttentionStep.builder().contextRequest(3, 0)
                    .qkv(arena.allocate(3L * 8 * 64 * 4)).kvCache(arena.allocate(2L * 2 * 48 * 64 * 4))
                    .context(arena.allocate(3L * 4 * 64 * 4)).build();
            for (int round = 0; round < 3; round++) {
                runCycles(cpu, config, step); // warm up: JIT, OpenMP threads, malloc's pools
            }
            StringJoiner growth = new StringJoiner(" ");
            long previous = mallocInUse();
            for (int round = 0; round < ROUNDS; round++) {
                runCycles(cpu, config, step);
                long now = mallocInUse();
                growth.add(Long.toString(now - previous));
                previous = now;
            }
            System.out.println(growth);
        }
    }

    private static void runCycles(Backend backend, GptAttentionConfig config, AttentionStep step) {
        for (int i = 0; i < CYCLES_PER_ROUND; i++) {
            try (GptAttentionPlugin plugin = backend.createPlugin(config)) {
                plugin.enqueue(step);
            }
        }
    }

    /** Bytes the C heap has handed out and not taken back: mallinfo2's uordblks plus hblkhd. */
    private static long mallocInUse() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle mallinfo2 = linker.downcallHandle(linker.defaultLookup().find("mallinfo2").orElseThrow(),
                FunctionDescriptor.of(MALLINFO2));
        try (Arena local = Arena.ofConfined()) {
            MemorySegment info = (MemorySegment) mallinfo2.invokeExact((SegmentAllocator) local);
            return info.get(ValueLayout.JAVA_LONG, MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("uordblks")))
                    + info.get(ValueLayout.JAVA_LONG, MALLINFO2.byteOffset(MemoryLayout.PathElement.groupElement("hblkhd")));
        }
    }
}
