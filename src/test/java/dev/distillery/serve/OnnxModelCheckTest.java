package dev.distillery.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnx.proto.GraphProto;
import ai.onnx.proto.ModelProto;
import ai.onnx.proto.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelCheckTest {

    @TempDir
    Path dir;

    @Test
    void parametersAreTheFloatingPointInitializersValues() throws Exception {
        GraphProto graph = GraphProto.newBuilder()
                .addInitializer(TensorProto.newBuilder().setName("w").setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .addDims(4).addDims(3).setRawData(ByteString.copyFrom(new byte[48])))
                .addInitializer(TensorProto.newBuilder().setName("half").setDataType(TensorProto.DataType.FLOAT16_VALUE)
                        .addDims(5).setRawData(ByteString.copyFrom(new byte[10])))
                .addInitializer(TensorProto.newBuilder().setName("scalar").setDataType(TensorProto.DataType.DOUBLE_VALUE)
                        .setRawData(ByteString.copyFrom(new byte[8])))
                .addInitializer(TensorProto.newBuilder().setName("shape").setDataType(TensorProto.DataType.INT64_VALUE)
                        .addDims(2).addInt64Data(1).addInt64Data(-1))
                .build();
        Path file = Files.write(dir.resolve("m.onnx"), ModelProto.newBuilder().setIrVersion(8).setGraph(graph).build()
                .toByteArray());
        assertEquals(12 + 5 + 1, OnnxModelCheck.parameterCount(file), "the int64 shape constant is not a parameter");
    }

    /** ONNX's writers put dims unpacked, but a protobuf reader must take the packed form too. */
    @Test
    void packedDimsAreReadToo() throws Exception {
        ByteArrayOutputStream dims = new ByteArrayOutputStream();
        CodedOutputStream values = CodedOutputStream.newInstance(dims);
        values.writeInt64NoTag(6);
        values.writeInt64NoTag(7);
        values.flush();
        byte[] tensor = concat(field(TensorProto.DIMS_FIELD_NUMBER, dims.toByteArray()),
                varintField(TensorProto.DATA_TYPE_FIELD_NUMBER, TensorProto.DataType.FLOAT_VALUE));
        byte[] model = field(ModelProto.GRAPH_FIELD_NUMBER, field(GraphProto.INITIALIZER_FIELD_NUMBER, tensor));
        assertEquals(List.of(6L, 7L), ModelProto.parseFrom(model).getGraph().getInitializer(0).getDimsList(),
                "the bytes are a valid packed encoding");
        assertEquals(42, OnnxModelCheck.parameterCount(Files.write(dir.resolve("packed.onnx"), model)));
    }

    private static byte[] field(int number, byte[] body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeByteArray(number, body);
        out.flush();
        return bytes.toByteArray();
    }

    private static byte[] varintField(int number, int value) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeInt32(number, value);
        out.flush();
        return bytes.toByteArray();
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }
}
