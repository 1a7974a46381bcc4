package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.ffi.Trtllm4j;
import dev.trtllm4j.ffi.trtllm4j_backend_api;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Memory where a backend's step tensors live: host memory for the {@code cpu} backend, the GPU's
 * memory for {@code cuda} and {@code tensorrt}. The same Java code fills, runs and reads a step on
 * either: {@link #copyFrom} and {@link #copyTo} move bytes between it and host segments.
 *
 * {@snippet :
 * try (Arena arena = Arena.ofConfined()) {
 *     BackendMemory qkv = backend.allocate(arena, DataType.BFLOAT16, tokens * rowWidth);
 *     qkv.copyFrom(hostQkv);
 *     plugin.enqueue(AttentionStep.builder().qkv(qkv) ... .build());
 *     context.copyTo(hostContext); // waits for the step
 * }
 * }
 *
 * <p>The memory is freed when its arena closes, or earlier by {@link #close()}; a second close does
 * nothing, and any use after it throws an {@link IllegalStateException} naming the memory. Copies
 * are synchronous and ordered after every step already enqueued on the backend (CUDA's legacy
 * default stream), so a {@code copyTo} after {@code enqueue} reads the step's result. Every backend
 * allocates it through the bridge ABI (host memory on the CPU backend). It is never handed to Java
 * code as a readable segment: reading device memory from the host would crash the JVM.
 */
public final class BackendMemory implements AutoCloseable {

    private final Backend backend;
    private final MemorySegment address; // never dereferenced from Java: it may be device memory
    private final long byteSize;
    private final AtomicBoolean open = new AtomicBoolean(true);

    private BackendMemory(Backend backend, MemorySegment address, long byteSize) {
        this.backend = backend;
        this.address = address;
        this.byteSize = byteSize;
    }

    static BackendMemory allocate(Backend backend, Arena arena, long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes = " + bytes + ": backend memory holds at least 1 byte");
        }
        BackendMemory memory;
        MemorySegment api = backend.api();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            backend.check(trtllm4j_backend_api.allocate.invoke(trtllm4j_backend_api.allocate(api), bytes, out),
                    "allocate(" + bytes + " bytes)");
            memory = new BackendMemory(backend, out.get(ValueLayout.ADDRESS, 0).reinterpret(bytes), bytes);
        }
        // Ties the memory to the arena: its closing frees whatever close() has not freed yet.
        MemorySegment.NULL.reinterpret(arena, ignored -> memory.free(false));
        return memory;
    }

    /** The backend whose memory this is. */
    public Backend backend() {
        return backend;
    }

    /** Where it lives: the backend's tensor location. */
    public MemoryLocation location() {
        return backend.tensorLocation();
    }

    /** Its size in bytes. */
    public long byteSize() {
        return byteSize;
    }

    /** Its size in elements of {@code type}. */
    public long elements(DataType type) {
        return byteSize / type.byteSize();
    }

    /**
     * Copies all of {@code host}, a native segment of exactly {@link #byteSize()} bytes, into this
     * memory.
     */
    public void copyFrom(MemorySegment host) {
        checkHost("copyFrom", host);
        copy(address, host, byteSize, Trtllm4j.TRTLLM4J_HOST_TO_DEVICE(), "copyFrom");
    }

    /** Copies all of {@code host} to this memory at byte {@code offset}; for plugins' own scratch. */
    void write(long offset, MemorySegment host) {
        ensureOpen();
        if (offset < 0 || host.byteSize() > byteSize - offset) {
            throw new IndexOutOfBoundsException(host.byteSize() + " bytes at " + offset + " do not fit " + this);
        }
        copy(address.asSlice(offset), host, host.byteSize(), Trtllm4j.TRTLLM4J_HOST_TO_DEVICE(), "copy");
    }

    /** Copies this memory into {@code host}, a native segment of exactly {@link #byteSize()} bytes. */
    public void copyTo(MemorySegment host) {
        checkHost("copyTo", host);
        copy(host, address, byteSize, Trtllm4j.TRTLLM4J_DEVICE_TO_HOST(), "copyTo");
    }

    /** Sets every byte to zero. */
    public void zero() {
        ensureOpen();
        MemorySegment api = backend.api();
        backend.check(trtllm4j_backend_api.fill.invoke(trtllm4j_backend_api.fill(api), address, 0, byteSize), "fill");
    }

    /** The address handed to native code; checks that the memory is still open. */
    MemorySegment address() {
        ensureOpen();
        return address;
    }

    boolean isOpen() {
        return open.get();
    }

    private void copy(MemorySegment destination, MemorySegment source, long bytes, int kind, String call) {
        MemorySegment api = backend.api();
        backend.check(trtllm4j_backend_api.copy.invoke(trtllm4j_backend_api.copy(api), destination, source, bytes, kind),
                call);
    }

    private void checkHost(String call, MemorySegment host) {
        ensureOpen();
        if (!host.isNative()) {
            throw new IllegalArgumentException(call + ": a heap segment; copies take native memory (allocate it from an"
                    + " Arena)");
        }
        if (host.byteSize() != byteSize) {
            throw new IllegalArgumentException(call + ": the host segment has " + host.byteSize() + " bytes, this "
                    + this + " has " + byteSize);
        }
    }

    private void ensureOpen() {
        if (!open.get()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** Frees the memory; a second call does nothing. */
    @Override
    public void close() {
        free(true);
    }

    /** Frees once; an arena's cleanup must not throw, so only close() reports a failed release. */
    private void free(boolean report) {
        if (open.compareAndSet(true, false)) {
            MemorySegment api = backend.api();
            int status = trtllm4j_backend_api.release.invoke(trtllm4j_backend_api.release(api), address);
            if (report) {
                backend.check(status, "release");
            }
        }
    }

    @Override
    public String toString() {
        return "BackendMemory[" + backend.name() + ", " + location() + ", " + byteSize + " bytes]";
    }
}
