package dev.trtllm4j.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a one-node ONNX model as the bytes of an {@code onnx.ModelProto}, with a protobuf encoder of a
 * few dozen lines.
 *
 * <p>Why the model is built here, in test code, and not by a committed Python script: the Python
 * {@code onnx} package is not available to this project's machines or CI (only Maven Central is), and a
 * model built at test time always matches the attributes and shapes the test asks for, with no binary
 * file to keep in step. A node needs only a handful of messages, so a hand-written encoder of exactly
 * those fields is smaller than any dependency.
 *
 * <p>Field numbers, as {@code onnx/onnx.proto} defines them: ModelProto {@code ir_version = 1},
 * {@code graph = 7}, {@code opset_import = 8}; OperatorSetIdProto {@code domain = 1}, {@code version = 2};
 * GraphProto {@code node = 1}, {@code name = 2}, {@code input = 11}, {@code output = 12}; NodeProto
 * {@code input = 1}, {@code output = 2}, {@code name = 3}, {@code op_type = 4}, {@code attribute = 5},
 * {@code domain = 7}; AttributeProto {@code name = 1}, {@code f = 2}, {@code i = 3}, {@code type = 20}
 * (FLOAT 1, INT 2); ValueInfoProto {@code name = 1}, {@code type = 2}; TypeProto {@code tensor_type = 1};
 * TypeProto.Tensor {@code elem_type = 1}, {@code shape = 2}; TensorShapeProto {@code dim = 1};
 * Dimension {@code dim_value = 1}, {@code dim_param = 2}.
 */
public final class OnnxModelWriter {

    /** TensorProto.DataType codes used by the models here. */
    public static final int FLOAT = 1;
    public static final int INT32 = 6;

    private static final int IR_VERSION = 10;
    private static final int ONNX_OPSET = 21;
    private static final int WIRE_VARINT = 0;
    private static final int WIRE_FIXED32 = 5;
    private static final int WIRE_LENGTH_DELIMITED = 2;

    /** A graph input or output: its element type and its dimensions, each a number or a symbolic name. */
    public record Tensor(String name, int elementType, Object... dims) {}

    private final String opType;
    private final String domain;
    private final List<Tensor> inputs = new ArrayList<>();
    private final List<Tensor> outputs = new ArrayList<>();
    private final List<byte[]> attributes = new ArrayList<>();
    private final List<String> nodeInputs = new ArrayList<>();

    /** A model whose one node runs {@code opType} of operator set {@code domain}, version 1. */
    public OnnxModelWriter(String opType, String domain) {
        this.opType = opType;
        this.domain = domain;
    }

    /** Adds a graph input, fed to the node at the next position. */
    public OnnxModelWriter input(Tensor tensor) {
        inputs.add(tensor);
        nodeInputs.add(tensor.name());
        return this;
    }

    /** Leaves the node's next optional input out (an empty name, as ONNX marks an absent input). */
    public OnnxModelWriter absentInput() {
        nodeInputs.add("");
        return this;
    }

    /** Adds a graph output, taken from the node's next output. */
    public OnnxModelWriter output(Tensor tensor) {
        outputs.add(tensor);
        return this;
    }

    public OnnxModelWriter attribute(String name, long value) {
        Message attribute = new Message().string(1, name).varint(20, 2).varint(3, value);
        attributes.add(attribute.bytes());
        return this;
    }

    public OnnxModelWriter attribute(String name, float value) {
        Message attribute = new Message().string(1, name).varint(20, 1).fixed32(2, Float.floatToIntBits(value));
        attributes.add(attribute.bytes());
        return this;
    }

    /** The serialized ModelProto. */
    public byte[] toBytes() {
        Message node = new Message();
        nodeInputs.forEach(name -> node.string(1, name));
        outputs.forEach(tensor -> node.string(2, tensor.name()));
        node.string(3, opType).string(4, opType).string(7, domain);
        attributes.forEach(attribute -> node.message(5, attribute));

        Message graph = new Message().message(1, node.bytes()).string(2, opType.toLowerCase() + "_graph");
        inputs.forEach(tensor -> graph.message(11, valueInfo(tensor)));
        outputs.forEach(tensor -> graph.message(12, valueInfo(tensor)));

        return new Message().varint(1, IR_VERSION).message(7, graph.bytes())
                .message(8, new Message().string(1, "").varint(2, ONNX_OPSET).bytes())
                .message(8, new Message().string(1, domain).varint(2, 1).bytes()).bytes();
    }

    private static byte[] valueInfo(Tensor tensor) {
        Message shape = new Message();
        for (Object dim : tensor.dims()) {
            Message dimension = dim instanceof String param
                    ? new Message().string(2, param)
                    : new Message().varint(1, ((Number) dim).longValue());
            shape.message(1, dimension.bytes());
        }
        byte[] tensorType = new Message().varint(1, tensor.elementType()).message(2, shape.bytes()).bytes();
        byte[] type = new Message().message(1, tensorType).bytes();
        return new Message().string(1, tensor.name()).message(2, type).bytes();
    }

    /** One protobuf message being written: fields in the order they are added. */
    private static final class Message {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Message varint(int field, long value) {
            tag(field, WIRE_VARINT);
            writeVarint(value);
            return this;
        }

        Message fixed32(int field, int bits) {
            tag(field, WIRE_FIXED32);
            for (int shift = 0; shift < 32; shift += 8) {
                out.write(bits >>> shift); // little-endian
            }
            return this;
        }

        Message string(int field, String value) {
            return message(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Message message(int field, byte[] bytes) {
            tag(field, WIRE_LENGTH_DELIMITED);
            writeVarint(bytes.length);
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void tag(int field, int wireType) {
            writeVarint((long) field << 3 | wireType);
        }

        private void writeVarint(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) (value & 0x7F) | 0x80); // seven bits at a time, low first
                value >>>= 7;
            }
            out.write((int) value);
        }
    }
}
