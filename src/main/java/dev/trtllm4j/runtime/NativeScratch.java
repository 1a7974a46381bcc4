package dev.trtllm4j.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Native memory a plugin reuses across steps, reallocated (at least doubling) when a step needs more. */
final class NativeScratch implements AutoCloseable {

    private Arena arena;
    private MemorySegment segment = MemorySegment.NULL;

    /** A segment of at least {@code bytes} bytes; its contents are lost when it grows. */
    MemorySegment atLeast(long bytes) {
        if (segment.byteSize() < bytes) {
            long size = Math.max(bytes, 2 * segment.byteSize());
            close();
            arena = Arena.ofShared();
            segment = arena.allocate(size, 64);
        }
        return segment;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
            segment = MemorySegment.NULL;
        }
    }
}
