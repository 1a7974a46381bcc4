package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.ffi.Trtllm4j;
import dev.trtllm4j.ffi.trtllm4j_backend_api;
import dev.trtllm4j.ffi.trtllm4j_backend_entry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * A loaded backend library: {@code cpu} (embedded in the jar), {@code cuda} or {@code tensorrt}. Each
 * exports {@code trtllm4j_backend()}, a table of functions this class calls through; several
 * backends can be open in one JVM.
 *
 * {@snippet :
 * Backend cpu = Backend.open("cpu");
 * try (GptAttentionPlugin plugin = cpu.createPlugin(config)) {
 *     plugin.enqueue(step);
 * }
 * }
 *
 * <p>A backend stays loaded until the JVM exits: unloading a library while plugins of it may still
 * run is never safe, and loading is cheap to share. {@link #open} returns the same instance for the
 * same name. The library is found as {@link NativeLibraryLocator} describes: the system property
 * {@code trtllm4j.library.path} or the environment variable {@code TRTLLM4J_LIBRARY_PATH} (a
 * directory), then the copy bundled in the jar, then the system library path.
 */
public final class Backend {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");
    private static final Map<String, Backend> OPEN = new ConcurrentHashMap<>();

    private final String name;
    private final String origin;
    private final MemorySegment api;
    private final MemoryLocation tensorLocation;

    private Backend(String name, String origin, MemorySegment api) {
        this.name = name;
        this.origin = origin;
        this.api = api;
        this.tensorLocation = MemoryLocation.fromCode(trtllm4j_backend_api.tensor_location(api));
    }

    /**
     * Loads a backend by name, or returns the one already loaded.
     *
     * @throws BackendNotFoundException listing every place tried when no library loads
     * @throws TrtLlmException when the library was built for another ABI version
     */
    public static Backend open(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("backend name '" + name + "': must be lower-case letters, digits"
                    + " and underscores, such as cpu, cuda or tensorrt");
        }
        return OPEN.computeIfAbsent(name, Backend::load);
    }

    private static Backend load(String name) {
        // The global arena keeps the library mapped for the JVM's lifetime (see the class comment).
        NativeLibraryLocator.Located library = NativeLibraryLocator.load(name, Arena.global());
        String symbol = Trtllm4j.TRTLLM4J_BACKEND_ENTRY_SYMBOL().getString(0);
        MemorySegment entry = library.symbols().find(symbol).orElseThrow(() -> new BackendNotFoundException(name,
                java.util.List.of(library.origin() + ": loaded, but exports no " + symbol + "()")));
        MemorySegment api = trtllm4j_backend_entry.invoke(entry)
                .reinterpret(trtllm4j_backend_api.layout().byteSize());
        int abi = trtllm4j_backend_api.abi_version(api);
        if (abi != Trtllm4j.TRTLLM4J_ABI_VERSION()) {
            throw new NativeException(name, "open", NativeStatus.UNSUPPORTED, library.origin() + " was built for ABI "
                    + "version " + abi + ", this jar speaks version " + Trtllm4j.TRTLLM4J_ABI_VERSION());
        }
        Backend backend = new Backend(name, library.origin(), api);
        MemorySegment initialize = trtllm4j_backend_api.initialize(api);
        if (!initialize.equals(MemorySegment.NULL)) {
            backend.check(trtllm4j_backend_api.initialize.invoke(initialize), "initialize");
        }
        return backend;
    }

    /** The name it was opened by. */
    public String name() {
        return name;
    }

    /** Where the library was loaded from. */
    public String origin() {
        return origin;
    }

    /** The backend's own one-line description: hardware, threads, instruction set. */
    public String description() {
        return trtllm4j_backend_api.describe.invoke(trtllm4j_backend_api.describe(api)).reinterpret(Long.MAX_VALUE)
                .getString(0);
    }

    /** Where step tensors must live: host memory for the CPU backend, device memory for the GPU ones. */
    public MemoryLocation tensorLocation() {
        return tensorLocation;
    }

    /**
     * Allocates {@code bytes} of this backend's tensor memory, freed when {@code arena} closes or
     * earlier by {@link BackendMemory#close()}. Its contents are undefined until written.
     *
     * @throws NativeException when the device is out of memory, with the backend's message
     */
    public BackendMemory allocate(Arena arena, long bytes) {
        return BackendMemory.allocate(this, arena, bytes);
    }

    /** Allocates a tensor of {@code elements} elements of {@code type}; see {@link #allocate(Arena, long)}. */
    public BackendMemory allocate(Arena arena, DataType type, long elements) {
        if (elements < 1 || elements > Long.MAX_VALUE / type.byteSize()) {
            throw new IllegalArgumentException("elements = " + elements + ": need at least 1, and a size in bytes"
                    + " that fits a long");
        }
        return allocate(arena, elements * type.byteSize());
    }

    /** Allocates a copy of a native host segment in this backend's tensor memory. */
    public BackendMemory upload(Arena arena, MemorySegment host) {
        BackendMemory memory = allocate(arena, host.byteSize());
        memory.copyFrom(host);
        return memory;
    }

    /**
     * The device's free and total memory, as the driver reports them.
     *
     * @throws UnsupportedOperationException on a backend whose tensors are host memory
     */
    public DeviceMemoryInfo deviceMemoryInfo() {
        MemorySegment function = trtllm4j_backend_api.memory_info(api);
        if (function.equals(MemorySegment.NULL)) {
            throw new UnsupportedOperationException("the " + name + " backend has no device memory");
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment free = call.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = call.allocate(ValueLayout.JAVA_LONG);
            check(trtllm4j_backend_api.memory_info.invoke(function, free, total), "memory_info");
            return new DeviceMemoryInfo(free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /** A device's memory in bytes: what is free now and what it has in all. */
    public record DeviceMemoryInfo(long freeBytes, long totalBytes) {}

    /**
     * Creates a plugin for a validated configuration.
     *
     * @throws NativeException when the backend rejects the configuration, with its message
     */
    public GptAttentionPlugin createPlugin(GptAttentionConfig config) {
        return new GptAttentionPlugin(this, config);
    }

    MemorySegment api() {
        return api;
    }

    /** Throws a {@link NativeException} with the backend's message when status is not OK. */
    void check(int status, String call) {
        if (status != Trtllm4j.TRTLLM4J_OK()) {
            String message = trtllm4j_backend_api.last_error.invoke(trtllm4j_backend_api.last_error(api))
                    .reinterpret(Long.MAX_VALUE).getString(0);
            throw new NativeException(name, call, NativeStatus.fromCode(status), message);
        }
    }

    @Override
    public String toString() {
        return "Backend[" + name + ", " + origin + "]";
    }
}
