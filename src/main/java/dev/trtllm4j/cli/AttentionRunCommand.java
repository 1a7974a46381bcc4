package dev.trtllm4j.cli;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.BackendMemory;
import dev.trtllm4j.runtime.BackendNotFoundException;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.runtime.NativeException;
import dev.trtllm4j.runtime.RequestType;
import dev.trtllm4j.safetensors.SafeTensor;
import dev.trtllm4j.safetensors.Safetensors;
import dev.trtllm4j.safetensors.SafetensorsDtype;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code trtllm4j attention run}: one attention step from safetensors to safetensors. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = {
            "Runs one attention step: reads the step's tensors from --input, writes context and the updated"
                    + " kv_cache to --output.",
            "--config is a plugin-field file (keys = TensorRT-LLM's field names, enum values by name, e.g."
                    + " {\"num_heads\": 8, \"num_kv_heads\": 2, \"head_size\": 64, \"max_context_length\": 16,"
                    + " \"position_embedding_type\": \"rope_gpt_neox\", \"rotary_embedding_dim\": 64,"
                    + " \"type_id\": \"float32\"}), or a checkpoint config with --layer; a checkpoint runs with"
                    + " trtllm-build's defaults and the contiguous KV cache of the input unless --build-config is given.",
            "Input tensors: qkv [num_tokens, (num_heads + 2*num_kv_heads)*head_size] and kv_cache"
                    + " [batch, 2, num_kv_heads, max_seq_len, head_size] in type_id (F32, F16, BF16);"
                    + " input_lengths, past_lengths, host_request_types (0 context, 1 generation) I32 [batch];"
                    + " optional rotary_inv_freq F32 [rotary_dim/2] with rotary_cos_sin F32"
                    + " [positions, rotary_dim/2, 2] (used as given), max_attention_window and sink_token_length I32 [1].",
            "Output tensors: context [num_tokens, num_heads*head_size] and kv_cache, in type_id.",
            "--backend tensorrt runs the step through a TensorRT engine: built for --config (or read from the engine"
                    + " cache), or the engine file of `trtllm4j engine build` given with --engine in place of --config"
                    + " (RoPE tables then come from the engine's fields with TensorRT-LLM's default scaling parameters,"
                    + " unless the input holds rotary_inv_freq and rotary_cos_sin).",
            "",
            "Examples:",
            "  trtllm4j attention run --config fields.json --input step.safetensors --output out.safetensors",
            "  trtllm4j attention run --config llama-ckpt/config.json --layer 3 --input step.safetensors --output out.safetensors --backend cpu",
            "  trtllm4j attention run --backend tensorrt --engine layer3.engine --input step.safetensors --output out.safetensors"
        })
final class AttentionRunCommand implements Callable<Integer> {

    static final String QKV = "qkv";
    static final String KV_CACHE = "kv_cache";
    static final String CONTEXT = "context";
    static final String INPUT_LENGTHS = "input_lengths";
    static final String PAST_LENGTHS = "past_lengths";
    static final String HOST_REQUEST_TYPES = "host_request_types";
    static final String ROTARY_INV_FREQ = "rotary_inv_freq";
    static final String ROTARY_COS_SIN = "rotary_cos_sin";
    static final String MAX_ATTENTION_WINDOW = "max_attention_window";
    static final String SINK_TOKEN_LENGTH = "sink_token_length";

    private static final List<String> INPUTS = List.of(QKV, KV_CACHE, INPUT_LENGTHS, PAST_LENGTHS, HOST_REQUEST_TYPES,
            ROTARY_INV_FREQ, ROTARY_COS_SIN, MAX_ATTENTION_WINDOW, SINK_TOKEN_LENGTH);

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Plugin-field file, or TensorRT-LLM checkpoint config.json (or --engine).")
    private Path configFile;

    @Option(names = "--engine", paramLabel = "FILE.engine",
            description = "With --backend tensorrt: an engine file of `trtllm4j engine build`, in place of --config.")
    private Path engine;

