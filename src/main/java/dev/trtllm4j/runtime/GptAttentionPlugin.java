package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.embedding.AlibiSlopes;
import dev.trtllm4j.embedding.RotaryTables;
import dev.trtllm4j.ffi.Trtllm4j;
import dev.trtllm4j.ffi.trtllm4j_attention_step;
import dev.trtllm4j.ffi.trtllm4j_backend_api;
import dev.trtllm4j.ffi.trtllm4j_buffer;
import dev.trtllm4j.plugin.PluginFieldCollection;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One GPT attention plugin created by a {@link Backend} from a {@link GptAttentionConfig}: it runs
 * attention steps. The native plugin, its RoPE and ALiBi tables and its workspace live until
 * {@link #close()}; a second close does nothing, and any use after close throws an
 * {@link IllegalStateException} naming the plugin.
 *
 * <p>A plugin runs one step at a time, like a CUDA stream. It may be shared between threads:
 * {@link #enqueue} calls from several threads run one after another, each waiting for the step
 * running before it, and {@link #close()} waits for a running step to return, so the step's
 * workspace and tables stay allocated for the whole native call. Steps on one plugin never run in
 * parallel, since they share its workspace: for parallel steps, create one plugin per thread.
 * Steps are checked in Java before they reach native code, and again by the backend.
 *
 * <p>On the {@code tensorrt} backend a plugin is a TensorRT engine, which {@link #saveEngine} writes
 * to a file and {@link Backend#openEngine} opens again, in this JVM or another.
 */
public final class GptAttentionPlugin implements AutoCloseable {

    private final Backend backend;
    private final GptAttentionConfig config;
    private final Arena arena = Arena.ofShared();
    // Serialises steps and close: the step struct, workspace and scratch below are one set per
    // plugin. Fair, so that close waits for the running step, not for every step queued after it.
    private final ReentrantLock lock = new ReentrantLock(true);
    private final MemorySegment handle;
    private final MemorySegment step;
    private final MemorySegment workspaceBytes;
    private final MemorySegment enqueueFunction;
    private final MemorySegment workspaceFunction;
    private final int elementBytes;
    private final int qkvRowElements;
    private final NativeScratch sequenceArrays = new NativeScratch(); // host memory on every backend
    private final NativeScratch rotaryHost = new NativeScratch();
    private final BackendScratch workspace;
    private final BackendScratch rotaryTables;
    private final BackendMemory alibiSlopes;
    private final MemorySegment stream; // the plugin's own stream on GPU backends, NULL on the CPU
    // The step struct's buffers, located once: each step only re-points their data and sizes.
    private final MemorySegment qkvBuffer, kvCacheBuffer, contextBuffer;
    private final MemorySegment inputLengthsBuffer, pastLengthsBuffer, requestTypesBuffer;
    private final MemorySegment invFreqBuffer, cosSinBuffer, longRopeInvFreqBuffer, longRopeCosSinBuffer;
    private final MemorySegment workspaceBuffer;
    // What the sequence and workspace buffers point at now, so an unchanged one is not rewritten.
    private MemorySegment pointedSequenceArrays = MemorySegment.NULL;
    private int pointedBatch;
    private BackendMemory pointedWorkspace;
    // The shape the workspace size was last asked for (the ABI makes it depend on nothing else).
    private int workspaceBatch = -1, workspaceTokens = -1, workspaceMaxSeqLen = -1;
    private long workspaceNeeded;
    private int rotaryPositions;

    /** Creates the native plugin from the configuration's fields. */
    static GptAttentionPlugin create(Backend backend, GptAttentionConfig config) {
        MemorySegment api = backend.api();
        try (Arena fields = Arena.ofConfined()) {
            MemorySegment out = fields.allocate(ValueLayout.ADDRESS);
            int status = trtllm4j_backend_api.create.invoke(trtllm4j_backend_api.create(api),
                    PluginFieldCollection.allocate(config, fields), out);
            backend.check(status, "create");
            return new GptAttentionPlugin(backend, config, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Opens the engine file with the backend's open_engine; the configuration is the file's fields. */
    static GptAttentionPlugin openEngine(Backend backend, MemorySegment openFunction, Path file,
            RotaryScalingParameters rotaryScaling) {
        MemorySegment api = backend.api();
        MemorySegment created;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            backend.check(trtllm4j_backend_api.open_engine.invoke(openFunction, call.allocateFrom(file.toString()), out),
                    "open_engine " + file);
            created = out.get(ValueLayout.ADDRESS, 0);
        }
        GptAttentionConfig config;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment fields = call.allocate(ValueLayout.ADDRESS);
            MemorySegment read = backend.engineFunction(trtllm4j_backend_api.plugin_fields(api), "plugin fields");
            backend.check(trtllm4j_backend_api.plugin_fields.invoke(read, created, fields), "plugin_fields");
            config = PluginFieldCollection.read(fields.get(ValueLayout.ADDRESS, 0)).rotaryScaling(rotaryScaling).build();
        } catch (RuntimeException e) {
            trtllm4j_backend_api.destroy.invoke(trtllm4j_backend_api.destroy(api), created);
            throw e;
        }
        return new GptAttentionPlugin(backend, config, created);
    }

    /** Takes over a native plugin: destroyed when this closes, or now if the rest cannot be set up. */
    private GptAttentionPlugin(Backend backend, GptAttentionConfig config, MemorySegment created) {
        this.backend = backend;
        this.config = config;
        MemorySegment api = backend.api();
        this.enqueueFunction = trtllm4j_backend_api.enqueue(api);
        this.workspaceFunction = trtllm4j_backend_api.workspace_size(api);
        this.elementBytes = config.typeId().byteSize();
        this.qkvRowElements = (config.numHeads() + 2 * config.numKvHeads()) * config.headSize();
        MemorySegment destroy = trtllm4j_backend_api.destroy(api);
        // Closing the arena destroys the native plugin, exactly once.
        this.handle = created.reinterpret(arena, plugin -> trtllm4j_backend_api.destroy.invoke(destroy, plugin));
        this.workspace = new BackendScratch(backend);
        this.rotaryTables = new BackendScratch(backend);
        try {
            this.stream = createStream(backend, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        this.step = trtllm4j_attention_step.allocate(arena);
        this.workspaceBytes = arena.allocate(ValueLayout.JAVA_LONG);
        trtllm4j_attention_step.stream(step, stream);
        int type = config.typeId().code(), int32 = Trtllm4j.TRTLLM4J_INT32(), float32 = Trtllm4j.TRTLLM4J_FLOAT32();
        this.qkvBuffer = describe(trtllm4j_attention_step.qkv(step), type);
        this.kvCacheBuffer = describe(trtllm4j_attention_step.kv_cache(step), type);
        this.contextBuffer = describe(trtllm4j_attention_step.context(step), type);
        this.inputLengthsBuffer = describeHost(trtllm4j_attention_step.input_lengths(step), int32);
        this.pastLengthsBuffer = describeHost(trtllm4j_attention_step.past_lengths(step), int32);
        this.requestTypesBuffer = describeHost(trtllm4j_attention_step.host_request_types(step), int32);
        this.invFreqBuffer = describe(trtllm4j_attention_step.rotary_inv_freq(step), float32);
        this.cosSinBuffer = describe(trtllm4j_attention_step.rotary_cos_sin(step), float32);
        this.longRopeInvFreqBuffer = describe(trtllm4j_attention_step.long_rope_rotary_inv_freq(step), float32);
        this.longRopeCosSinBuffer = describe(trtllm4j_attention_step.long_rope_rotary_cos_sin(step), float32);
        this.workspaceBuffer = describe(trtllm4j_attention_step.workspace(step), int32);
        if (config.positionEmbeddingType().isAlibi()) {
            // The device is out of memory at worst: the slopes are a few hundred bytes.
            this.alibiSlopes = backend.upload(arena, arena.allocateFrom(ValueLayout.JAVA_FLOAT, AlibiSlopes.compute(config)));
            point(describe(trtllm4j_attention_step.alibi_slopes(step), float32), alibiSlopes.address());
        } else {
            this.alibiSlopes = null;
        }
    }

    /** On a GPU backend, a stream of the plugin's own, destroyed when the arena closes. */
    private static MemorySegment createStream(Backend backend, Arena arena) {
        MemorySegment api = backend.api();
        MemorySegment create = trtllm4j_backend_api.stream_create(api);
        if (create.equals(MemorySegment.NULL)) {
            return MemorySegment.NULL;
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(ValueLayout.ADDRESS);
            backend.check(trtllm4j_backend_api.stream_create.invoke(create, out), "stream_create");
            MemorySegment destroy = trtllm4j_backend_api.stream_destroy(api);
            return out.get(ValueLayout.ADDRESS, 0).reinterpret(arena,
                    created -> trtllm4j_backend_api.stream_destroy.invoke(destroy, created));
        }
    }

    /** The configuration the plugin was created from. */
    public GptAttentionConfig config() {
        return config;
    }

    /** The backend running it. */
    public Backend backend() {
        return backend;
    }

    /**
     * Runs one step: RoPE on the new tokens' Q and K, K and V into the cache at their positions, and
     * causal attention into {@code context}.
     *
     * @throws IllegalArgumentException when a tensor's size, memory or the sequence bookkeeping is wrong
     * @throws NativeException when the backend fails, with its message
     * @throws IllegalStateException when the plugin is closed
     */
    public void enqueue(AttentionStep s) {
        lock.lock();
        try {
            run(s);
        } finally {
            lock.unlock();
        }
    }

    private void run(AttentionStep s) {
        ensureOpen();
        int batch = s.batchSize();
        int numTokens = s.numTokens();
        checkTensor("qkv", s.qkv(), (long) numTokens * qkvRowElements);
        checkTensor("context", s.context(), (long) numTokens * config.numHeads() * config.headSize());
        checkMemory("kvCache", s.kvCache(), elementBytes);
        int maxSeqLen = maxSeqLen(s.kvCache(), batch);
        int longest = checkSequences(s, maxSeqLen);
        if (s.maxAttentionWindow() < 1 || s.sinkTokenLength() < 0
                || (s.sinkTokenLength() > 0 && s.sinkTokenLength() >= s.maxAttentionWindow())) {
            throw new IllegalArgumentException("maxAttentionWindow = " + s.maxAttentionWindow() + ", sinkTokenLength = "
                    + s.sinkTokenLength() + ": need a window of at least 1 that holds more than its sink tokens");
        }

        trtllm4j_attention_step.batch_size(step, batch);
        trtllm4j_attention_step.num_tokens(step, numTokens);
        trtllm4j_attention_step.max_seq_len(step, maxSeqLen);
        // A window as wide as the cache hides nothing, whatever its sinks: it goes to native code as
        // the whole cache without sinks, which the ABI's rule (a window holds more than its sinks) admits.
        boolean wholeCache = s.maxAttentionWindow() >= maxSeqLen;
        trtllm4j_attention_step.max_attention_window(step, wholeCache ? maxSeqLen : s.maxAttentionWindow());
        trtllm4j_attention_step.sink_token_length(step, wholeCache ? 0 : s.sinkTokenLength());
        writeSequenceArrays(s);
        point(qkvBuffer, s.qkv().address("qkv"));
        point(kvCacheBuffer, s.kvCache().address("kvCache"));
        point(contextBuffer, s.context().address("context"));
        if (config.positionEmbeddingType().isRope()) {
            writeRotaryTables(s, maxSeqLen, longest);
        }

        if (batch != workspaceBatch || numTokens != workspaceTokens || maxSeqLen != workspaceMaxSeqLen) {
            int status = trtllm4j_backend_api.workspace_size.invoke(workspaceFunction, handle, step, workspaceBytes);
            backend.check(status, "workspace_size");
            workspaceNeeded = Math.max(workspaceBytes.get(ValueLayout.JAVA_LONG, 0), 1);
            workspaceBatch = batch;
            workspaceTokens = numTokens;
            workspaceMaxSeqLen = maxSeqLen;
        }
        BackendMemory memory = workspace.atLeast(workspaceNeeded);
        if (memory != pointedWorkspace) {
            point(workspaceBuffer, memory.address());
            pointedWorkspace = memory;
        }
        backend.check(trtllm4j_backend_api.enqueue.invoke(enqueueFunction, handle, step), "enqueue");
    }

    /**
     * Writes the plugin's TensorRT engine to a file (replacing one there), building it first if no
     * step has: its plugin fields and TensorRT's plan, which {@link Backend#openEngine} opens again.
     * The engine holds the largest shapes of the steps run so far, and at least the backend's
     * {@link TensorRtOptions} maxima.
     *
     * @throws UnsupportedOperationException on a backend that builds no engines (cpu, cuda)
     * @throws IllegalArgumentException when the file's folder does not exist
     * @throws NativeException when TensorRT fails to build or the file cannot be written
     */
    public void saveEngine(Path file) {
        MemorySegment save = backend.engineFunction(trtllm4j_backend_api.save_engine(backend.api()), "engine files");
        Path absolute = file.toAbsolutePath();
        if (absolute.getParent() == null || !Files.isDirectory(absolute.getParent())) {
            throw new IllegalArgumentException("engine file " + absolute + ": its folder does not exist");
        }
        lock.lock();
        try (Arena call = Arena.ofConfined()) {
            ensureOpen();
            backend.check(trtllm4j_backend_api.save_engine.invoke(save, handle, call.allocateFrom(absolute.toString())),
                    "save_engine " + absolute);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Where the plugin's current engine came from: built here (and how long that took) or read
     * from a file, the engine cache or {@link Backend#openEngine}.
     *
     * @throws UnsupportedOperationException on a backend that builds no engines (cpu, cuda)
     */
    public EngineInfo engineInfo() {
        MemorySegment info = backend.engineFunction(trtllm4j_backend_api.engine_info(backend.api()), "engines");
        lock.lock();
        try (Arena call = Arena.ofConfined()) {
            ensureOpen();
            MemorySegment seconds = call.allocate(ValueLayout.JAVA_DOUBLE);
            MemorySegment fromFile = call.allocate(ValueLayout.JAVA_INT);
            backend.check(trtllm4j_backend_api.engine_info.invoke(info, handle, seconds, fromFile), "engine_info");
            return new EngineInfo(seconds.get(ValueLayout.JAVA_DOUBLE, 0), fromFile.get(ValueLayout.JAVA_INT, 0) != 0);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A plugin's TensorRT engine: seconds it took to build (0 before the first step or
     * {@link #saveEngine}, and for one read from a file) and whether it was read from a file.
     */
    public record EngineInfo(double buildSeconds, boolean fromFile) {}

    /**
     * Waits until every step enqueued so far is done. Steps on the GPU backends run asynchronously
     * on the plugin's own stream; {@link BackendMemory#copyTo} waits for them too. On the CPU backend
     * a step is done when enqueue returns.
     */
    public void synchronize() {
        ensureOpen();
        if (!stream.equals(MemorySegment.NULL)) {
            MemorySegment api = backend.api();
            backend.check(trtllm4j_backend_api.stream_synchronize.invoke(trtllm4j_backend_api.stream_synchronize(api),
                    stream), "stream_synchronize");
        }
    }

    private void checkTensor(String name, StepTensor tensor, long elements) {
        long expected = elements * elementBytes;
        if (tensor.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": " + tensor.byteSize() + " bytes, expected " + expected
                    + " (" + elements + " " + config.typeId().tensorRtLlmName() + " elements)");
        }
        checkMemory(name, tensor, elementBytes);
    }

    /**
     * Memory the backend reads: native, in its location, of this backend, aligned to its elements'
     * size (the backend checks again, and a GPU would fault).
     */
    private void checkMemory(String name, StepTensor tensor, int elementBytes) {
        if (tensor.host() != null && !tensor.host().isNative()) {
            throw new IllegalArgumentException(name + ": a heap segment; the " + backend.name()
                    + " backend reads native memory (allocate it from an Arena)");
        }
        if (tensor.host() != null && tensor.host().address() % elementBytes != 0) {
            throw new IllegalArgumentException(name + ": starts at 0x" + Long.toHexString(tensor.host().address())
                    + ", which is not aligned to its " + elementBytes + "-byte elements");
        }
        if (tensor.location() != backend.tensorLocation()) {
            throw new IllegalArgumentException(name + ": in " + tensor.location() + " memory, but the " + backend.name()
                    + " backend reads " + backend.tensorLocation() + " memory (allocate it with Backend.allocate)");
        }
        if (tensor.memory() != null && tensor.memory().backend() != backend) {
            throw new IllegalArgumentException(name + ": memory of the " + tensor.memory().backend().name()
                    + " backend, but this plugin runs on the " + backend.name() + " backend");
        }
    }

    private int maxSeqLen(StepTensor kvCache, int batch) {
        long perPosition = (long) batch * 2 * config.numKvHeads() * config.headSize() * elementBytes;
        if (kvCache.byteSize() == 0 || kvCache.byteSize() % perPosition != 0
                || kvCache.byteSize() / perPosition > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kvCache: " + kvCache.byteSize() + " bytes is not [batch " + batch
                    + ", 2, num_kv_heads " + config.numKvHeads() + ", max_seq_len, head_size " + config.headSize()
                    + "] of " + config.typeId().tensorRtLlmName());
        }
        return (int) (kvCache.byteSize() / perPosition);
    }

    /** Checks every sequence and returns the longest one after this step. */
    private static int checkSequences(AttentionStep s, int maxSeqLen) {
        int longest = 0;
        for (int b = 0; b < s.batchSize(); b++) {
            int input = s.inputLength(b);
            int past = s.pastLength(b);
            if (input < 1 || past < 0) {
                throw new IllegalArgumentException("sequence " + b + ": inputLength = " + input + ", pastLength = "
                        + past + ": need at least one new token and no negative past");
            }
            if (s.requestType(b) == RequestType.GENERATION && input != 1) {
                throw new IllegalArgumentException("sequence " + b + ": a generation request has exactly 1 new token,"
                        + " got inputLength = " + input);
            }
            if ((long) past + input > maxSeqLen) {
                throw new IllegalArgumentException("sequence " + b + ": pastLength " + past + " + inputLength " + input
                        + " exceeds max_seq_len " + maxSeqLen + " of kvCache");
            }
            longest = Math.max(longest, past + input);
        }
        return longest;
    }

    private void writeSequenceArrays(AttentionStep s) {
        int batch = s.batchSize();
        long bytes = (long) batch * Integer.BYTES;
        MemorySegment arrays = sequenceArrays.atLeast(3 * bytes);
        for (int b = 0; b < batch; b++) {
            arrays.setAtIndex(ValueLayout.JAVA_INT, b, s.inputLength(b));
            arrays.setAtIndex(ValueLayout.JAVA_INT, batch + b, s.pastLength(b));
            arrays.setAtIndex(ValueLayout.JAVA_INT, 2L * batch + b, s.requestType(b).code());
        }
        if (arrays != pointedSequenceArrays || batch != pointedBatch) {
            point(inputLengthsBuffer, arrays.asSlice(0, bytes));
            point(pastLengthsBuffer, arrays.asSlice(bytes, bytes));
            point(requestTypesBuffer, arrays.asSlice(2 * bytes, bytes));
            pointedSequenceArrays = arrays;
            pointedBatch = batch;
        }
    }

    private void writeRotaryTables(AttentionStep s, int maxSeqLen, int longest) {
        int half = config.rotaryEmbeddingDim() / 2;
        boolean longRope = config.positionEmbeddingType() == PositionEmbeddingType.LONG_ROPE;
        MemorySegment invFreq;
        MemorySegment cosSin;
        int positions;
        if (s.rotaryCosSin() != null) {
            if (longRope) {
                throw new IllegalArgumentException("rotaryInvFreq, rotaryCosSin: long_rope also needs the long factors'"
                        + " tables, which a step cannot pass; leave both null to use the plugin's");
            }
            checkMemory("rotaryInvFreq", s.rotaryInvFreq(), Float.BYTES);
            checkMemory("rotaryCosSin", s.rotaryCosSin(), Float.BYTES);
            if (s.rotaryInvFreq().byteSize() != half * 4L || s.rotaryCosSin().byteSize() % (half * 8L) != 0) {
                throw new IllegalArgumentException("rotaryInvFreq has " + s.rotaryInvFreq().byteSize()
                        + " bytes and rotaryCosSin " + s.rotaryCosSin().byteSize() + ": expected float32 ["
                        + half + "] and [positions, " + half + ", 2]");
            }
            invFreq = s.rotaryInvFreq().address("rotaryInvFreq");
            cosSin = s.rotaryCosSin().address("rotaryCosSin");
            positions = (int) (s.rotaryCosSin().byteSize() / (half * 8L));
        } else {
            // The tables depend on the configuration and their length alone (the backend applies the
            // per-sequence rules), so they are computed again only when a longer cache needs more rows.
            long tableBytes = (half + (long) maxSeqLen * half * 2) * 4;
            if (rotaryPositions < maxSeqLen) {
                long bytes = longRope ? 2 * tableBytes : tableBytes;
                MemorySegment host = rotaryHost.atLeast(bytes).asSlice(0, bytes);
                copyTables(RotaryTables.compute(config, maxSeqLen), host, 0);
                if (longRope) {
                    copyTables(RotaryTables.computeLongRope(config, maxSeqLen), host, tableBytes);
                }
                rotaryTables.atLeast(bytes).write(0, host);
                rotaryPositions = maxSeqLen;
            }
            MemorySegment memory = rotaryTables.address();
            long rows = (long) rotaryPositions * half * 8;
            invFreq = memory.asSlice(0, half * 4L);
            cosSin = memory.asSlice(half * 4L, rows);
            positions = rotaryPositions;
            if (longRope) {
                long at = half * 4L + rows;
                point(longRopeInvFreqBuffer, memory.asSlice(at, half * 4L));
                point(longRopeCosSinBuffer, memory.asSlice(at + half * 4L, rows));
            }
        }
        if (positions < longest) {
            throw new IllegalArgumentException("rotaryCosSin: " + positions + " positions, but this step reaches position "
                    + (longest - 1));
        }
        trtllm4j_attention_step.rotary_positions(step, positions);
        point(invFreqBuffer, invFreq);
        point(cosSinBuffer, cosSin);
    }

    /** Writes tables as rotary_inv_freq then rotary_cos_sin, from offset bytes into memory. */
    private static void copyTables(RotaryTables tables, MemorySegment memory, long offset) {
        MemorySegment.copy(tables.invFreq(), 0, memory, ValueLayout.JAVA_FLOAT, offset, tables.invFreq().length);
        MemorySegment.copy(tables.cosSin(), 0, memory, ValueLayout.JAVA_FLOAT, offset + tables.invFreq().length * 4L,
                tables.cosSin().length);
    }

    /** Sets what never changes in a step buffer: where it lives (with the tensors) and its element type. */
    private MemorySegment describe(MemorySegment buffer, int dataType) {
        trtllm4j_buffer.location(buffer, backend.tensorLocation().code());
        trtllm4j_buffer.data_type(buffer, dataType);
        return buffer;
    }

    /** Likewise for the sequence arrays, which are host memory on every backend. */
    private static MemorySegment describeHost(MemorySegment buffer, int dataType) {
        trtllm4j_buffer.location(buffer, MemoryLocation.HOST.code());
        trtllm4j_buffer.data_type(buffer, dataType);
        return buffer;
    }

    /** Points a step buffer at data. */
    private static void point(MemorySegment buffer, MemorySegment data) {
        trtllm4j_buffer.data(buffer, data);
        trtllm4j_buffer.size_bytes(buffer, data.byteSize());
    }

    private void ensureOpen() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /**
     * Destroys the native plugin and frees its memory, after the step running on another thread, if
     * any, has returned; a second call does nothing.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (arena.scope().isAlive()) {
                synchronize(); // a step running on the device still reads the workspace and tables
                sequenceArrays.close();
                rotaryHost.close();
                workspace.close();
                rotaryTables.close();
                arena.close();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "GptAttentionPlugin[" + backend.name() + ", 0x" + Long.toHexString(handle.address()) + "]";
    }
}
