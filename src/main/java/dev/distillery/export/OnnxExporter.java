package dev.distillery.export;

import static dev.distillery.export.OnnxGraphBuilder.floatAttribute;
import static dev.distillery.export.OnnxGraphBuilder.intAttribute;
import static dev.distillery.export.OnnxGraphBuilder.intsAttribute;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.onnx.proto.ModelProto;
import ai.onnx.proto.OperatorSetIdProto;
import dev.distillery.model.Layer;
import dev.distillery.model.Network;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes a trained catalogue network as an ONNX model for ONNX Runtime.
 *
 * <p>We write ONNX ourselves because DJL cannot export it: a block built in Java saves only DJL's
 * own .params format (only TorchScript models loaded into DJL can be written back, as TorchScript),
 * and DJL's ONNX Runtime engine runs models without writing them. The graph follows the network's
 * {@link Layer}s and takes the trained parameters from the matching DJL block, as
 * {@link dev.distillery.model.DjlBlocks} builds it: in a chain of layers child {@code i} of the
 * block is layer {@code i}; a residual unit's block has the body's chain as child 0 and the
 * shortcut's as child 1. Nodes are named after their place: "layer3", "layer3.body0".
 *
 * <p>The model: ir_version 8, opset 17, input "input" float [batch, C, H, W], output "logits"
 * float [batch, classes], "batch" a symbolic dimension. Layer by layer, with DJL parameter names:
 * <ul>
 *   <li>Conv2d → Conv(X, weight (out, in / groups, k, k)[, bias]), kernel_shape [k, k], pads
 *       [p, p, p, p], strides [s, s], group;
 *   <li>BatchNorm2d → BatchNormalization(X, gamma, beta, runningMean, runningVar), epsilon; the
 *       inference form y = gamma (x − mean) / sqrt(var + epsilon) + beta;
 *   <li>Relu → Relu; Relu6 → Clip(X, 0, 6), the bounds as scalar initializers (opset 11 and later);
 *   <li>MaxPool2d → MaxPool, kernel_shape and strides [s, s]; GlobalAvgPool → GlobalAveragePool,
 *       then Flatten(axis 1), since DJL's global pool gives (N, C) and ONNX's (N, C, 1, 1);
 *   <li>Flatten → Flatten(axis 1); Dense → Gemm(X, weight (out, in), bias), transB 1: y = x W^T + b;
 *   <li>Residual → its body's nodes and its shortcut's (none for the identity), then Add;
 *   <li>Dropout → no node: it is the identity at inference.
 * </ul>
 */
public final class OnnxExporter {

    static final long IR_VERSION = 8;
    static final long OPSET = 17;
    static final String PRODUCER = "distillery";
    static final String INPUT = "input";
    static final String OUTPUT = "logits";
    static final String BATCH = "batch";

    /**
     * Serialises {@code network} with the parameters of {@code trainedBlock}, the block
     * {@code DjlBlocks.toBlock(network)} returned, initialised and trained.
     *
     * @throws IllegalArgumentException when the block does not match the network
     */
    public byte[] export(Network network, Block trainedBlock) {
        OnnxGraphBuilder graph = new OnnxGraphBuilder(network.spec().name())
                .input(INPUT, BATCH, network.inputShape());
        String logits = chain(graph, "layer", "the network", network.layers(), trainedBlock, INPUT);
        graph.output(logits, OUTPUT, BATCH, network.classes());
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName(PRODUCER)
                .setGraph(graph.build())
                .build()
                .toByteArray();
    }

    /**
     * Writes {@code layers} applied in order to the value {@code x}, layer {@code i} with child
     * {@code i} of {@code block} and nodes named {@code base + i}; returns the value of the output.
     */
    private static String chain(
            OnnxGraphBuilder graph, String base, String what, List<Layer> layers, Block block, String x) {
        List<Block> children = block.getChildren().values();
        if (children.size() != layers.size()) {
            throw new IllegalArgumentException(String.format(
                    "the block has %d children but %s has %d layers", children.size(), what, layers.size()));
        }
        String value = x;
        for (int i = 0; i < layers.size(); i++) {
            value = layers.get(i).accept(new LayerWriter(graph, base + i, children.get(i), value));
        }
        return value;
    }

