package dev.distillery.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.onnx.proto.AttributeProto;
import ai.onnx.proto.GraphProto;
import ai.onnx.proto.ModelProto;
import ai.onnx.proto.NodeProto;
import ai.onnx.proto.TensorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.model.DjlBlocks;
import dev.distillery.model.Layer;
import dev.distillery.model.Network;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The structure of the exported model; {@link OnnxParityTest} checks what it computes. */
class OnnxExporterTest {

    private static final ArchitectureCatalogue CATALOGUE = ArchitectureCatalogue.standard();
    private static final Network NETWORK = CATALOGUE.build(
            new ArchitectureSpec("cnn", List.of(16), List.of(List.of(4)), true, 0.5f), 2, 6, 6, 3);

    @Test
    void writesOneNodePerLayerButDropout() throws InvalidProtocolBufferException {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock block = initialised(manager, NETWORK);
            ModelProto model = ModelProto.parseFrom(new OnnxExporter().export(NETWORK, block));

            assertEquals(8, model.getIrVersion());
            assertEquals("", model.getOpsetImport(0).getDomain());
            assertEquals(17, model.getOpsetImport(0).getVersion());
            assertEquals("distillery", model.getProducerName());
            GraphProto graph = model.getGraph();
            assertEquals(
                    List.of("Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"),
                    graph.getNodeList().stream().map(NodeProto::getOpType).toList());
            assertEquals(List.of("logits"), graph.getNode(graph.getNodeCount() - 1).getOutputList());
            assertEquals("logits", graph.getOutput(0).getName());

            TensorProto weight = graph.getInitializer(0);
            assertEquals("layer0.weight", weight.getName());
            assertEquals(List.of(4L, 2L, 3L, 3L), weight.getDimsList());
            FloatBuffer raw = weight.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            float[] values = new float[raw.remaining()];
            raw.get(values);
            float[] expected = block.getChildren().get(0).getValue()
                    .getDirectParameters().get("weight").getArray().toFloatArray();
            assertArrayEquals(expected, values);
        }
    }

    @Test
    void writesResidualUnitsAsTheirBranchesAndAnAdd() throws InvalidProtocolBufferException {
        Network resnet8 = CATALOGUE.build(
                new ArchitectureSpec("resnet", List.of(), List.of(), false, 0f, 8, 0.25f), 1, 8, 8, 3);
        GraphProto graph = exported(resnet8);

        // Stem, then per stage a residual unit (its Add named after the layer) and a ReLU.
        assertEquals(List.of("Conv", "BatchNormalization", "Relu"), opTypes(graph).subList(0, 3));
        assertEquals(3, opTypes(graph).stream().filter("Add"::equals).count());
        NodeProto identityAdd = node(graph, "layer3");
        assertEquals("Add", identityAdd.getOpType());
        assertEquals(List.of("layer3.body4", "layer2"), identityAdd.getInputList());
        NodeProto projectedAdd = node(graph, "layer5");
        assertEquals(List.of("layer5.body4", "layer5.shortcut1"), projectedAdd.getInputList());
        // The 1x1 projection: stride 2, no padding, no bias input.
        NodeProto shortcut = node(graph, "layer5.shortcut0");
        assertEquals(List.of("layer4", "layer5.shortcut0.weight"), shortcut.getInputList());
        assertEquals(List.of(2L, 2L), attribute(shortcut, "strides").getIntsList());
        assertEquals(List.of(0L, 0L, 0L, 0L), attribute(shortcut, "pads").getIntsList());
        assertEquals(List.of(8L, 4L, 1L, 1L), initializer(graph, "layer5.shortcut0.weight").getDimsList());
        // Global pooling is ONNX's (N, C, 1, 1), flattened to DJL's (N, C).
        assertEquals("GlobalAveragePool", node(graph, "layer9.pool").getOpType());
        assertEquals(List.of("layer9.pool"), node(graph, "layer9").getInputList());
        assertEquals("Gemm", graph.getNode(graph.getNodeCount() - 1).getOpType());
    }

    @Test
    void writesDepthwiseConvolutionsAndRelu6() throws InvalidProtocolBufferException {
        Network mobilenet = CATALOGUE.build(
                new ArchitectureSpec("mobilenetv2", List.of(), List.of(), false, 0f, 0, 0.25f), 3, 8, 8, 2);
        GraphProto graph = exported(mobilenet);

        // The first block (t = 1, 8 -> 8 channels) adds its input: layer3 is a residual unit.
        NodeProto depthwise = node(graph, "layer3.body0");
        assertEquals(8, attribute(depthwise, "group").getI());
        assertEquals(List.of(8L, 1L, 3L, 3L), initializer(graph, "layer3.body0.weight").getDimsList());
        NodeProto clip = node(graph, "layer2");
        assertEquals("Clip", clip.getOpType());
        assertEquals(List.of("layer1", "layer2.min", "layer2.max"), clip.getInputList());
        TensorProto max = initializer(graph, "layer2.max");
        assertEquals(List.of(), max.getDimsList());
        assertEquals(6f, max.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat());
        assertEquals(0f, initializer(graph, "layer2.min").getRawData().asReadOnlyByteBuffer()
                .order(ByteOrder.LITTLE_ENDIAN).getFloat());
    }

    @Test
    void rejectsTheBlockOfAnotherNetwork() {
        Network wider = CATALOGUE.build(
                new ArchitectureSpec("cnn", List.of(16), List.of(List.of(5)), true, 0.5f), 2, 6, 6, 3);
        Network mlp = CATALOGUE.build(new ArchitectureSpec("mlp", List.of(), List.of(), false, 0f), 2, 6, 6, 3);
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock widerBlock = initialised(manager, wider);
            SequentialBlock mlpBlock = initialised(manager, mlp);
            IllegalArgumentException shape = assertThrows(
                    IllegalArgumentException.class, () -> new OnnxExporter().export(NETWORK, widerBlock));
            assertTrue(shape.getMessage().contains("parameter weight has shape [5, 2, 3, 3], the layer needs [4, 2, 3, 3]"),
                    shape.getMessage());
            IllegalArgumentException count = assertThrows(
                    IllegalArgumentException.class, () -> new OnnxExporter().export(NETWORK, mlpBlock));
            assertTrue(count.getMessage().contains("the block has 2 children but the network has 9 layers"),
                    count.getMessage());
        }
    }

    @Test
    void namesTheResidualBranchThatDoesNotMatch() {
        ArchitectureSpec spec = new ArchitectureSpec("resnet", List.of(), List.of(), false, 0f, 8, 0f);
        Layer.Conv2d conv = new Layer.Conv2d(2, 2, 3, 1, 1, 1, false);
        Network oneConv = new Network(spec, 2, 4, 4, 32, List.of(
                new Layer.Residual(List.of(conv), List.of()), new Layer.Flatten()));
        Network twoConvs = new Network(spec, 2, 4, 4, 32, List.of(
                new Layer.Residual(List.of(conv, conv), List.of()), new Layer.Flatten()));
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock block = initialised(manager, twoConvs);
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> new OnnxExporter().export(oneConv, block));
            assertTrue(e.getMessage().contains("the block has 2 children but layer0's body has 1 layers"),
                    e.getMessage());
        }
    }

    private static GraphProto exported(Network network) throws InvalidProtocolBufferException {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock block = initialised(manager, network);
            return ModelProto.parseFrom(new OnnxExporter().export(network, block)).getGraph();
        }
    }

    private static List<String> opTypes(GraphProto graph) {
        return graph.getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    private static NodeProto node(GraphProto graph, String name) {
        return graph.getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError("no node " + name));
    }

    private static TensorProto initializer(GraphProto graph, String name) {
        return graph.getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError("no initializer " + name));
    }

    private static AttributeProto attribute(NodeProto node, String name) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().orElseThrow(
                () -> new AssertionError(node.getName() + " has no attribute " + name));
    }

    private static SequentialBlock initialised(NDManager manager, Network network) {
        SequentialBlock block = DjlBlocks.toBlock(network);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, network.channels(), network.height(), network.width()));
        return block;
    }
}
