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
import java.util.Arrays;
import java.util.List;

/**
 * Writes a trained catalogue network as an ONNX model for ONNX Runtime.
 *
 * <p>We write ONNX ourselves because DJL cannot export it: a block built in Java saves only DJL's
 * own .params format (only TorchScript models loaded into DJL can be written back, as TorchScript),
 * and DJL's ONNX Runtime engine runs models without writing them. Our networks are a plain chain
 * of {@link Layer}s, so the graph follows directly from the layer list and the trained parameters
 * of the matching DJL block (child {@code i} = layer {@code i}, as
 * {@link dev.distillery.model.DjlBlocks} builds it).
 *
 * <p>The model: ir_version 8, opset 17, input "input" float [batch, C, H, W], output "logits"
 * float [batch, classes], "batch" a symbolic dimension. Layer by layer, with DJL parameter names:
 * <ul>
 *   <li>Conv2d → Conv(X, weight (out, in, k, k), bias), kernel_shape [k, k], pads [p, p, p, p],
 *       strides [1, 1];
 *   <li>BatchNorm2d → BatchNormalization(X, gamma, beta, runningMean, runningVar), epsilon; the
 *       inference form y = gamma (x − mean) / sqrt(var + epsilon) + beta;
 *   <li>Relu → Relu; MaxPool2d → MaxPool, kernel_shape and strides [s, s]; Flatten → Flatten(axis 1);
 *   <li>Dense → Gemm(X, weight (out, in), bias), transB 1: y = x W^T + b;
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
        List<Layer> layers = network.layers();
        List<Block> children = trainedBlock.getChildren().values();
        if (children.size() != layers.size()) {
            throw new IllegalArgumentException(String.format(
                    "the block has %d children but the network has %d layers", children.size(), layers.size()));
        }
        OnnxGraphBuilder graph = new OnnxGraphBuilder(network.spec().name())
                .input(INPUT, BATCH, network.inputShape());
        String x = INPUT;
        for (int i = 0; i < layers.size(); i++) {
            x = new LayerWriter(graph, "layer" + i, layers.get(i), children.get(i)).write(x);
        }
        graph.output(x, OUTPUT, BATCH, network.classes());
        return ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setProducerName(PRODUCER)
                .setGraph(graph.build())
                .build()
                .toByteArray();
    }

    /** Writes one layer's node and initializers, all named after {@code base}. */
    private record LayerWriter(OnnxGraphBuilder graph, String base, Layer layer, Block block) {

        /** Returns the value holding the layer's output, given the one holding its input. */
        String write(String x) {
            if (layer instanceof Layer.Conv2d conv) {
                int k = conv.kernel();
                int p = conv.padding();
                return graph.node("Conv", base,
                        List.of(x, parameter("weight", conv.outChannels(), conv.inChannels(), k, k),
                                parameter("bias", conv.outChannels())),
                        intsAttribute("kernel_shape", k, k),
                        intsAttribute("pads", p, p, p, p),
                        intsAttribute("strides", 1, 1));
            } else if (layer instanceof Layer.BatchNorm2d norm) {
                int c = norm.channels();
                return graph.node("BatchNormalization", base,
                        List.of(x, parameter("gamma", c), parameter("beta", c),
                                parameter("runningMean", c), parameter("runningVar", c)),
                        floatAttribute("epsilon", norm.epsilon()));
            } else if (layer instanceof Layer.Relu) {
                return graph.node("Relu", base, List.of(x));
            } else if (layer instanceof Layer.MaxPool2d pool) {
                int s = pool.size();
                return graph.node("MaxPool", base, List.of(x),
                        intsAttribute("kernel_shape", s, s), intsAttribute("strides", s, s));
            } else if (layer instanceof Layer.Flatten) {
                return graph.node("Flatten", base, List.of(x), intAttribute("axis", 1));
            } else if (layer instanceof Layer.Dense dense) {
                return graph.node("Gemm", base,
                        List.of(x, parameter("weight", dense.outFeatures(), dense.inFeatures()),
                                parameter("bias", dense.outFeatures())),
                        intAttribute("transB", 1));
            } else if (layer instanceof Layer.Dropout) {
                return x;
            }
            throw new IllegalArgumentException("no ONNX mapping for layer " + layer);
        }

        /** Copies DJL parameter {@code name} into an initializer, checking it has {@code shape}. */
        private String parameter(String name, long... shape) {
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
