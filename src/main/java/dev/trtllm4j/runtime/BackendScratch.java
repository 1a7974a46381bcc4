package dev.trtllm4j.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Backend memory a plugin reuses across steps (workspace, RoPE tables), reallocated (at least
 * doubling) when a step needs more.
 */
final class BackendScratch implements AutoCloseable {

    private final Backend backend;
    private Arena arena;
    private BackendMemory memory;

    BackendScratch(Backend backend) {
        this.backend = backend;
    }

    /** Memory of at least {@code bytes} bytes; its contents are lost when it grows. */
    BackendMemory atLeast(long bytes) {
        if (memory == null || memory.byteSize() < bytes) {
            long size = Math.max(bytes, memory == null ? 1 : 2 * memory.byteSize());
            close();
            arena = Arena.ofShared();
            memory = backend.allocate(arena, size);
        }
        return memory;
    }

    /** Its address, after {@link #atLeast}. */
    MemorySegment address() {
        return memory.address();
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
            memory = null;
        }
    }
}
