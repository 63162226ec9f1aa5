package dev.distillery.serve.oip;

import static dev.distillery.serve.oip.ModelSignature.BYTES;
import static dev.distillery.serve.oip.ModelSignature.CLASSIFICATION;
import static dev.distillery.serve.oip.ModelSignature.FP32;
import static dev.distillery.serve.oip.ModelSignature.LOGITS;
import static dev.distillery.serve.oip.ModelSignature.PROBABILITIES;

import dev.distillery.error.DistilleryException;
import dev.distillery.inference.InferParameter;
import dev.distillery.inference.ModelInferRequest;
import dev.distillery.inference.ModelInferRequest.InferRequestedOutputTensor;
import dev.distillery.inference.ModelInferResponse;
import dev.distillery.serve.ClassScore;
import dev.distillery.serve.LoadedModel;
import dev.distillery.serve.Predictor;
import dev.distillery.serve.Softmax;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The outputs a ModelInfer request asks for, and their tensors built from the model's logits. Values travel
 * in {@code raw_output_contents}, as Triton sends them. With the classification extension (an output
 * requested with the int64 parameter {@value ModelSignature#CLASSIFICATION} = k) that output comes back as
 * BYTES {@code [batch, min(k, classes)]}, each element {@code "<value>:<index>:<label>"} for the k highest
 * values of the output, highest first; {@code <value>} is printed as C's {@code %f} prints it (Triton's
 * format).
 */
final class InferOutputs {

    /** An output to return: its values, or its top {@code classes} classes when that is above 0. */
    record Requested(String name, int classes) {}

    private static final List<Requested> ALL = List.of(new Requested(LOGITS, 0), new Requested(PROBABILITIES, 0));

    private InferOutputs() {}

    /** The outputs {@code request} asks for; every output when it names none. */
    static List<Requested> requested(ModelInferRequest request) {
        if (request.getOutputsCount() == 0) {
            return ALL;
        }
        List<Requested> outputs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (InferRequestedOutputTensor output : request.getOutputsList()) {
            if (!output.getName().equals(LOGITS) && !output.getName().equals(PROBABILITIES)) {
                throw DistilleryException.invalid("unexpected output '%s' for model '%s': the outputs are '%s' and '%s'",
                        output.getName(), request.getModelName(), LOGITS, PROBABILITIES);
            }
            if (!seen.add(output.getName())) {
                throw DistilleryException.invalid("output '%s' is requested twice", output.getName());
            }
            outputs.add(new Requested(output.getName(), classification(output)));
        }
        return outputs;
    }

    private static int classification(InferRequestedOutputTensor output) {
        int classes = 0;
        for (Map.Entry<String, InferParameter> parameter : output.getParametersMap().entrySet()) {
            if (!parameter.getKey().equals(CLASSIFICATION)) {
                throw DistilleryException.invalid("output '%s': parameter '%s' is not supported; the one output "
                        + "parameter is '%s' (int64_param, the number of top classes)", output.getName(),
                        parameter.getKey(), CLASSIFICATION);
            }
            InferParameter value = parameter.getValue();
            if (value.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.INT64_PARAM
                    || value.getInt64Param() < 1) {
                throw DistilleryException.invalid("output '%s': parameter '%s' must be an int64_param >= 1 (the number "
                        + "of top classes), got %s", output.getName(), CLASSIFICATION,
                        value.toString().isBlank() ? "no value" : value.toString().trim());
            }
            classes = (int) Math.min(value.getInt64Param(), Integer.MAX_VALUE);
        }
        return classes;
    }

    /** Adds the {@code outputs} of {@code scores} to {@code response}, in the order requested. */
    static void write(Predictor.Scores scores, List<Requested> outputs, ModelInferResponse.Builder response) {
        LoadedModel model = scores.model();
        int classes = model.classes();
        for (Requested output : outputs) {
            float[] values = output.name().equals(LOGITS) ? scores.logits() : probabilities(scores);
            ModelInferResponse.InferOutputTensor.Builder tensor = response.addOutputsBuilder()
                    .setName(output.name())
                    .addShape(scores.rows());
            if (output.classes() == 0) {
                tensor.setDatatype(FP32).addShape(classes);
                response.addRawOutputContents(RawContents.floats(values));
            } else {
                int k = Math.min(output.classes(), classes);
                tensor.setDatatype(BYTES).addShape(k);
                response.addRawOutputContents(RawContents.strings(topClasses(values, scores.rows(), k, model)));
            }
        }
    }

    private static float[] probabilities(Predictor.Scores scores) {
        int classes = scores.model().classes();
        float[] out = new float[scores.logits().length];
        for (int row = 0; row < scores.rows(); row++) {
            System.arraycopy(Softmax.of(scores.logits(), row * classes, classes), 0, out, row * classes, classes);
        }
        return out;
    }

    private static List<String> topClasses(float[] values, int rows, int k, LoadedModel model) {
        int classes = model.classes();
        List<String> elements = new ArrayList<>(rows * k);
        for (int row = 0; row < rows; row++) {
            float[] rowValues = new float[classes];
            System.arraycopy(values, row * classes, rowValues, 0, classes);
            for (ClassScore score : Predictor.topK(rowValues, k, model.info().getLabelsList())) {
                elements.add(String.format(Locale.ROOT, "%f:%d:%s", score.probability(), score.index(), score.label()));
            }
        }
        return elements;
    }
}
