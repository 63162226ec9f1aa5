package dev.distillery.serve;

import ai.onnx.proto.GraphProto;
import ai.onnx.proto.ModelProto;
import ai.onnx.proto.TensorProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.distillery.data.ImagePipeline;
import dev.distillery.error.DistilleryException;
import dev.distillery.store.ModelStore;
import dev.distillery.v1.ModelInfo;
import dev.distillery.v1.Preprocessing;
import dev.distillery.v1.UploadHeader;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules an uploaded ONNX model must pass before it is stored, each refusal naming the rule that
 * failed. A model is accepted when:
 * <ul>
 *   <li>the file is at most {@code distillery.store.max-upload-bytes} long (RESOURCE_EXHAUSTED
 *       otherwise, checked as the chunks arrive too);
 *   <li>ONNX Runtime loads it (any opset it supports, any input and output names);
 *   <li>it has one input, a float32 tensor of rank 4 (NCHW) whose batch dimension is dynamic or 1,
 *       with 1 (gray) or 3 (rgb) channels; channels, height and width left symbolic in the file come
 *       from {@code header.input_shape}, and where both give them they agree;
 *   <li>it has exactly one output, a float32 tensor {@code [batch, classes]} with as many classes as
 *       {@code header.labels};
 *   <li>the preprocessing fits the input: colour matches the channels, one mean and std for every
 *       channel or one per channel, a center crop fits inside the resized image (the rules are
 *       {@link ImagePipeline#of}'s);
 *   <li>it runs: one batch of zeros (2 images, or 1 when the batch is fixed at 1) gives
 *       {@code [batch, classes]} finite scores.
 * </ul>
 * Every other refusal is INVALID_ARGUMENT.
 */
public final class OnnxModelCheck {

    /** Largest height or width accepted: the batch of zeros the run check sends must fit in memory. */
    public static final long MAX_SIDE = 2048;
    private static final Set<Integer> FLOATING_POINT = Set.of(TensorProto.DataType.FLOAT_VALUE,
            TensorProto.DataType.DOUBLE_VALUE, TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE);

    private final OnnxRuntime runtime;
    private final long maxBytes;

    public OnnxModelCheck(OnnxRuntime runtime, long maxBytes) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("distillery.store.max-upload-bytes must be > 0, got " + maxBytes);
        }
        this.runtime = runtime;
        this.maxBytes = maxBytes;
    }

    /** The size rule: RESOURCE_EXHAUSTED once an upload is longer than the limit. */
    public void checkSize(long bytes) {
        if (bytes > maxBytes) {
            throw new DistilleryException(DistilleryException.Kind.RESOURCE_EXHAUSTED, String.format(
                    "upload refused: the model file reached %,d bytes, over the limit of %,d bytes "
                            + "(distillery.store.max-upload-bytes)", bytes, maxBytes));
        }
    }

    /** The rules on the header alone, so a bad header is refused before any of the file is sent. */
    public void checkHeader(UploadHeader header) {
        ModelStore.checkName(header.getName());
        if (header.getLabelsCount() == 0) {
            throw refused("header.labels is empty: list the class names, one per output score, in output order");
        }
        if (header.getInputShapeCount() != 0) {
            if (header.getInputShapeCount() != 3) {
                throw refused("header.input_shape %s must be [channels, height, width], or empty to take them from "
                        + "the file", header.getInputShapeList());
            }
            checkImageShape("header.input_shape", header.getInputShapeList().stream().mapToLong(Long::longValue).toArray());
        }
        try {
            ImagePipeline.checkPreprocessing(header.getPreprocessing());
        } catch (DistilleryException e) {
            throw refused("%s", e.getMessage());
        }
    }
    /**
     * Checks {@code file} against {@code header} and returns the model card to store: labels, input
     * shape, preprocessing with its defaults filled in, parameter count and the header's metrics.
     */
    public ModelInfo check(Path file, UploadHeader header) {
        checkHeader(header);
        long size = size(file);
        if (size == 0) {
            throw refused("the model file is empty: send the ONNX file in chunks after the header");
        }
        checkSize(size);
        long[] shape;
        Preprocessing preprocessing;
        try (OrtSession session = open(file)) {
            NodeInfo input = single("input", session.getInputInfo(), "one image input [batch, channels, height, width]");
            NodeInfo output = single("output", session.getOutputInfo(), "exactly one [batch, classes] output");
            long[] declared = floatTensor("input", input).getShape();
            if (declared.length != 4) {
                throw refused("input '%s' has rank %d %s; an NCHW input of rank 4 [batch, channels, height, width] "
                        + "is needed", input.getName(), declared.length, dims(declared));
            }
            if (declared[0] > 1 || declared[0] == 0) {
                throw refused("input '%s' fixes the batch dimension at %d; it must be dynamic or 1",
                        input.getName(), declared[0]);
            }
            shape = imageShape(input.getName(), declared, header);
            preprocessing = preprocessing(header.getPreprocessing(), shape);
            long[] scores = floatTensor("output", output).getShape();
            if (scores.length != 2) {
                throw refused("output '%s' has rank %d %s; a [batch, classes] output of rank 2 is needed",
                        output.getName(), scores.length, dims(scores));
            }
            if (scores[1] >= 0 && scores[1] != header.getLabelsCount()) {
                throw refused("output '%s' has %d classes but header.labels lists %d names; give one label per class",
                        output.getName(), scores[1], header.getLabelsCount());
            }
            run(session, input.getName(), declared[0] == 1 ? 1 : 2, shape, header.getLabelsCount());
        } catch (OrtException e) {
            throw refused("ONNX Runtime failed on the model: %s", e.getMessage());
        }
        return ModelInfo.newBuilder()
                .addAllLabels(header.getLabelsList())
                .addAllInputShape(Arrays.stream(shape).boxed().toList())
                .setPreprocessing(preprocessing)
                .setParameters(parameterCount(file))
                .putAllMetrics(header.getMetricsMap())
                .build();
    }

    private OrtSession open(Path file) {
        try {
            return runtime.open(file);
        } catch (OrtException e) {
            // ORT names the file it read: a staging file whose name means nothing to the uploader.
            throw refused("the file is not an ONNX model ONNX Runtime can load: %s",
                    String.valueOf(e.getMessage()).replace(file.toString(), "the upload"));
        }
    }

    private static NodeInfo single(String what, Map<String, NodeInfo> values, String accepted) {
        if (values.size() != 1) {
            throw refused("the model has %d %ss %s; %s is accepted", values.size(), what, values.keySet(), accepted);
        }
        return values.values().iterator().next();
    }

    private static TensorInfo floatTensor(String what, NodeInfo value) {
        if (!(value.getInfo() instanceof TensorInfo tensor)) {
            throw refused("%s '%s' is not a tensor (%s); a float32 tensor is needed", what, value.getName(), value.getInfo());
        }
        if (tensor.type != OnnxJavaType.FLOAT) {
            throw refused("%s '%s' holds %s; a float32 %s is needed", what, value.getName(), tensor.type, what);
        }
        return tensor;
    }

    /** Channels, height and width: from the file where it fixes them, else from the header. */
    private static long[] imageShape(String input, long[] declared, UploadHeader header) {
        long[] fromFile = Arrays.copyOfRange(declared, 1, 4);
        boolean open = Arrays.stream(fromFile).anyMatch(d -> d < 0);
        if (header.getInputShapeCount() == 0) {
            if (open) {
                throw refused("input '%s' leaves channels, height or width open %s: give all three in "
                        + "header.input_shape", input, dims(declared));
            }
            checkImageShape("input '" + input + "'", fromFile);
            return fromFile;
        }
        long[] fromHeader = header.getInputShapeList().stream().mapToLong(Long::longValue).toArray();
        for (int i = 0; i < 3; i++) {
            if (fromFile[i] >= 0 && fromFile[i] != fromHeader[i]) {
                throw refused("header.input_shape %s disagrees with input '%s' %s", dims(fromHeader), input,
                        dims(declared));
            }
        }
        return fromHeader;
    }

    private static void checkImageShape(String where, long[] shape) {
        if (shape[0] != 1 && shape[0] != 3) {
            throw refused("%s has %d channels; images have 1 (gray) or 3 (rgb)", where, shape[0]);
        }
        if (shape[1] < 1 || shape[1] > MAX_SIDE || shape[2] < 1 || shape[2] > MAX_SIDE) {
            throw refused("%s has height %d and width %d; each must be in [1, %d]", where, shape[1], shape[2], MAX_SIDE);
        }
    }

    /** Runs one batch of zeros and checks the scores' shape and that they are finite. */
    private void run(OrtSession session, String input, int batch, long[] image, int classes) throws OrtException {
        long[] shape = {batch, image[0], image[1], image[2]};
        // A direct buffer is zeroed when allocated and read by ORT in place.
        FloatBuffer zeros = ByteBuffer.allocateDirect(Math.toIntExact(batch * image[0] * image[1] * image[2] * Float.BYTES))
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        try (OnnxTensor tensor = OnnxTensor.createTensor(runtime.environment(), zeros, shape);
                OrtSession.Result result = session.run(Map.of(input, tensor))) {
            if (!(result.get(0) instanceof OnnxTensor scores) || scores.getInfo().type != OnnxJavaType.FLOAT) {
                throw refused("the model's output on a batch of zeros %s is not a float32 tensor", dims(shape));
            }
            long[] got = scores.getInfo().getShape();
            if (!Arrays.equals(got, new long[] {batch, classes})) {
                throw refused("on a batch of zeros %s the model returns %s; [%d, %d] is needed (one score per label)",
                        dims(shape), dims(got), batch, classes);
            }
            FloatBuffer values = scores.getFloatBuffer();
            while (values.hasRemaining()) {
                if (!Float.isFinite(values.get())) {
                    throw refused("on a batch of zeros %s the model returns NaN or infinite scores", dims(shape));
                }
            }
        } catch (OrtException e) {
            throw refused("ONNX Runtime loads the model but fails to run it on a batch of zeros %s: %s",
                    dims(shape), e.getMessage());
        }
    }

    /** The header's preprocessing with defaults: colour from the channels, one mean (0) and std (1) per channel. */
    private static Preprocessing preprocessing(Preprocessing pre, long[] shape) {
        try {
            return ImagePipeline.of(pre, (int) shape[0], (int) shape[1], (int) shape[2]).preprocessing();
        } catch (DistilleryException e) {
            throw refused("%s", e.getMessage());
        }
    }

    /**
     * The model's parameters: the values of its floating-point initializers (weights, biases), the
     * sum over them of the product of their dims. Integer initializers hold shapes, axes and indices,
     * not weights, so they are left out; this is the count PyTorch's {@code sum(p.numel())} gives for
     * an exported model. The file is scanned on the wire, skipping the tensors' data, so a large model
     * is not read into memory a second time.
     */
    static long parameterCount(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            CodedInputStream model = CodedInputStream.newInstance(in);
            long count = 0;
            for (int tag; (tag = model.readTag()) != 0; ) {
                if (is(tag, ModelProto.GRAPH_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    count += insideMessage(model, () -> initializerValues(model));
                } else {
                    model.skipField(tag);
                }
            }
            return count;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to count its parameters", e);
        }
    }

    private static long initializerValues(CodedInputStream graph) throws IOException {
        long count = 0;
        for (int tag; (tag = graph.readTag()) != 0; ) {
            if (is(tag, GraphProto.INITIALIZER_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                count += insideMessage(graph, () -> elements(graph));
            } else {
                graph.skipField(tag);
            }
        }
        return count;
    }

    /** Product of a floating-point TensorProto's dims (1 for a scalar), 0 for other types; dims may be packed or not. */
    private static long elements(CodedInputStream tensor) throws IOException {
        List<Long> dims = new ArrayList<>();
        int type = TensorProto.DataType.UNDEFINED_VALUE;
        for (int tag; (tag = tensor.readTag()) != 0; ) {
            if (is(tag, TensorProto.DATA_TYPE_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) {
                type = tensor.readInt32();
            } else if (is(tag, TensorProto.DIMS_FIELD_NUMBER, WireFormat.WIRETYPE_VARINT)) {
                dims.add(tensor.readInt64());
            } else if (is(tag, TensorProto.DIMS_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                insideMessage(tensor, () -> {
                    while (!tensor.isAtEnd()) {
                        dims.add(tensor.readInt64());
                    }
                    return 0L;
                });
            } else {
                tensor.skipField(tag);
            }
        }
        return FLOATING_POINT.contains(type) ? dims.stream().mapToLong(Long::longValue).reduce(1, Math::multiplyExact) : 0;
    }

    private interface Reader {
        long read() throws IOException;
    }

    /** Reads one length-delimited field's contents with {@code reader}. */
    private static long insideMessage(CodedInputStream in, Reader reader) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        long value = reader.read();
        in.popLimit(limit);
        return value;
    }

    private static boolean is(int tag, int field, int wireType) {
        return WireFormat.getTagFieldNumber(tag) == field && WireFormat.getTagWireType(tag) == wireType;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + file, e);
        }
    }

    private static String dims(long[] shape) {
        List<String> out = new ArrayList<>();
        for (long d : shape) {
            out.add(d < 0 ? "?" : Long.toString(d));
        }
        return out.toString();
    }

    private static DistilleryException refused(String format, Object... args) {
        return DistilleryException.invalid("upload refused: " + format, args);
    }
}