    /**
     * Writes one layer, reading the value {@code x}, with nodes and initializers named after
     * {@code base}; each visit returns the value holding the layer's output.
     */
    private record LayerWriter(OnnxGraphBuilder graph, String base, Block block, String x)
            implements Layer.Visitor<String> {

        @Override
        public String visit(Layer.Conv2d conv) {
            int k = conv.kernel();
            int p = conv.padding();
            int s = conv.stride();
            List<String> inputs = new ArrayList<>(List.of(x,
                    parameter(conv, "weight", conv.outChannels(), conv.inChannels() / conv.groups(), k, k)));
            if (conv.bias()) {
                inputs.add(parameter(conv, "bias", conv.outChannels()));
            }
            return graph.node("Conv", base, inputs,
                    intsAttribute("kernel_shape", k, k),
                    intsAttribute("pads", p, p, p, p),
                    intsAttribute("strides", s, s),
                    intAttribute("group", conv.groups()));
        }

        @Override
        public String visit(Layer.BatchNorm2d norm) {
            int c = norm.channels();
            return graph.node("BatchNormalization", base,
                    List.of(x, parameter(norm, "gamma", c), parameter(norm, "beta", c),
                            parameter(norm, "runningMean", c), parameter(norm, "runningVar", c)),
                    floatAttribute("epsilon", norm.epsilon()));
        }

        @Override
        public String visit(Layer.Relu relu) {
            return graph.node("Relu", base, List.of(x));
        }

        @Override
        public String visit(Layer.Relu6 relu6) {
            String min = graph.initializer(base + ".min", new long[0], new float[] {0});
            String max = graph.initializer(base + ".max", new long[0], new float[] {6});
            return graph.node("Clip", base, List.of(x, min, max));
        }

        @Override
        public String visit(Layer.MaxPool2d pool) {
            int s = pool.size();
            return graph.node("MaxPool", base, List.of(x),
                    intsAttribute("kernel_shape", s, s), intsAttribute("strides", s, s));
        }

        @Override
        public String visit(Layer.GlobalAvgPool pool) {
            String pooled = graph.node("GlobalAveragePool", base + ".pool", List.of(x));
            return graph.node("Flatten", base, List.of(pooled), intAttribute("axis", 1));
        }

        @Override
        public String visit(Layer.Flatten flatten) {
            return graph.node("Flatten", base, List.of(x), intAttribute("axis", 1));
        }

        @Override
        public String visit(Layer.Dense dense) {
            return graph.node("Gemm", base,
                    List.of(x, parameter(dense, "weight", dense.outFeatures(), dense.inFeatures()),
                            parameter(dense, "bias", dense.outFeatures())),
                    intAttribute("transB", 1));
        }

        @Override
        public String visit(Layer.Dropout dropout) {
            return x;
        }

        @Override
        public String visit(Layer.Residual residual) {
            List<Block> branches = block.getChildren().values();
            if (branches.size() != 2) {
                throw new IllegalArgumentException(String.format(
                        "%s: a residual unit's block has 2 children (body, shortcut), %s has %d",
                        base, block, branches.size()));
            }
            String body = chain(graph, base + ".body", base + "'s body", residual.body(), branches.get(0), x);
            String shortcut = residual.shortcut().isEmpty()
                    ? x
                    : chain(graph, base + ".shortcut", base + "'s shortcut", residual.shortcut(), branches.get(1), x);
            return graph.node("Add", base, List.of(body, shortcut));
        }

        /** Copies DJL parameter {@code name} into an initializer, checking it has {@code shape}. */
        private String parameter(Layer layer, String name, long... shape) {
            Parameter parameter = block.getDirectParameters().get(name);
            if (parameter == null) {
                throw new IllegalArgumentException(String.format(
                        "%s (%s): the block %s has no parameter \"%s\"", base, layer, block, name));
            }
            NDArray array = parameter.getArray();
            long[] actual = array.getShape().getShape();
            if (!Arrays.equals(actual, shape)) {
                throw new IllegalArgumentException(String.format(
                        "%s (%s): parameter %s has shape %s, the layer needs %s",
                        base, layer, name, Arrays.toString(actual), Arrays.toString(shape)));
            }
            return graph.initializer(base + "." + name, shape, array.toFloatArray());
        }
    }
}
