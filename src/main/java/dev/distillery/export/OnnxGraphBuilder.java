package dev.distillery.export;

import ai.onnx.proto.AttributeProto;
import ai.onnx.proto.GraphProto;
import ai.onnx.proto.NodeProto;
import ai.onnx.proto.TensorProto;
import ai.onnx.proto.TensorShapeProto;
import ai.onnx.proto.TypeProto;
import ai.onnx.proto.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A small fluent writer of float32 ONNX graphs over the generated {@code ai.onnx.proto} classes.
 * Every value, node and initializer gets a name unique in the graph (a taken name gets a "_2",
 * "_3", ... suffix). Inputs and outputs have a symbolic first (batch) dimension; initializers are
 * stored as little-endian IEEE 754 floats in {@code raw_data}, as the format requires.
 */
public final class OnnxGraphBuilder {

    private final GraphProto.Builder graph;
    private final Set<String> names = new HashSet<>();

    public OnnxGraphBuilder(String graphName) {
        graph = GraphProto.newBuilder().setName(graphName);
    }

    /** Declares a float graph input of shape [batchDim, dims...] named exactly {@code name}. */
    public OnnxGraphBuilder input(String name, String batchDim, long... dims) {
        graph.addInput(floatValue(reserve(name), batchDim, dims));
        return this;
    }

    /**
     * Declares the value {@code value} a float graph output of shape [batchDim, dims...] named
     * exactly {@code name}. A different name renames the value where its node produces it, so the value
     * must be final: no node may read it.
     */
    public OnnxGraphBuilder output(String value, String name, String batchDim, long... dims) {
        if (!value.equals(name)) {
            if (graph.getNodeList().stream().anyMatch(node -> node.getInputList().contains(value))) {
                throw new IllegalArgumentException("cannot rename " + value + ": other nodes read it");
            }
            NodeProto.Builder producer = graph.getNodeBuilderList().stream()
                    .filter(node -> node.getOutputList().contains(value))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no node produces " + value));
            producer.setOutput(producer.getOutputList().indexOf(value), reserve(name));
        }
        graph.addOutput(floatValue(name, batchDim, dims));
        return this;
    }

    /**
     * Adds a constant float tensor of shape {@code dims} (row-major {@code values}) and returns its
     * unique name, derived from {@code name}.
     */
    public String initializer(String name, long[] dims, float[] values) {
        long elements = Arrays.stream(dims).reduce(1, Math::multiplyExact);
        if (elements != values.length) {
            throw new IllegalArgumentException(String.format(
                    "%s: shape %s holds %d floats, got %d", name, Arrays.toString(dims), elements, values.length));
        }
        ByteBuffer bytes = ByteBuffer.allocate(Float.BYTES * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        String unique = claim(name);
        graph.addInitializer(TensorProto.newBuilder()
                .setName(unique)
                .setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(Arrays.stream(dims).boxed().toList())
                .setRawData(ByteString.copyFrom(bytes)));
        return unique;
    }

    /**
     * Adds a node of the standard operator set with one output; the node and its output are both
     * named after {@code name} (made unique). Returns the output's name.
     */
    public String node(String opType, String name, List<String> inputs, AttributeProto... attributes) {
        String unique = claim(name);
        graph.addNode(NodeProto.newBuilder()
                .setOpType(opType)
                .setName(unique)
                .addAllInput(inputs)
                .addOutput(unique)
                .addAllAttribute(List.of(attributes)));
        return unique;
    }

    /** The graph as built so far. */
    public GraphProto build() {
        return graph.build();
    }

    /** An INT attribute. */
    public static AttributeProto intAttribute(String name, long value) {
        return attribute(name, AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** An INTS attribute, e.g. kernel_shape or pads. */
    public static AttributeProto intsAttribute(String name, long... values) {
        return attribute(name, AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList())
                .build();
    }

    /** A FLOAT attribute. */
    public static AttributeProto floatAttribute(String name, float value) {
        return attribute(name, AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static AttributeProto.Builder attribute(String name, AttributeProto.AttributeType type) {
        return AttributeProto.newBuilder().setName(name).setType(type);
    }

    /** Takes {@code name} as it is: graph inputs and outputs are addressed by their exact names. */
    private String reserve(String name) {
        if (!names.add(name)) {
            throw new IllegalArgumentException(name + " already names a value in the graph");
        }
        return name;
    }

    /** Takes {@code name}, or {@code name_2}, {@code name_3}, ... if it is taken. */
    private String claim(String name) {
        String unique = name;
        for (int n = 2; !names.add(unique); n++) {
            unique = name + "_" + n;
        }
        return unique;
    }

    private static ValueInfoProto floatValue(String name, String batchDim, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batchDim));
        for (long dim : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
        }
        return ValueInfoProto.newBuilder()
                .setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(shape)))
                .build();
    }
}
