package dev.distillery.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.onnx.proto.GraphProto;
import ai.onnx.proto.ModelProto;
import ai.onnx.proto.NodeProto;
import ai.onnx.proto.TensorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.distillery.model.ArchitectureCatalogue;
import dev.distillery.model.ArchitectureSpec;
import dev.distillery.model.DjlBlocks;
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

    private static SequentialBlock initialised(NDManager manager, Network network) {
        SequentialBlock block = DjlBlocks.toBlock(network);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, network.channels(), network.height(), network.width()));
        return block;
    }
}
