package dev.trtllm4j.runtime;

import java.lang.foreign.MemorySegment;

/**
 * A step's tensor as native code receives it: a host segment, or backend memory whose address is
 * looked up when the step runs (so memory closed in between is named, not passed on).
 */
record StepTensor(MemorySegment host, BackendMemory memory) {

    static StepTensor of(MemorySegment host) {
        return host == null ? null : new StepTensor(host, null);
    }

    static StepTensor of(BackendMemory memory) {
        return memory == null ? null : new StepTensor(null, memory);
    }

    MemoryLocation location() {
        return memory == null ? MemoryLocation.HOST : memory.location();
    }

    long byteSize() {
        return memory == null ? host.byteSize() : memory.byteSize();
    }

    /** The address for native code; throws when backend memory was closed or a host segment is on the heap. */
    MemorySegment address(String name) {
        if (memory != null) {
            if (!memory.isOpen()) {
                throw new IllegalStateException(name + ": " + memory + " is closed");
            }
            return memory.address();
        }
        if (!host.isNative()) {
            throw new IllegalArgumentException(name + ": a heap segment; backends read native memory (allocate it"
                    + " from an Arena)");
        }
        return host;
    }
}
