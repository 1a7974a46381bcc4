package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.attention.DataType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Backend memory on the CPU backend: the same contract the GPU backends keep with device memory. */
class BackendMemoryTest {

    private static final Backend CPU = Backend.open("cpu");

    @Test
    void bytesCopiedInComeBackOut() {
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory memory = CPU.allocate(arena, DataType.FLOAT32, 3);
            memory.copyFrom(arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1.5f, -2f, 7f));
            MemorySegment back = arena.allocate(12);
            memory.copyTo(back);
            assertThat(back.toArray(ValueLayout.JAVA_FLOAT)).containsExactly(1.5f, -2f, 7f);
            assertThat(memory.location()).isEqualTo(MemoryLocation.HOST);
            assertThat(memory.elements(DataType.FLOAT32)).isEqualTo(3);
        }
    }

    @Test
    void zeroClearsEveryByte() {
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory memory = CPU.upload(arena, arena.allocateFrom(ValueLayout.JAVA_INT, -1, -1));
            memory.zero();
            MemorySegment back = arena.allocate(8);
            memory.copyTo(back);
            assertThat(back.toArray(ValueLayout.JAVA_INT)).containsExactly(0, 0);
        }
    }

    @Test
    void aCopyOfAnotherSizeIsRefusedNamingBothSizes() {
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory memory = CPU.allocate(arena, 16);
            assertThatThrownBy(() -> memory.copyFrom(arena.allocate(12))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("copyFrom: the host segment has 12 bytes, this BackendMemory[cpu, host, 16 bytes] has 16");
        }
    }

    @Test
    void heapSegmentsAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory memory = CPU.allocate(arena, 4);
            assertThatThrownBy(() -> memory.copyTo(MemorySegment.ofArray(new byte[4])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("copyTo: a heap segment");
        }
    }

    @Test
    void useAfterCloseNamesTheMemoryAndASecondCloseDoesNothing() {
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory memory = CPU.allocate(arena, 4);
            memory.close();
            memory.close();
            assertThatThrownBy(memory::zero).isInstanceOf(IllegalStateException.class)
                    .hasMessage("BackendMemory[cpu, host, 4 bytes] is closed");
        }
    }

    @Test
    void closingTheArenaFreesTheMemory() {
        BackendMemory memory;
        try (Arena arena = Arena.ofConfined()) {
            memory = CPU.allocate(arena, 4);
            assertThat(memory.isOpen()).isTrue();
        }
        assertThat(memory.isOpen()).isFalse();
    }

    @Test
    void emptyAllocationsAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> CPU.allocate(arena, 0)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("bytes = 0: backend memory holds at least 1 byte");
        }
    }

    @Test
    void theCpuBackendHasNoDeviceMemoryToReport() {
        assertThatThrownBy(CPU::deviceMemoryInfo).isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("the cpu backend has no device memory");
    }
}
