package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.ffi.Trtllm4j;
import dev.trtllm4j.ffi.trtllm4j_backend_api;
import dev.trtllm4j.ffi.trtllm4j_backend_entry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
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
 *
 * <p>The {@code tensorrt} backend takes options ({@link TensorRtOptions}, through
 * {@link #openTensorRt}), fixed when it is first opened in a JVM, and runs engines saved to files
 * ({@link GptAttentionPlugin#saveEngine}, {@link #openEngine}).
 */
public final class Backend {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");
    private static final Map<String, Backend> OPEN = new ConcurrentHashMap<>();
    private static final String TENSORRT = "tensorrt";

    private final String name;
    private final String origin;
    private final MemorySegment api;
    private final MemoryLocation tensorLocation;
    private final TensorRtOptions options; // the tensorrt backend's; null for the others

    private Backend(String name, String origin, MemorySegment api, TensorRtOptions options) {
        this.name = name;
        this.origin = origin;
        this.api = api;
        this.tensorLocation = MemoryLocation.fromCode(trtllm4j_backend_api.tensor_location(api));
        this.options = options;
    }

    /**
     * Loads a backend by name, or returns the one already loaded (the {@code tensorrt} backend with
     * whatever options it was first opened with; {@link TensorRtOptions#DEFAULTS} when it is loaded now).
     * A failed open is not remembered: the next one tries again.
     *
     * @throws BackendNotFoundException listing every place tried when no library loads
     * @throws NativeException when the backend cannot run here, with what it looked for (the
     *     {@code tensorrt} backend without TensorRT: "libnvinfer.so.10 not found: looked in ...")
     * @throws TrtLlmException when the library was built for another ABI version
     */
    public static Backend open(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("backend name '" + name + "': must be lower-case letters, digits"
                    + " and underscores, such as cpu, cuda or tensorrt");
        }
        return OPEN.computeIfAbsent(name, n -> load(n, n.equals(TENSORRT) ? TensorRtOptions.DEFAULTS : null));
    }

    /**
     * Loads the {@code tensorrt} backend with options, or returns it when it is already open with equal
     * options. The options apply to every plugin the backend creates or opens in this JVM.
     *
     * @throws IllegalStateException when the backend is already open with other options: they are
     *     fixed when it is first opened
     * @throws BackendNotFoundException listing every place tried when no library loads
     * @throws NativeException when TensorRT or a GPU is missing, with what was looked for
     */
    public static Backend openTensorRt(TensorRtOptions options) {
        Objects.requireNonNull(options, "options");
        Backend backend = OPEN.computeIfAbsent(TENSORRT, n -> load(n, options));
        if (!backend.options.equals(options)) {
            throw new IllegalStateException("the tensorrt backend is already open in this JVM with " + backend.options
                    + ", not " + options + ": its options are fixed when it is first opened");
        }
        return backend;
    }

    private static Backend load(String name, TensorRtOptions options) {
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
        Backend backend = new Backend(name, library.origin(), api, options);
        MemorySegment initialize = trtllm4j_backend_api.initialize(api);
        if (!initialize.equals(MemorySegment.NULL)) {
            backend.check(trtllm4j_backend_api.initialize.invoke(initialize), "initialize");
        }
        // After initialize, so that a backend that cannot run here keeps no options from a failed open.
        if (options != null && !options.nativeValues().isEmpty()) {
            MemorySegment setOption = backend.engineFunction(trtllm4j_backend_api.set_option(api), "options");
            try (Arena call = Arena.ofConfined()) {
                options.nativeValues().forEach((option, value) -> backend.check(trtllm4j_backend_api.set_option.invoke(
                        setOption, call.allocateFrom(option), call.allocateFrom(value)), "set_option " + option));
            }
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
        return GptAttentionPlugin.create(this, config);
    }

    /**
     * A plugin running the engine saved in a file by {@link GptAttentionPlugin#saveEngine}; its
     * configuration comes from the plugin fields in the file, with TensorRT-LLM's default scaling
     * parameters (see {@link #openEngine(Path, RotaryScalingParameters)}).
     *
     * @throws UnsupportedOperationException on a backend that runs no engines (cpu, cuda)
     * @throws IllegalArgumentException when no file is there
     * @throws NativeException when the file is no trtllm4j engine file, or holds a plugin of another
     *     namespace than this backend's, with the backend's message
     */
    public GptAttentionPlugin openEngine(Path file) {
        return openEngine(file, RotaryScalingParameters.DEFAULTS);
    }

    /**
     * The same, with the RoPE scaling parameters that are no plugin fields (llama3's frequency
     * factors, yarn's betas and mscales, longrope's factors): they shape the RoPE tables the plugin's
     * steps take, so an engine file cannot carry them.
     */
    public GptAttentionPlugin openEngine(Path file, RotaryScalingParameters rotaryScaling) {
        Objects.requireNonNull(rotaryScaling, "rotaryScaling");
        MemorySegment open = engineFunction(trtllm4j_backend_api.open_engine(api), "engine files");
        Path absolute = file.toAbsolutePath();
        if (!Files.isRegularFile(absolute)) {
            throw new IllegalArgumentException("engine file " + absolute + ": no such file");
        }
        return GptAttentionPlugin.openEngine(this, open, absolute, rotaryScaling);
    }

    /** A function of the options and engines part of the table, or the refusal of a backend without it. */
    MemorySegment engineFunction(MemorySegment function, String what) {
        if (function.equals(MemorySegment.NULL)) {
            throw new UnsupportedOperationException("the " + name + " backend has no " + what
                    + ": it builds no TensorRT engines (the tensorrt backend does)");
        }
        return function;
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
