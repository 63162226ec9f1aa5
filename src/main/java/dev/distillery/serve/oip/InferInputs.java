package dev.distillery.serve.oip;

import static dev.distillery.serve.oip.ModelSignature.BYTES;
import static dev.distillery.serve.oip.ModelSignature.FP32;
import static dev.distillery.serve.oip.ModelSignature.IMAGE;
import static dev.distillery.serve.oip.ModelSignature.INPUT;

import com.google.protobuf.ByteString;
import dev.distillery.error.DistilleryException;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.inference.ModelInferRequest.InferInputTensor;
import dev.distillery.serve.ModelInput;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A ModelInfer request's input tensor as the inputs {@code Predictor} classifies: each row of an
 * {@value ModelSignature#INPUT} tensor becomes a {@link ModelInput.Tensor} of shape {@code [C, H, W]}, each
 * element of an {@value ModelSignature#IMAGE} tensor a {@link ModelInput.Image}. This class owns the
 * protocol's rules (which tensor, data type, rank, element count, contents or raw contents); whether a row
 * fits the model is {@code Predictor}'s rule.
 */
final class InferInputs {

    private static final String ACCEPTED = "'" + INPUT + "' (FP32, [batch, channels, height, width]) or '" + IMAGE
            + "' (BYTES, [batch], encoded images)";

    private InferInputs() {}

    static List<ModelInput> of(ModelInferRequest request) {
        if (request.getInputsCount() != 1) {
            throw DistilleryException.invalid("ModelInfer takes exactly one input tensor, got %d: send %s",
                    request.getInputsCount(), ACCEPTED);
        }
        InferInputTensor input = request.getInputs(0);
        boolean raw = request.getRawInputContentsCount() > 0;
        if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
            throw DistilleryException.invalid("raw_input_contents has %d entries for %d input tensor: send one per "
                    + "input, in the order of inputs", request.getRawInputContentsCount(), request.getInputsCount());
        }
        if (raw && input.hasContents()) {
            throw DistilleryException.invalid("input '%s' sets contents and the request sets raw_input_contents: "
                    + "use one or the other", input.getName());
        }
        ByteString rawContents = raw ? request.getRawInputContents(0) : null;
        return switch (input.getName()) {
            case INPUT -> tensors(input, rawContents);
            case IMAGE -> images(input, rawContents);
            default -> throw DistilleryException.invalid("unexpected input '%s' for model '%s': send %s",
                    input.getName(), request.getModelName(), ACCEPTED);
        };
    }

    private static List<ModelInput> tensors(InferInputTensor input, ByteString raw) {
        checkDatatype(input, FP32);
        long[] shape = shape(input);
        if (shape.length != 4) {
            throw DistilleryException.invalid("input '%s' must have shape [batch, channels, height, width] (ModelMetadata "
                    + "gives the last three), got %s", INPUT, Arrays.toString(shape));
        }
        long count = elements(shape);
        float[] values;
        if (raw != null) {
            values = RawContents.floats(raw, INPUT, count);
        } else if (input.getContents().getFp32ContentsCount() != count) {
            throw DistilleryException.invalid("input '%s' of shape %s needs %d values in contents.fp32_contents, got %d",
                    INPUT, Arrays.toString(shape), count, input.getContents().getFp32ContentsCount());
        } else {
            values = new float[(int) count];
            for (int i = 0; i < values.length; i++) {
                values[i] = input.getContents().getFp32Contents(i);
            }
        }
        long[] row = Arrays.copyOfRange(shape, 1, 4);
        int rowSize = (int) elements(row);
        List<ModelInput> rows = new ArrayList<>((int) shape[0]);
        for (int i = 0; i < shape[0]; i++) {
            rows.add(new ModelInput.Tensor(row, Arrays.copyOfRange(values, i * rowSize, (i + 1) * rowSize)));
        }
        return rows;
    }

    private static List<ModelInput> images(InferInputTensor input, ByteString raw) {
        checkDatatype(input, BYTES);
        long[] shape = shape(input);
        if (shape.length == 0 || shape.length > 2 || (shape.length == 2 && shape[1] != 1)) {
            throw DistilleryException.invalid("input '%s' must have shape [batch] or [batch, 1], one encoded image per "
                    + "element, got %s", IMAGE, Arrays.toString(shape));
        }
        List<ByteString> elements = raw != null ? RawContents.elements(raw, IMAGE) : input.getContents().getBytesContentsList();
        if (elements.size() != shape[0]) {
            throw DistilleryException.invalid("input '%s' of shape %s needs %d images, got %d in %s", IMAGE,
                    Arrays.toString(shape), shape[0], elements.size(),
                    raw != null ? "raw_input_contents" : "contents.bytes_contents");
        }
        return elements.stream().<ModelInput>map(image -> new ModelInput.Image(image.toByteArray())).toList();
    }

    private static void checkDatatype(InferInputTensor input, String expected) {
        if (!input.getDatatype().equals(expected)) {
            throw DistilleryException.invalid("input '%s' has datatype '%s'; it takes %s", input.getName(),
                    input.getDatatype(), expected);
        }
    }

    private static long[] shape(InferInputTensor input) {
        long[] shape = input.getShapeList().stream().mapToLong(Long::longValue).toArray();
        if (Arrays.stream(shape).anyMatch(dim -> dim < 0)) {
            throw DistilleryException.invalid("input '%s' has a negative dimension in its shape %s", input.getName(),
                    Arrays.toString(shape));
        }
        return shape;
    }

    /** The element count of a shape; refused when it cannot fit one message's array. */
    private static long elements(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            if (dim != 0 && count > Integer.MAX_VALUE / dim) {
                throw DistilleryException.invalid("a tensor of shape %s has more elements than one request can carry",
                        Arrays.toString(shape));
            }
            count *= dim;
        }
        return count;
    }
}
