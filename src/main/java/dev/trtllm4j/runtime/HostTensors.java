package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host-memory tensors in the plugin's storage types: float arrays in and out of native memory as
 * float32, float16 (IEEE half) or bfloat16, rounding to nearest even as the backends do.
 */
public final class HostTensors {

    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT;

    private HostTensors() {}

    /** A native tensor of {@code values.length} elements of {@code type}, filled with values rounded to it. */
    public static MemorySegment allocate(Arena arena, DataType type, float[] values) {
        MemorySegment tensor = arena.allocate((long) values.length * type.byteSize(), 64);
        write(tensor, type, values);
        return tensor;
    }

    /** A zeroed native tensor of {@code elements} elements of {@code type}. */
    public static MemorySegment zeros(Arena arena, DataType type, long elements) {
        return arena.allocate(elements * type.byteSize(), 64);
    }

    /** Writes values into a tensor of {@code type}, rounding each to it. */
    public static void write(MemorySegment tensor, DataType type, float[] values) {
        for (int i = 0; i < values.length; i++) {
            switch (type) {
                case FLOAT32 -> tensor.setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
                case FLOAT16 -> tensor.setAtIndex(HALF, i, Float.floatToFloat16(values[i]));
                case BFLOAT16 -> tensor.setAtIndex(HALF, i, toBfloat16(values[i]));
            }
        }
    }

    /** A tensor's elements as floats. */
    public static float[] read(MemorySegment tensor, DataType type) {
        float[] values = new float[(int) (tensor.byteSize() / type.byteSize())];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (type) {
                case FLOAT32 -> tensor.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                case FLOAT16 -> Float.float16ToFloat(tensor.getAtIndex(HALF, i));
                case BFLOAT16 -> fromBfloat16(tensor.getAtIndex(HALF, i));
            };
        }
        return values;
    }

    /** The float nearest to {@code value} that {@code type} can hold. */
    public static float round(float value, DataType type) {
        return switch (type) {
            case FLOAT32 -> value;
            case FLOAT16 -> Float.float16ToFloat(Float.floatToFloat16(value));
            case BFLOAT16 -> fromBfloat16(toBfloat16(value));
        };
    }

    private static short toBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        bits += 0x7fff + ((bits >>> 16) & 1); // round to nearest even
        return (short) (bits >>> 16);
    }

    private static float fromBfloat16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
