package dev.trtllm4j.safetensors;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its element type, its shape and its bytes, row-major and
 * little-endian as the format stores them. Instances are immutable; accessors return copies.
 */
public final class SafeTensor {

    private final SafetensorsDtype dtype;
    private final long[] shape;
    private final byte[] data;

    private SafeTensor(SafetensorsDtype dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long elements = elementCount(this.shape);
        if (elements * dtype.byteSize() != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype + " needs "
                    + elements * dtype.byteSize() + " bytes, got " + data.length);
        }
        this.data = data;
    }

    /**
     * A tensor from its little-endian bytes.
     *
     * @throws IllegalArgumentException when the byte count does not match the shape
     */
    public static SafeTensor of(SafetensorsDtype dtype, long[] shape, byte[] data) {
        return new SafeTensor(dtype, shape, data.clone());
    }

    /**
     * A floating-point tensor holding {@code values} rounded to {@code dtype} (to nearest, ties to
     * even, as the backends round).
     *
     * @throws IllegalArgumentException when dtype is I32 or the count does not match the shape
     */
    public static SafeTensor ofFloats(SafetensorsDtype dtype, long[] shape, float[] values) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("ofFloats needs F32, F16 or BF16, got " + dtype);
        }
        ByteBuffer bytes = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            switch (dtype) {
                case F32 -> bytes.putFloat(value);
                case F16 -> bytes.putShort(Float.floatToFloat16(value));
                case BF16 -> bytes.putShort(toBfloat16(value));
                case I32 -> throw new AssertionError(dtype);
            }
        }
        return new SafeTensor(dtype, shape, bytes.array());
    }

    /**
     * An I32 tensor.
     *
     * @throws IllegalArgumentException when the count does not match the shape
     */
    public static SafeTensor ofInts(long[] shape, int[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int value : values) {
            bytes.putInt(value);
        }
        return new SafeTensor(SafetensorsDtype.I32, shape, bytes.array());
    }

    /** The element type. */
    public SafetensorsDtype dtype() {
        return dtype;
    }

    /** The shape; empty for a scalar. */
    public long[] shape() {
        return shape.clone();
    }

    /** The number of elements: the product of the shape. */
    public long elementCount() {
        return elementCount(shape);
    }

    /** The little-endian bytes. */
    public byte[] data() {
        return data.clone();
    }

    /** The byte count, without copying. */
    public int byteSize() {
        return data.length;
    }

    /**
     * The elements of a floating-point tensor as floats (exact: every F16 and BF16 value is a float).
     *
     * @throws IllegalArgumentException for an I32 tensor
     */
    public float[] toFloatArray() {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("an I32 tensor has no float values; use toIntArray()");
        }
        ByteBuffer bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[data.length / dtype.byteSize()];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (dtype) {
                case F32 -> bytes.getFloat();
                case F16 -> Float.float16ToFloat(bytes.getShort());
                case BF16 -> Float.intBitsToFloat((bytes.getShort() & 0xffff) << 16);
                case I32 -> throw new AssertionError(dtype);
            };
        }
        return values;
    }

    /**
     * The elements of an I32 tensor.
     *
     * @throws IllegalArgumentException for a floating-point tensor
     */
    public int[] toIntArray() {
        if (dtype != SafetensorsDtype.I32) {
            throw new IllegalArgumentException("a " + dtype + " tensor has no int values; use toFloatArray()");
        }
        ByteBuffer bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int[] values = new int[data.length / Integer.BYTES];
        for (int i = 0; i < values.length; i++) {
            values[i] = bytes.getInt();
        }
        return values;
    }

    /** Whether dtype, shape and bytes are equal. */
    @Override
    public boolean equals(Object other) {
        return other instanceof SafeTensor that && dtype == that.dtype && Arrays.equals(shape, that.shape)
                && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "SafeTensor[" + dtype + " " + Arrays.toString(shape) + "]";
    }

    static long elementCount(long[] shape) {
        long elements = 1;
        for (long extent : shape) {
            if (extent < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative extent");
            }
            elements = Math.multiplyExact(elements, extent);
        }
        return elements;
    }

    /** Rounds to nearest, ties to even; NaN stays a quiet NaN. */
    private static short toBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        bits += 0x7fff + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }
}