    @Option(names = "--input", required = true, paramLabel = "IN.safetensors", description = "The step's tensors.")
    private Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT.safetensors",
            description = "Where to write context and kv_cache.")
    private Path output;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "Backend to run on (default: ${DEFAULT-VALUE}).")
    private String backendName;

    @Mixin
    private LayerOptions layerOptions;

    @Mixin
    private TensorRtOptionsMixin tensorRt;

    @Override
    public Integer call() {
        boolean onTensorRt = backendName.equals("tensorrt");
        if ((configFile == null) == (engine == null)) {
            throw new IllegalArgumentException("give one of --config (the layer's fields) and --engine (an engine file"
                    + " that holds them)");
        }
        if (engine != null && !onTensorRt) {
            throw new IllegalArgumentException("--engine " + engine + ": engine files run on --backend tensorrt, not "
                    + backendName);
        }
        if (tensorRt.given() && !onTensorRt) {
            throw new IllegalArgumentException("--plugin-library, --plugin-namespace, --engine-cache and --max-*"
                    + " are options of --backend tensorrt, not " + backendName);
        }
        GptAttentionConfig config = configFile == null ? null : layerOptions.load(configFile);
        SafetensorsFile in;
        try {
            in = Safetensors.read(input);
        } catch (IOException e) {
            throw BadInput.file(input, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(input + ": " + e.getMessage(), e);
        }
        for (String name : in.tensors().keySet()) {
            if (!INPUTS.contains(name)) {
                throw new IllegalArgumentException(input + ": unknown tensor '" + name + "'; inputs are " + INPUTS);
            }
        }
        SafetensorsFile out;
        try {
            Backend backend = open(backendName, onTensorRt ? tensorRt : null);
            try (GptAttentionPlugin plugin = engine != null ? backend.openEngine(engine) : backend.createPlugin(config)) {
                out = run(backend, plugin, new Inputs(input, in));
            }
        } catch (NativeException e) {
            throw BadInput.rejected(e);
        }
        try {
            Safetensors.write(output, out);
        } catch (IOException e) {
            throw BadInput.file(output, e);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf("wrote %s: context %s, kv_cache %s (%s)%n", output,
                Arrays.toString(out.tensor(CONTEXT).shape()), Arrays.toString(out.tensor(KV_CACHE).shape()),
                out.tensor(CONTEXT).dtype());
        return 0;
    }

    /**
     * A backend by name, the tensorrt backend with the given options; a backend that is missing or
     * cannot run here is bad input.
     */
    static Backend open(String name, TensorRtOptionsMixin tensorRt) {
        try {
            return tensorRt != null ? tensorRt.open() : Backend.open(name);
        } catch (BackendNotFoundException e) {
            throw BadInput.backend(e, name);
        } catch (NativeException e) {
            throw BadInput.rejected(e); // cannot run here: what it looked for is the message
        }
    }

    private static SafetensorsFile run(Backend backend, GptAttentionPlugin plugin, Inputs in) {
        GptAttentionConfig config = plugin.config();
        DataType type = config.typeId();
        SafetensorsDtype storage = storageOf(type);
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headSize();

        int[] inputLengths = in.ints(INPUT_LENGTHS, -1);
        int batch = inputLengths.length;
        int[] pastLengths = in.ints(PAST_LENGTHS, batch);
        int[] requestTypes = in.ints(HOST_REQUEST_TYPES, batch);
        long tokens = 0;
        for (int length : inputLengths) {
            tokens += length;
        }
        SafeTensor qkv = in.tensor(QKV, storage, tokens, (long) (heads + 2 * kvHeads) * d);
        SafeTensor kvCache = in.tensor(KV_CACHE, storage, batch, 2, kvHeads, -1, d);

        AttentionStep.Builder step = AttentionStep.builder();
        for (int b = 0; b < batch; b++) {
            step.sequence(requestType(in, b, requestTypes[b]), inputLengths[b], pastLengths[b]);
        }
        if (in.has(MAX_ATTENTION_WINDOW) || in.has(SINK_TOKEN_LENGTH)) {
            int window = in.has(MAX_ATTENTION_WINDOW) ? in.ints(MAX_ATTENTION_WINDOW, 1)[0] : AttentionStep.NO_WINDOW;
            int sinks = in.has(SINK_TOKEN_LENGTH) ? in.ints(SINK_TOKEN_LENGTH, 1)[0] : 0;
            step.attentionWindow(window, sinks);
        }
        // Host files in, host files out: the tensors go to the backend's memory and back.
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory cache = backend.upload(arena, toNative(arena, kvCache));
            BackendMemory context = backend.allocate(arena, type, tokens * heads * d);
            step.qkv(backend.upload(arena, toNative(arena, qkv))).kvCache(cache).context(context);
            if (in.has(ROTARY_INV_FREQ) || in.has(ROTARY_COS_SIN)) {
                int half = config.rotaryEmbeddingDim() / 2;
                SafeTensor invFreq = in.tensor(ROTARY_INV_FREQ, SafetensorsDtype.F32, half);
                SafeTensor cosSin = in.tensor(ROTARY_COS_SIN, SafetensorsDtype.F32, -1, half, 2);
                step.rotaryTables(backend.upload(arena, toNative(arena, invFreq)),
                        backend.upload(arena, toNative(arena, cosSin)));
            }
            plugin.enqueue(step.build());
            Map<String, SafeTensor> outputs = new LinkedHashMap<>();
            outputs.put(CONTEXT, SafeTensor.of(storage, new long[] {tokens, (long) heads * d}, download(arena, context)));
            outputs.put(KV_CACHE, SafeTensor.of(storage, kvCache.shape(), download(arena, cache)));
            return new SafetensorsFile(outputs, Map.of());
        }
    }

    private static byte[] download(Arena arena, BackendMemory memory) {
        MemorySegment host = arena.allocate(memory.byteSize());
        memory.copyTo(host);
        return host.toArray(ValueLayout.JAVA_BYTE);
    }

    private static RequestType requestType(Inputs in, int b, int code) {
        for (RequestType type : RequestType.values()) {
            if (type.code() == code) {
                return type;
            }
        }
        throw new IllegalArgumentException(in.path + ": " + HOST_REQUEST_TYPES + "[" + b + "] = " + code
                + ": must be 0 (context) or 1 (generation)");
    }

    /** Safetensors data is little-endian, as native memory is on the platforms the backends run on. */
    private static MemorySegment toNative(Arena arena, SafeTensor tensor) {
        MemorySegment segment = arena.allocate(Math.max(tensor.byteSize(), 1), 64).asSlice(0, tensor.byteSize());
        MemorySegment.copy(tensor.data(), 0, segment, ValueLayout.JAVA_BYTE, 0, tensor.byteSize());
        return segment;
    }

    static SafetensorsDtype storageOf(DataType type) {
        return switch (type) {
            case FLOAT32 -> SafetensorsDtype.F32;
            case FLOAT16 -> SafetensorsDtype.F16;
            case BFLOAT16 -> SafetensorsDtype.BF16;
        };
    }

    /** The input file's tensors, checked by name, dtype and shape, with errors naming the tensor. */
    private record Inputs(Path path, SafetensorsFile file) {

        boolean has(String name) {
            return file.tensors().containsKey(name);
        }

        /**
         * A tensor of this dtype and shape; an extent of -1 takes any size.
         */
        SafeTensor tensor(String name, SafetensorsDtype dtype, long... shape) {
            SafeTensor tensor = file.tensors().get(name);
            if (tensor == null) {
                throw new IllegalArgumentException(path + ": missing tensor '" + name + "'");
            }
            if (tensor.dtype() != dtype) {
                throw new IllegalArgumentException(path + ": tensor '" + name + "' is " + tensor.dtype()
                        + ", expected " + dtype);
            }
            long[] actual = tensor.shape();
            boolean matches = actual.length == shape.length;
            for (int i = 0; matches && i < shape.length; i++) {
                matches = shape[i] < 0 || shape[i] == actual[i];
            }
            if (!matches) {
                throw new IllegalArgumentException(path + ": tensor '" + name + "' has shape " + Arrays.toString(actual)
                        + ", expected " + Arrays.toString(shape).replace("-1", "any"));
            }
            return tensor;
        }

        int[] ints(String name, int length) {
            return tensor(name, SafetensorsDtype.I32, length).toIntArray();
        }
    }
}
