package dev.distillery.serve;

import ai.onnx.proto.AttributeProto;
import ai.onnx.proto.GraphProto;
import ai.onnx.proto.ModelProto;
import ai.onnx.proto.NodeProto;
import ai.onnx.proto.OperatorSetIdProto;
import ai.onnx.proto.TensorProto;
import ai.onnx.proto.TensorShapeProto;
import ai.onnx.proto.TypeProto;
import ai.onnx.proto.ValueInfoProto;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Small ONNX models for tests, good and deliberately bad, written with the generated
 * {@code ai.onnx.proto} classes. The base is a linear classifier: input "image" [batch, C, H, W],
 * Flatten, Gemm, output "scores" [batch, classes]; a test then changes what it needs to break one
 * rule.
 */
public final class OnnxModels {

    public static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    public static final int DOUBLE = TensorProto.DataType.DOUBLE_VALUE;
    public static final int INT64 = TensorProto.DataType.INT64_VALUE;

    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private long opset = 17;

    private OnnxModels() {}

    /**
     * image [batch, c, h, w] → Flatten → "flat" → Gemm(transB) with seeded random weights → scores
     * [batch, classes]. Its parameter count is {@code classes * (c*h*w + 1)}.
     */
    public static OnnxModels classifier(long c, long h, long w, int classes) {
        OnnxModels model = new OnnxModels();
        int features = Math.toIntExact(c * h * w);
        Random random = new Random(c * 1_000_003 + h * 1009 + w * 31 + classes);
        float[] weights = new float[classes * features];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = (float) random.nextGaussian();
        }
        model.graph.addInitializer(floats("W", new long[] {classes, features}, weights));
        model.graph.addInitializer(floats("B", new long[] {classes}, new float[classes]));
        model.node("Flatten", List.of("image"), "flat", intAttribute("axis", 1));
        model.node("Gemm", List.of("flat", "W", "B"), "scores", intAttribute("transB", 1));
        model.graph.addInput(tensor("image", FLOAT, "batch", c, h, w));
        model.graph.addOutput(tensor("scores", FLOAT, "batch", (long) classes));
        return model;
    }

    /** A value of element type {@code type}; each dim is a Long (fixed) or a String (symbolic). */
    public static ValueInfoProto tensor(String name, int type, Object... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object dim : dims) {
            shape.addDim(dim instanceof String symbol
                    ? TensorShapeProto.Dimension.newBuilder().setDimParam(symbol)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) dim).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
                .build();
    }

    public static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    public static AttributeProto intsAttribute(String name, long... values) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList()).build();
    }

    /** Replaces the classifier's bias: versions with the same weights and different biases answer apart. */
    public OnnxModels bias(float... values) {
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            if (graph.getInitializer(i).getName().equals("B")) {
                graph.setInitializer(i, floats("B", new long[] {values.length}, values));
            }
        }
        return this;
    }

    /** Replaces the graph's inputs. */
    public OnnxModels inputs(ValueInfoProto... inputs) {
        graph.clearInput().addAllInput(List.of(inputs));
        return this;
    }

    /** Replaces the graph's outputs. */
    public OnnxModels outputs(ValueInfoProto... outputs) {
        graph.clearOutput().addAllOutput(List.of(outputs));
        return this;
    }

    /** Renames the value {@code from} to {@code to} wherever a node reads or writes it. */
    public OnnxModels rename(String from, String to) {
        for (NodeProto.Builder node : graph.getNodeBuilderList()) {
            for (int i = 0; i < node.getInputCount(); i++) {
                if (node.getInput(i).equals(from)) {
                    node.setInput(i, to);
                }
            }
            for (int i = 0; i < node.getOutputCount(); i++) {
                if (node.getOutput(i).equals(from)) {
                    node.setOutput(i, to);
                }
            }
        }
        return this;
    }

    /** Adds a node after the others: one that works on the classifier's output. */
    public OnnxModels node(String op, List<String> inputs, String output, AttributeProto... attributes) {
        graph.addNode(nodeProto(op, inputs, output, attributes));
        return this;
    }

    /** Adds a node before the others: one that prepares the classifier's input. */
    public OnnxModels prepend(String op, List<String> inputs, String output, AttributeProto... attributes) {
        graph.addNode(0, nodeProto(op, inputs, output, attributes));
        return this;
    }

    /** A node named uniquely, whatever values are renamed later. */
    private NodeProto nodeProto(String op, List<String> inputs, String output, AttributeProto... attributes) {
        return NodeProto.newBuilder().setOpType(op).setName("node" + graph.getNodeCount()).addAllInput(inputs)
                .addOutput(output).addAllAttribute(List.of(attributes)).build();
    }

    public OnnxModels int64Initializer(String name, long... values) {
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(INT64).addDims(values.length)
                .addAllInt64Data(Arrays.stream(values).boxed().toList()));
        return this;
    }

    public OnnxModels opset(long version) {
        this.opset = version;
        return this;
    }

    public byte[] bytes() {
        return ModelProto.newBuilder()
                .setIrVersion(opset >= 17 ? 8 : 7)
                .setProducerName("distillery-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph)
                .build()
                .toByteArray();
    }

    private static TensorProto floats(String name, long[] dims, float[] values) {
        TensorProto.Builder tensor = TensorProto.newBuilder().setName(name).setDataType(FLOAT);
        for (long dim : dims) {
            tensor.addDims(dim);
        }
        for (float value : values) {
            tensor.addFloatData(value);
        }
        return tensor.build();
    }
}
